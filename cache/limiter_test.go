//go:build !lucidfuzz

package cache_test

import (
	"context"
	"fmt"
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
