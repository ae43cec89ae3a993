package search

import (
	"context"

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

// Health returns cluster health, version, node count and per-index stats.
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
