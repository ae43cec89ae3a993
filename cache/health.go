package cache

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeHealth describes one Redis server.
type NodeHealth struct {
	Addr             string
	Latency          time.Duration // PING round trip
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
	return CheckHealth(ctx, c.rdb)
}

// CheckHealth is Client.Health for any go-redis client.
func CheckHealth(ctx context.Context, rdb redis.UniversalClient) (Health, error) {
	probe := func(ctx context.Context, c redis.Cmdable, addr string) (NodeHealth, error) {
		start := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			return NodeHealth{}, wrapErr(ctx, "health ping", err)
		}
		n := NodeHealth{Addr: addr, Latency: time.Since(start)}
		info, err := c.Info(ctx, "server", "replication", "memory", "clients").Result()
		if err != nil {
			return n, wrapErr(ctx, "health info", err)
		}
		ParseInfo(info, &n)
		return n, nil
	}
	var h Health
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := probe(ctx, c, c.Options().Addr)
			if err != nil {
				return err
			}
			mu.Lock()
			h.Nodes = append(h.Nodes, n)
			mu.Unlock()
			return nil
		})
		return h, err
	}
	addr := ""
	if c, ok := rdb.(*redis.Client); ok {
		addr = c.Options().Addr
	}
	n, err := probe(ctx, rdb, addr)
	if err != nil {
		return h, err
	}
	h.Nodes = []NodeHealth{n}
	return h, nil
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
				n.Version = v
			}
		case "valkey_version":
			n.Version = v
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
