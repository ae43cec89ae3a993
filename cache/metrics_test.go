//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// sums reads every Int64 sum point of rm as "name{k=v,...}" -> value.
func sums(rm metricdata.ResourceMetrics) map[string]int64 {
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name+labels(p.Attributes)] += p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name+labels(p.Attributes)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name+labels(p.Attributes)] += int64(p.Count)
				}
			}
		}
	}
	return out
}

func labels(s attribute.Set) string {
	var b []byte
	for _, kv := range s.ToSlice() {
		switch kv.Key {
		case "decision", "source", "result", "cause", "lucid.error.kind", "db.operation", "state", "status", "type":
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(b, string(kv.Key)+"="+kv.Value.String()...)
		}
	}
	if len(b) == 0 {
		return ""
	}
	return "{" + string(b) + "}"
}

// TestMetrics drives a limiter to a denial, a lock to contention and to a
// lost lease, then stops Redis: the SDK's counters and redisotel's pool and
// latency instruments read back from a manual reader with those values.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })
	c, err := cache.Connect(ctx, cache.Config{URL: p.URL(), MeterProvider: mp})
	noErr(t, err)
	t.Cleanup(func() { _ = c.Close() })

	lim, err := c.Limiter(cache.LimiterOptions{FailurePolicy: cache.FailClosed})
	noErr(t, err)
	for i, want := range []bool{true, false} {
		r, err := lim.Allow(ctx, "user-17", 1, time.Minute)
		noErr(t, err)
		if r.Allowed != want {
			t.Fatalf("Allow %d: %v", i, r.Allowed)
		}
	}
	locks, err := c.Locker(cache.LockerOptions{})
	noErr(t, err)
	held, err := locks.Obtain(ctx, "job", cache.LockOptions{TTL: 200 * time.Millisecond, NoWatchdog: true})
	noErr(t, err)
	if _, err := locks.Obtain(ctx, "job", cache.LockOptions{}); !errors.Is(err, cache.ErrLockNotObtained) {
		t.Fatalf("second Obtain: %v", err)
	}
	select {
	case <-held.Context().Done(): // the lease ends: lost (expired)
	case <-time.After(5 * time.Second):
		t.Fatal("lease without watchdog never ended")
	}

	kv, err := c.Cache(cache.CacheOptions{})
	noErr(t, err)
	p.Stop()
	if _, err := kv.Get(ctx, "lucid:test:metrics:k"); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Get with Redis stopped: %v", err)
	}
	if r, err := lim.Allow(ctx, "user-17", 1, time.Minute); err == nil || r.Allowed {
		t.Fatalf("Allow with Redis stopped, fail closed: %v %v", r.Allowed, err)
	}

	var rm metricdata.ResourceMetrics
	noErr(t, reader.Collect(ctx, &rm))
	got := sums(rm)
	want := map[string]int64{
		"lucid.cache.limiter.decisions{decision=admitted,source=redis}": 1,
		"lucid.cache.limiter.decisions{decision=denied,source=redis}":   1,
		"lucid.cache.limiter.decisions{decision=denied,source=policy}":  1,
		"lucid.cache.lock.obtains{result=obtained}":                     1,
		"lucid.cache.lock.obtains{result=not_obtained}":                 1,
		"lucid.cache.lock.contended":                                    1,
		"lucid.cache.lock.losses{cause=expired}":                        1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	if got["lucid.redis.command.errors{db.operation=get,lucid.error.kind=unavailable}"] < 1 {
		t.Errorf("no unavailable get counted: %v", got)
	}
	var pool, use bool
	for k := range got {
		pool = pool || len(k) > 29 && k[:29] == "db.client.connections.usage{s"
		use = use || len(k) >= 31 && k[:31] == "db.client.connections.use_time{"
	}
	if !pool || !use {
		t.Errorf("redisotel's pool usage (%v) or use_time (%v) missing: %v", pool, use, got)
	}
	t.Logf("metrics: %v", got)
}
