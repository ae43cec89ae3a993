package search

import (
	"context"
	"fmt"
	"time"

	"github.com/HamiGames/lucid-data/health"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Health is a snapshot of the cluster and of the SDK's indices.
type Health struct {
	Product          Product
	Version          string
	ClusterName      string
	Status           string // "green", "yellow" or "red"
	Nodes            int
	DataNodes        int
	ActiveShards     int
	UnassignedShards int
	ILM, ISM         bool // lifecycle plugins the engine offers
	// Indices maps each index under the SDK's prefix ("{prefix}lucid-*")
	// to its statistics.
	Indices map[string]IndexStats
}

// IndexStats are an index's primary-shard statistics.
type IndexStats struct {
	Docs      int64
	Deleted   int64
	SizeBytes int64
}

// Health returns cluster health, version, node count and per-index stats
// (for a health endpoint's one shape, use Check).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var ch struct {
		ClusterName      string `json:"cluster_name"`
		Status           string `json:"status"`
		Nodes            int    `json:"number_of_nodes"`
		DataNodes        int    `json:"number_of_data_nodes"`
		ActiveShards     int    `json:"active_shards"`
		UnassignedShards int    `json:"unassigned_shards"`
	}
	if err := c.call(ctx, "health", "", esapi.ClusterHealthRequest{}, &ch); err != nil {
		return nil, err
	}
	h := &Health{
		Product: c.product, Version: c.version, ClusterName: ch.ClusterName, Status: ch.Status,
		Nodes: ch.Nodes, DataNodes: ch.DataNodes, ActiveShards: ch.ActiveShards,
		UnassignedShards: ch.UnassignedShards, ILM: c.ilm, ISM: c.ism,
		Indices: map[string]IndexStats{},
	}
	var st struct {
		Indices map[string]struct {
			Primaries struct {
				Docs struct {
					Count   int64 `json:"count"`
					Deleted int64 `json:"deleted"`
				} `json:"docs"`
				Store struct {
					Size int64 `json:"size_in_bytes"`
				} `json:"store"`
			} `json:"primaries"`
		} `json:"indices"`
	}
	pattern := c.cfg.IndexPrefix + "lucid-*"
	if err := c.call(ctx, "health", pattern, esapi.IndicesStatsRequest{
		Index: []string{seg(pattern)}, Metric: []string{"docs", "store"},
	}, &st); err != nil {
		return nil, err
	}
	for name, s := range st.Indices {
		h.Indices[name] = IndexStats{Docs: s.Primaries.Docs.Count, Deleted: s.Primaries.Docs.Deleted, SizeBytes: s.Primaries.Store.Size}
	}
	return h, nil
}

// Ping asks the engine GET / and returns nil when it answers 2xx: the
// cheapest proof that the cluster is reachable with these credentials.
func (c *Client) Ping(ctx context.Context) error {
	return c.call(ctx, "ping", "", raw("GET", "/", nil, nil), nil)
}

// Check reports the cluster's health in the SDK's one shape, for
// health.Aggregator: green is health.Up, yellow (replicas unassigned; every
// primary serves) health.Degraded, red or an unreachable engine
// health.Down. Version is "{product} {version}" ("opensearch 2.19.1");
// Details hold cluster_name, status, nodes, data_nodes, active_shards and
// unassigned_shards. Check honours ctx's deadline and never reports
// credentials.
func (c *Client) Check(ctx context.Context) health.Report {
	start := time.Now()
	var ch struct {
		ClusterName      string `json:"cluster_name"`
		Status           string `json:"status"`
		Nodes            int    `json:"number_of_nodes"`
		DataNodes        int    `json:"number_of_data_nodes"`
		ActiveShards     int    `json:"active_shards"`
		UnassignedShards int    `json:"unassigned_shards"`
	}
	err := c.call(ctx, "check", "", esapi.ClusterHealthRequest{}, &ch)
	lat := time.Since(start)
	if err != nil {
		return health.DownReport(err, lat)
	}
	r := health.Report{
		Latency: lat,
		Version: string(c.product) + " " + c.version,
		Details: map[string]any{
			"cluster_name": ch.ClusterName, "status": ch.Status, "nodes": ch.Nodes, "data_nodes": ch.DataNodes,
			"active_shards": ch.ActiveShards, "unassigned_shards": ch.UnassignedShards,
		},
	}
	switch ch.Status {
	case "green":
		r.Status = health.Up
	case "yellow":
		r.Status = health.Degraded
		r.Err = &Error{Op: "check", Reason: fmt.Sprintf("cluster %s is yellow: %d shards unassigned", ch.ClusterName, ch.UnassignedShards), kind: ErrUnavailable}
	default:
		r.Status = health.Down
		r.Err = &Error{Op: "check", Reason: fmt.Sprintf("cluster %s is %q", ch.ClusterName, ch.Status), kind: ErrUnavailable}
	}
	return r
}
