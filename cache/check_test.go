//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

func TestCheckUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, newBackend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newBackend(t).Check(ctx)
			if r.Status != health.Up || r.Err != nil || r.Version == "" || r.Details["role"] == nil {
				t.Fatalf("%s: %+v", name, r)
			}
			switch name {
			case "memory":
				return
			case "cluster":
				if r.Details["role"] != "cluster" || r.Details["nodes"] != 3 || r.Details["nodes_down"] != 0 {
					t.Fatalf("cluster details %v", r.Details)
				}
			default:
				if r.Details["role"] != "master" || r.Details["nodes"] != 1 {
					t.Fatalf("details %v", r.Details)
				}
			}
			if !strings.HasPrefix(r.Version, "Redis ") && !strings.HasPrefix(r.Version, "Valkey ") || r.Latency <= 0 ||
				r.Details["used_memory_bytes"].(int64) <= 0 || r.Details["connected_clients"].(int64) < 1 {
				t.Fatalf("report %+v", r)
			}
		})
	}
}

// TestCheckDegradedDown: a node at 90 % of its maxmemory is Degraded, a
// stopped one Down with kind Unavailable, and a Cluster with one master
// silent while the others answer is Degraded.
func TestCheckDegradedDown(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	c, err := cache.Connect(ctx, cache.Config{URL: p.URL()})
	noErr(t, err)
	defer c.Close()
	info, err := c.Redis().Info(ctx, "memory").Result()
	noErr(t, err)
	var n cache.NodeHealth
	cache.ParseInfo(info, &n)
	// used_memory grows a little with the next commands: 95 % leaves room.
	noErr(t, c.Redis().ConfigSet(ctx, "maxmemory", strconv.FormatInt(n.UsedMemory*100/95, 10)).Err())
	if r := c.Check(ctx); r.Status != health.Degraded || r.Err == nil || r.Details["max_memory_percent"].(float64) < 90 {
		t.Fatalf("near maxmemory: %+v", r)
	}
	noErr(t, c.Redis().ConfigSet(ctx, "maxmemory", strconv.FormatInt(n.UsedMemory*10, 10)).Err())
	if r := c.Check(ctx); r.Status != health.Up {
		t.Fatalf("at 10%% of maxmemory: %+v", r)
	}
	p.Stop()
	if r := c.Check(ctx); r.Status != health.Down || errkind.Of(r.Err) != errkind.Unavailable {
		t.Fatalf("stopped: %+v (kind %v)", r, errkind.Of(r.Err))
	}

	silent := fmt.Errorf("cache: node 10.0.0.3:7002: %w", cache.ErrUnavailable)
	r := cache.TestenvReportOf(cache.Health{Nodes: []cache.NodeHealth{{Version: "7.0.15", Product: "Redis", Role: "master"}, {Role: "master"}}}, []error{silent}, true)
	if r.Status != health.Degraded || !errors.Is(r.Err, cache.ErrUnavailable) || r.Details["nodes"] != 3 || r.Details["nodes_down"] != 1 || r.Version != "Redis 7.0.15" {
		t.Fatalf("one master silent: %+v", r)
	}
	if r := cache.TestenvReportOf(cache.Health{}, []error{silent, silent}, true); r.Status != health.Down {
		t.Fatalf("all masters silent: %+v", r)
	}
}

func TestFromEnv(t *testing.T) {
	for _, k := range []string{cache.EnvURL, cache.EnvURLFallback, cache.EnvAddrs, cache.EnvMasterName, cache.EnvCluster,
		cache.EnvUsername, cache.EnvPassword, cache.EnvSentinelPassword, cache.EnvDB} {
		t.Setenv(k, "")
	}
	t.Setenv(cache.EnvURLFallback, "redis://fallback:6379/0")
	cfg, err := cache.FromEnv()
	if err != nil || cfg.URL != "redis://fallback:6379/0" {
		t.Fatalf("fallback: %+v, %v", cfg, err)
	}
	t.Setenv(cache.EnvURL, testenv.RedisURL(t))
	t.Setenv(cache.EnvPassword, "")
	cfg, err = cache.FromEnv()
	noErr(t, err)
	c, err := cache.Connect(context.Background(), cfg)
	noErr(t, err)
	noErr(t, c.Ping(context.Background()))
	noErr(t, c.Close())

	t.Setenv(cache.EnvURL, "")
	t.Setenv(cache.EnvAddrs, " a:1, b:2 ,")
	t.Setenv(cache.EnvMasterName, "mymaster")
	t.Setenv(cache.EnvSentinelPassword, "sekrit")
	t.Setenv(cache.EnvDB, "3")
	cfg, err = cache.FromEnv()
	if err != nil || cfg.URL != "" || len(cfg.Addrs) != 2 || cfg.Addrs[1] != "b:2" || cfg.MasterName != "mymaster" || cfg.SentinelPassword != "sekrit" || cfg.DB != 3 {
		t.Fatalf("addrs: %+v, %v", cfg, err)
	}
	for k, v := range map[string]string{cache.EnvDB: "-1", cache.EnvCluster: "sekrit"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, v)
			if _, err := cache.FromEnv(); !errors.Is(err, cache.ErrInvalid) || !strings.Contains(err.Error(), k) || containsSecret(err) {
				t.Fatalf("%s=%s: %v", k, v, err)
			}
		})
	}
	t.Setenv(cache.EnvURL, "redis://:sekrit@x:1/0")
	if _, err := cache.FromEnv(); !errors.Is(err, cache.ErrInvalid) || containsSecret(err) {
		t.Fatalf("URL and addrs: %v", err)
	}
}
