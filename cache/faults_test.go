//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestRedisDown stops a private Redis mid-run: every part reports
// ErrUnavailable, the limiter obeys its policy, a held lock's context ends
// with its lease; after a restart the subscriber is resubscribed and told
// about the gap.
func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })

	c, err := cache.NewRedisCache(rdb, cache.CacheOptions{})
	noErr(t, err)
	open, err := cache.NewRedisLimiter(rdb, cache.LimiterOptions{FailurePolicy: cache.FailOpen})
	noErr(t, err)
	closed, err := cache.NewRedisLimiter(rdb, cache.LimiterOptions{FailurePolicy: cache.FailClosed})
	noErr(t, err)
	locker, err := cache.NewRedisLocker(rdb, cache.LockerOptions{})
	noErr(t, err)
	ps, err := cache.NewRedisPubSub(rdb, cache.PubSubOptions{})
	noErr(t, err)
	sessions, err := cache.NewRedisSessions(rdb, cache.SessionOptions{})
	noErr(t, err)

	noErr(t, c.Set(ctx, "k", []byte("v"), time.Minute))
	held, err := locker.Obtain(ctx, "held", cache.LockOptions{TTL: 600 * time.Millisecond})
	noErr(t, err)
	sub, err := ps.Subscribe(ctx, "news")
	noErr(t, err)
	defer sub.Close()
	sess, err := sessions.Create(ctx, "u1", nil, 0)
	noErr(t, err)

	p.Stop()

	unavailable := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", what, err)
		}
	}
	_, err = c.Get(ctx, "k")
	unavailable("cache get", err)
	unavailable("cache set", c.Set(ctx, "k", []byte("v"), time.Minute))
	_, err = c.TTL(ctx, "k")
	unavailable("cache ttl", err)
	v, err := c.GetOrLoad(ctx, "k2", time.Minute, func(context.Context) ([]byte, error) { return []byte("fresh"), nil })
	if err != nil || string(v) != "fresh" {
		t.Errorf("get or load with Redis down = %q, %v; want the loaded value", v, err)
	}
	r, err := open.Allow(ctx, "u", 10, time.Minute)
	unavailable("limiter (open)", err)
	if !r.Allowed {
		t.Error("FailOpen limiter denied with Redis down")
	}
	r, err = closed.Allow(ctx, "u", 10, time.Minute)
	unavailable("limiter (closed)", err)
	if r.Allowed || r.RetryAfter <= 0 {
		t.Errorf("FailClosed limiter with Redis down: %+v", r)
	}
	_, err = locker.Obtain(ctx, "other", cache.LockOptions{})
	unavailable("lock obtain", err)
	_, err = sessions.Get(ctx, sess.Token)
	unavailable("session get", err)
	_, err = ps.Publish(ctx, "news", []byte("x"))
	unavailable("publish", err)
	_, err = cache.CheckHealth(ctx, rdb)
	unavailable("health", err)
	select {
	case <-held.Context().Done():
		if !errors.Is(context.Cause(held.Context()), cache.ErrLockExpired) {
			t.Errorf("lock context cause %v, want ErrLockExpired", context.Cause(held.Context()))
		}
	case <-time.After(10 * time.Second):
		t.Error("held lock's context not cancelled after its lease ran out with Redis down")
	}
	err = held.Release(ctx)
	if !errors.Is(err, cache.ErrUnavailable) && !errors.Is(err, cache.ErrLockNotHeld) {
		t.Errorf("release with Redis down: %v", err)
	}

	noErr(t, p.Start())
	// Publish until the resubscribed subscriber sees the gap notice, then a message.
	deadline := time.Now().Add(20 * time.Second)
	gap := false
	for i := 0; time.Now().Before(deadline); i++ {
		_, _ = ps.Publish(ctx, "news", []byte(fmt.Sprint("after-", i)))
		select {
		case m, ok := <-sub.Messages():
			if !ok {
				t.Fatal("subscription closed by the outage")
			}
			if m.Gap {
				if m.Channel != "news" {
					t.Fatalf("gap on %q", m.Channel)
				}
				gap = true
				continue
			}
			if !gap {
				t.Fatalf("message %q before the gap notice", m.Payload)
			}
			if r, err := open.Allow(ctx, "u", 10, time.Minute); err != nil || !r.Allowed {
				t.Fatalf("limiter after restart: %+v, %v", r, err)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("no resubscription after restart (gap seen: %v)", gap)
}

// TestSlowRedis pauses the server's clients with CLIENT PAUSE (DEBUG SLEEP
// is disabled by default since Redis 7): calls with a shorter
// ctx deadline return the ctx error instead of waiting.
func TestSlowRedis(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	cl, err := cache.Connect(ctx, cache.Config{URL: p.URL()}) // sets ContextTimeoutEnabled
	noErr(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	rdb := cl.Redis()
	c, err := cache.NewRedisCache(rdb, cache.CacheOptions{})
	noErr(t, err)
	l, err := cache.NewRedisLimiter(rdb, cache.LimiterOptions{})
	noErr(t, err)
	lk, err := cache.NewRedisLocker(rdb, cache.LockerOptions{})
	noErr(t, err)
	noErr(t, c.Set(ctx, "k", []byte("v"), time.Minute))

	noErr(t, rdb.Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err())

	deadline := func(what string, call func(ctx context.Context) error) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := call(cctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a sleeping Redis: %v, want context.DeadlineExceeded", what, err)
		}
	}
	deadline("cache get", func(ctx context.Context) error { _, err := c.Get(ctx, "k"); return err })
	deadline("limiter", func(ctx context.Context) error { _, err := l.Allow(ctx, "k", 5, time.Minute); return err })
	deadline("lock", func(ctx context.Context) error { _, err := lk.Obtain(ctx, "k", cache.LockOptions{}); return err })
	// After the pause the client works again (connections that timed out
	// were dropped, not reused half-read).
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if v, err := c.Get(cctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("get after the pause: %q, %v", v, err)
	}
}
