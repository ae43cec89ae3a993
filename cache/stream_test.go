//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

func TestStreamBadGroup(t *testing.T) {
	t.Parallel()
	_, err := cache.NewRedisStream(context.Background(), testenv.Redis(t), testenv.Namespace(t), cache.StreamOptions{})
	if !errors.Is(err, cache.ErrInvalid) {
		t.Fatalf("no group: %v", err)
	}
}

func TestHealth(t *testing.T) {
	ctx := context.Background()
	h, err := cache.CheckHealth(ctx, testenv.Redis(t))
	noErr(t, err)
	if len(h.Nodes) != 1 || h.Nodes[0].Version == "" || h.Nodes[0].Role != "master" || h.Nodes[0].UsedMemory <= 0 || h.Nodes[0].ConnectedClients < 1 || h.Nodes[0].Latency <= 0 {
		t.Fatalf("health %+v", h)
	}
	c := cache.NewClient(testenv.RedisCluster(t), nil)
	h, err = c.Health(ctx)
	noErr(t, err)
	if len(h.Nodes) != 3 {
		t.Fatalf("cluster health has %d nodes, want 3 masters: %+v", len(h.Nodes), h)
	}
	for _, n := range h.Nodes {
		if n.Addr == "" || !strings.Contains(n.Version, ".") || n.Role != "master" {
			t.Fatalf("node %+v", n)
		}
	}
}

func TestParseInfo(t *testing.T) {
	t.Parallel()
	var n cache.NodeHealth
	cache.ParseInfo("# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:12\r\n# Replication\r\nrole:slave\r\nused_memory:1024\r\nconnected_clients:3\r\nmaxmemory:0\r\ngarbage\r\n", &n)
	if n.Version != "7.0.15" || n.Role != "slave" || n.UsedMemory != 1024 || n.ConnectedClients != 3 || n.UptimeSeconds != 12 {
		t.Fatalf("%+v", n)
	}
}
