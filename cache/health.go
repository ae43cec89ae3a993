package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/health"
)

// NodeHealth describes one Redis server.
type NodeHealth struct {
	Addr             string
	Latency          time.Duration // PING round trip
	Product          string        // "Redis" or "Valkey"
	Version          string        // redis_version (or valkey_version)
	Role             string        // master, slave
	UsedMemory       int64         // bytes
	MaxMemory        int64         // bytes; 0 = no limit
	ConnectedClients int64
	UptimeSeconds    int64
}

// Health is a snapshot of a deployment: one node, or every master of a
// Cluster.
type Health struct {
	Nodes []NodeHealth
}

// Health pings every node (every master of a Cluster) and reads INFO.
func (c *Client) Health(ctx context.Context) (Health, error) {
	if err := c.open("health"); err != nil {
		return Health{}, err
	}
	return CheckHealth(ctx, c.rdb)
}

// CheckHealth is Client.Health for any go-redis client. It fails with
// the first node's error.
func CheckHealth(ctx context.Context, rdb redis.UniversalClient) (Health, error) {
	h, errs, err := probeAll(ctx, rdb)
	if err == nil {
		err = errors.Join(errs...)
	}
	return h, err
}

// probeNode pings one node and reads its INFO.
func probeNode(ctx context.Context, c redis.Cmdable, addr string) (NodeHealth, error) {
	start := time.Now()
	if err := c.Ping(ctx).Err(); err != nil {
		return NodeHealth{Addr: addr, Latency: time.Since(start)}, wrapErr(ctx, "health ping", err)
	}
	n := NodeHealth{Addr: addr, Latency: time.Since(start)}
	info, err := c.Info(ctx, "server", "replication", "memory", "clients").Result()
	if err != nil {
		return n, wrapErr(ctx, "health info", err)
	}
	ParseInfo(info, &n)
	return n, nil
}

// probeAll probes every node (every master of a Cluster): the nodes that
// answered, the errors of those that did not (addr in the message), and
// err when the deployment could not even be enumerated.
func probeAll(ctx context.Context, rdb redis.UniversalClient) (h Health, nodeErrs []error, err error) {
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := probeNode(ctx, c, c.Options().Addr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				nodeErrs = append(nodeErrs, fmt.Errorf("cache: node %s: %w", n.Addr, err))
				return nil // the other masters still report
			}
			h.Nodes = append(h.Nodes, n)
			return nil
		})
		return h, nodeErrs, wrapErr(ctx, "health", err)
	}
	addr := ""
	if c, ok := rdb.(*redis.Client); ok {
		addr = c.Options().Addr
	}
	n, err := probeNode(ctx, rdb, addr)
	if err != nil {
		return h, nil, err
	}
	h.Nodes = []NodeHealth{n}
	return h, nil, nil
}

// MemoryDegradedPercent is the share of maxmemory at which Check reports
// a node Degraded: Redis evicts (a cache) or refuses writes (noeviction,
// as locks, limiters and sessions want) once used_memory reaches
// maxmemory, and 90 % leaves an operator time to act.
const MemoryDegradedPercent = 90

// Check reports the health of the deployment in the SDK's one shape, for
// a health.Aggregator:
//
//   - Up: every node (every master of a Cluster) answered PING and INFO
//     and none uses MemoryDegradedPercent or more of its maxmemory;
//   - Degraded: every node answered but one is at or above that share of
//     its maxmemory, or some masters of a Cluster did not answer while
//     others did (keys on the answering masters are still served; Err
//     names the silent nodes);
//   - Down: no node answered (Err wraps ErrUnavailable), the Client is
//     closed (ErrClosed), or ctx ended (its error).
//
// Latency is the slowest node's PING round trip; Version the product and
// version of the first node ("Redis 7.0.15"). Details: "role" (master,
// slave; "cluster" on a Cluster), "nodes" and "nodes_down",
// "used_memory_bytes" and "connected_clients" summed over the nodes that
// answered, "max_memory_percent" (the highest share of maxmemory a node
// uses; absent when no node has a maxmemory). No address, user or
// password appears in a Report.
func (c *Client) Check(ctx context.Context) health.Report {
	if err := c.open("check"); err != nil {
		return health.DownReport(err, 0)
	}
	start := time.Now()
	h, nodeErrs, err := probeAll(ctx, c.rdb)
	if err != nil {
		return health.DownReport(err, time.Since(start))
	}
	_, cluster := c.rdb.(*redis.ClusterClient)
	return reportOf(h, nodeErrs, cluster)
}

