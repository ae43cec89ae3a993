//go:build !lucidfuzz

package cacheprom_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/cache/cacheprom"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestCollector: after a few commands on the test Redis the pool's hits,
// misses and connections read back through a registry, labelled.
func TestCollector(t *testing.T) {
	ctx := context.Background()
	c, err := cache.Connect(ctx, cache.Config{URL: testenv.RedisURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	kv, err := c.Cache(cache.CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := kv.Set(ctx, "lucid:test:cacheprom:k", []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(cacheprom.NewCollector(c, "main")); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != "main" {
				t.Errorf("%s labels %v", mf.GetName(), m.GetLabel())
			}
			if m.GetCounter() != nil {
				vals[mf.GetName()] = m.GetCounter().GetValue()
			} else {
				vals[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	if len(vals) != 9 || vals["lucid_redis_pool_hits_total"] < 4 || vals["lucid_redis_pool_misses_total"] < 1 || vals["lucid_redis_pool_connections"] < 1 {
		t.Fatalf("metrics %v", vals)
	}
	t.Logf("metrics %v", vals)
}
