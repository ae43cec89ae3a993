package cache_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

func TestStream(t *testing.T) {
	for name, rdb := range map[string]func(t *testing.T) redis.UniversalClient{
		"Redis":   func(t *testing.T) redis.UniversalClient { return testenv.Redis(t) },
		"Cluster": func(t *testing.T) redis.UniversalClient { return testenv.RedisCluster(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r := rdb(t)
			ns := testenv.Namespace(t)
			a, err := cache.NewRedisStream(ctx, r, ns, cache.StreamOptions{Group: "g", Consumer: "a", Block: 200 * time.Millisecond})
			noErr(t, err)
			b, err := cache.NewRedisStream(ctx, r, ns, cache.StreamOptions{Group: "g", Consumer: "b", Block: 200 * time.Millisecond})
			noErr(t, err)
			for _, m := range []string{"m1", "m2", "m3"} {
				_, err := a.Add(ctx, []byte(m))
				noErr(t, err)
			}
			got, err := a.Read(ctx, 2)
			noErr(t, err)
			if len(got) != 2 || string(got[0].Payload) != "m1" {
				t.Fatalf("read %+v", got)
			}
			noErr(t, a.Ack(ctx, got[0].ID))
			// a "crashes" holding m2; b reads m3 and then claims m2.
			got3, err := b.Read(ctx, 10)
			noErr(t, err)
			if len(got3) != 1 || string(got3[0].Payload) != "m3" {
				t.Fatalf("b read %+v", got3)
			}
			noErr(t, b.Ack(ctx, got3[0].ID))
			if n, err := b.Pending(ctx); err != nil || n != 1 {
				t.Fatalf("pending = %d, %v", n, err)
			}
			time.Sleep(50 * time.Millisecond)
			claimed, err := b.Claim(ctx, 20*time.Millisecond, 10)
			noErr(t, err)
			if len(claimed) != 1 || string(claimed[0].Payload) != "m2" {
				t.Fatalf("claimed %+v", claimed)
			}
			noErr(t, b.Ack(ctx, claimed[0].ID))
			if n, err := b.Pending(ctx); err != nil || n != 0 {
				t.Fatalf("pending after ack = %d, %v", n, err)
			}
			none, err := b.Read(ctx, 10) // blocks 200ms, nothing new
			if err != nil || len(none) != 0 {
				t.Fatalf("empty read = %+v, %v", none, err)
			}
			short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
			defer cancel()
			time.Sleep(10 * time.Millisecond)
			if _, err := b.Read(short, 1); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read past deadline: %v", err)
			}
			_, err = cache.NewRedisStream(ctx, r, ns, cache.StreamOptions{})
			if !errors.Is(err, cache.ErrInvalid) {
				t.Fatalf("no group: %v", err)
			}
		})
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
