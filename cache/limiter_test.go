//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestLimiterEveryShard flushes the script cache of every master, then
// limits keys spread over all slots: EVALSHA falls back to EVAL on each
// shard, and LoadScripts preloads all of them.
func TestLimiterEveryShard(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.RedisCluster(t)
	l, err := cache.NewRedisLimiter(rdb, cache.LimiterOptions{Entity: testenv.Namespace(t)})
	noErr(t, err)
	flush := func() {
		noErr(t, rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.ScriptFlush(ctx).Err() }))
	}
	shards := map[string]bool{}
	run := func() {
		for i := range 30 {
			key := fmt.Sprintf("k%d", i)
			r, err := l.Allow(ctx, key, 10, time.Minute)
			if err != nil || !r.Allowed {
				t.Fatalf("key %s: %+v, %v", key, r, err)
			}
			k := "lucid:ratelimit:" + "x:{" + key + "}"
			shards[fmt.Sprint(cache.TestenvSlot(k)*3/16384)] = true
		}
	}
	flush()
	run()
	flush()
	noErr(t, l.LoadScripts(ctx))
	run()
	if len(shards) < 3 {
		t.Fatalf("keys hit only %d thirds of the slot space", len(shards))
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	l, err := cache.NewRedisLimiter(testenv.Redis(t), cache.LimiterOptions{Entity: testenv.Namespace(t)})
	noErr(t, err)
	mw, err := cache.Middleware(l, cache.MiddlewareOptions{Limit: 2, Window: 10 * time.Second})
	noErr(t, err)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	do := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "192.0.2.7:5555"
		h.ServeHTTP(rec, req)
		return rec
	}
	r1, r2, r3 := do(), do(), do()
	if r1.Code != 204 || r2.Code != 204 || r3.Code != 429 {
		t.Fatalf("codes %d %d %d", r1.Code, r2.Code, r3.Code)
	}
	if got := r1.Header().Get("RateLimit-Policy"); got != "2;w=10" {
		t.Fatalf("RateLimit-Policy %q", got)
	}
	if got := r1.Header().Get("RateLimit"); got != "limit=2, remaining=1, reset=10" {
		t.Fatalf("RateLimit %q", got)
	}
	if got := r3.Header().Get("RateLimit"); got != "limit=2, remaining=0, reset=10" {
		t.Fatalf("RateLimit when denied %q", got)
	}
	if got := r3.Header().Get("Retry-After"); got != "10" {
		t.Fatalf("Retry-After %q", got)
	}
	if r1.Header().Get("Retry-After") != "" {
		t.Fatal("Retry-After on an admitted response")
	}
	if _, err := cache.Middleware(nil, cache.MiddlewareOptions{Limit: 1, Window: time.Second}); err == nil {
		t.Fatal("nil limiter accepted")
	}
}

func TestIPKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1":                "ip:192.0.2.1",
		"::ffff:192.0.2.1":         "ip:192.0.2.1",
		"2001:db8:1:2:3:4:5:6":     "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1%eth": "ip:2001:db8:1:2::/64",
	} {
		if got := cache.IPKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("IPKey(%s) = %s, want %s", in, got, want)
		}
	}
	if got := cache.UserKey("42"); got != "user:42" {
		t.Errorf("UserKey = %s", got)
	}
}

// TestLimiterBounds: a window or limit past the arithmetic's reach is
// ErrInvalid and denied, even by a FailOpen limiter, on every server.
func TestLimiterBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	limiters := map[string]func(t *testing.T) cache.Limiter{
		"Redis": func(t *testing.T) cache.Limiter {
			l, err := cache.NewRedisLimiter(testenv.Redis(t), cache.LimiterOptions{Entity: testenv.Namespace(t), FailurePolicy: cache.FailOpen})
			noErr(t, err)
			return l
		},
		"Cluster": func(t *testing.T) cache.Limiter {
			l, err := cache.NewRedisLimiter(testenv.RedisCluster(t), cache.LimiterOptions{Entity: testenv.Namespace(t), FailurePolicy: cache.FailOpen})
			noErr(t, err)
			return l
		},
		"Memory": func(t *testing.T) cache.Limiter {
			l, err := cache.NewMemory().Limiter(cache.LimiterOptions{FailurePolicy: cache.FailOpen})
			noErr(t, err)
			return l
		},
	}
	for name, newL := range limiters {
		t.Run(name, func(t *testing.T) {
			l := newL(t)
			for _, c := range []struct {
				limit  int64
				window time.Duration
			}{
				{10, math.MaxInt64 - math.MaxInt64/2000}, // within 0.1 % of MaxInt64
				{10, math.MaxInt64},
				{10, cache.MaxWindow + time.Microsecond},
				{math.MaxInt64, time.Minute},
				{cache.MaxLimit + 1, time.Minute},
			} {
				r, err := l.AllowN(ctx, "bounds", c.limit, c.window, 1)
				if !errors.Is(err, cache.ErrInvalid) || r.Allowed {
					t.Errorf("limit %d window %v: %+v, %v; want denied with ErrInvalid", c.limit, c.window, r, err)
				}
			}
			for _, c := range []struct {
				limit  int64
				window time.Duration
			}{{cache.MaxLimit, time.Minute}, {10, cache.MaxWindow}} {
				r, err := l.AllowN(ctx, fmt.Sprint("edge-", c.limit), c.limit, c.window, 1)
				if err != nil || !r.Allowed || r.Remaining != c.limit-1 {
					t.Errorf("limit %d window %v (the maxima): %+v, %v; want admitted", c.limit, c.window, r, err)
				}
			}
		})
	}
	if _, err := cache.NewMemory().Limiter(cache.LimiterOptions{Precision: cache.MaxWindow + 1}); !errors.Is(err, cache.ErrInvalid) {
		t.Errorf("precision past MaxWindow: %v", err)
	}
}
