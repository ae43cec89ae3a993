//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

func TestNewConfig(t *testing.T) {
	ctx := context.Background()
	c, err := cache.Connect(ctx, cache.Config{URL: testenv.RedisURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Redis().Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	noErr(t, c.Close())
	noErr(t, c.Close()) // idempotent

	cl, err := cache.Connect(ctx, cache.Config{Addrs: testenv.RedisClusterAddrs(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cc, err := cl.Cache(cache.CacheOptions{Entity: testenv.Namespace(t)})
	noErr(t, err)
	noErr(t, cc.Set(ctx, "k", []byte("v"), time.Minute))

	_, err = cache.Connect(ctx, cache.Config{URL: "redis://:sekrit@[::1", Addrs: nil})
	if !errors.Is(err, cache.ErrInvalid) || containsSecret(err) {
		t.Fatalf("bad URL: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = cache.Connect(short, cache.Config{Addrs: []string{"127.0.0.1:1"}, Password: "sekrit"})
	if !errors.Is(err, cache.ErrUnavailable) || containsSecret(err) {
		t.Fatalf("unreachable: %v", err)
	}
}

func containsSecret(err error) bool {
	return err != nil && strings.Contains(err.Error(), "sekrit")
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWatchdogCancelsOnLoss: another party takes the key over; the
// watchdog's next refresh sees it and cancels the holder's context.
func TestWatchdogCancelsOnLoss(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.RedisCluster(t)
	l, err := cache.NewRedisLocker(rdb, cache.LockerOptions{Entity: testenv.Namespace(t)})
	noErr(t, err)
	// A TTL long enough that a loaded machine's late refresh (every TTL/3)
	// still finds the lease alive: then what it sees is the takeover, not
	// its own expiry (CI at load 20 saw ErrLockExpired with 300 ms).
	lk, err := l.Obtain(ctx, "job", cache.LockOptions{TTL: 3 * time.Second})
	noErr(t, err)
	key, fence, err := l.Keys("job")
	noErr(t, err)
	if cache.TestenvSlot(key) != cache.TestenvSlot(fence) {
		t.Fatalf("lock %s and fence %s in different slots", key, fence)
	}
	noErr(t, rdb.Set(ctx, key, "someone-else", time.Minute).Err())
	select {
	case <-lk.Context().Done():
	case <-time.After(15 * time.Second):
		t.Fatal("watchdog did not cancel the context")
	}
	if c := context.Cause(lk.Context()); !errors.Is(c, cache.ErrLockTaken) {
		t.Fatalf("cause = %v, want ErrLockTaken", c)
	}
	if err := lk.Release(ctx); !errors.Is(err, cache.ErrLockNotHeld) {
		t.Fatalf("release = %v", err)
	}
	if v, _ := rdb.Get(ctx, key).Result(); v != "someone-else" {
		t.Fatalf("release touched the other owner's key: %q", v)
	}
}