// reportOf turns probe results into a Report (see Client.Check).
func reportOf(h Health, nodeErrs []error, cluster bool) health.Report {
	if len(h.Nodes) == 0 {
		err := errors.Join(nodeErrs...)
		if err == nil {
			err = fmt.Errorf("cache: check: no node answered: %w", ErrUnavailable)
		}
		return health.DownReport(err, 0)
	}
	r := health.Report{Status: health.Up, Details: map[string]any{}}
	var used, clients int64
	maxPct := -1.0
	for i, n := range h.Nodes {
		if i == 0 {
			r.Version = strings.TrimSpace(n.Product + " " + n.Version)
			r.Details["role"] = n.Role
		}
		r.Latency = max(r.Latency, n.Latency)
		used += n.UsedMemory
		clients += n.ConnectedClients
		if n.MaxMemory > 0 {
			pct := float64(n.UsedMemory) * 100 / float64(n.MaxMemory)
			maxPct = max(maxPct, pct)
			if pct >= MemoryDegradedPercent {
				r.Status = health.Degraded
				r.Err = errors.Join(r.Err, fmt.Errorf("cache: check: a node uses %.0f%% of its maxmemory (degraded from %d%%)", pct, MemoryDegradedPercent))
			}
		}
	}
	if cluster {
		r.Details["role"] = "cluster"
	}
	r.Details["nodes"] = len(h.Nodes) + len(nodeErrs)
	r.Details["nodes_down"] = len(nodeErrs)
	r.Details["used_memory_bytes"] = used
	r.Details["connected_clients"] = clients
	if maxPct >= 0 {
		r.Details["max_memory_percent"] = maxPct
	}
	if len(nodeErrs) > 0 {
		r.Status = health.Degraded
		r.Err = errors.Join(append([]error{r.Err}, nodeErrs...)...)
	}
	return r
}

// Check reports the Memory's health: Up with Version "lucid-data memory"
// and the number of keys it holds ("keys"), or Down once closed or when
// ctx has ended.
func (m *Memory) Check(ctx context.Context) health.Report {
	start := time.Now()
	if err := m.alive(ctx, "check"); err != nil {
		return health.DownReport(err, 0)
	}
	m.mu.Lock()
	keys := len(m.kv) + len(m.sessions) + len(m.rl) + len(m.streams)
	m.mu.Unlock()
	return health.Report{Status: health.Up, Latency: time.Since(start), Version: "lucid-data memory",
		Details: map[string]any{"role": "memory", "keys": keys}}
}

// ParseInfo fills n from the text of an INFO reply. Unknown or malformed
// lines are ignored: INFO comes from the server and its format varies
// between versions.
func ParseInfo(info string, n *NodeHealth) {
	num := func(v string) int64 {
		i, _ := strconv.ParseInt(v, 10, 64)
		return i
	}
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "redis_version":
			if n.Version == "" {
				n.Product, n.Version = "Redis", v
			}
		case "valkey_version":
			n.Product, n.Version = "Valkey", v
		case "role":
			n.Role = v
		case "used_memory":
			n.UsedMemory = num(v)
		case "maxmemory":
			n.MaxMemory = num(v)
		case "connected_clients":
			n.ConnectedClients = num(v)
		case "uptime_in_seconds":
			n.UptimeSeconds = num(v)
		}
	}
}
