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
	var n cache.NodeHealth
	cache.ParseInfo("# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:12\r\n# Replication\r\nrole:slave\r\nused_memory:1024\r\nconnected_clients:3\r\nmaxmemory:0\r\ngarbage\r\n", &n)
	if n.Version != "7.0.15" || n.Role != "slave" || n.UsedMemory != 1024 || n.ConnectedClients != 3 || n.UptimeSeconds != 12 {
		t.Fatalf("%+v", n)
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add("redis_version:7.0.15\r\nrole:master\r\nused_memory:1\r\n")
	f.Add("::\n:\nrole:\nused_memory:-99999999999999999999\n")
	f.Fuzz(func(t *testing.T, s string) {
		var n cache.NodeHealth
		cache.ParseInfo(s, &n)
	})
}

// FuzzSessionToken feeds arbitrary bearer tokens (untrusted HTTP input)
// to a session store: the answer is ErrInvalid or ErrNotFound, never a
// panic or another error.
func FuzzSessionToken(f *testing.F) {
	s, err := cache.NewMemory().Sessions(cache.SessionOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add("{tag}" + strings.Repeat("-", 60))
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := s.Get(context.Background(), tok)
		if !errors.Is(err, cache.ErrInvalid) && !errors.Is(err, cache.ErrNotFound) {
			t.Fatalf("token %q: %v", tok, err)
		}
	})
}
