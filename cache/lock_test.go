//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestLockDriftOptions: the drift allowance is checked, and a lock's
// Context ends its margin before the lease (here a margin of half the
// TTL, well clear of timer noise).
func TestLockDriftOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	for _, o := range []cache.LockerOptions{{DriftFactor: 1}, {DriftFactor: -0.1}, {DriftFactor: math.NaN()}, {DriftMargin: -time.Millisecond}} {
		if _, err := cache.NewRedisLocker(rdb, o); !errors.Is(err, cache.ErrInvalid) {
			t.Errorf("redis locker %+v: %v, want ErrInvalid", o, err)
		}
		if _, err := cache.NewMemory().Locker(o); !errors.Is(err, cache.ErrInvalid) {
			t.Errorf("memory locker %+v: %v, want ErrInvalid", o, err)
		}
	}
	r, err := cache.NewRedisLocker(rdb, cache.LockerOptions{Entity: testenv.Namespace(t), DriftFactor: 0.5, DriftMargin: time.Millisecond})
	noErr(t, err)
	m, err := cache.NewMemory().Locker(cache.LockerOptions{DriftFactor: 0.5, DriftMargin: time.Millisecond})
	noErr(t, err)
	for name, l := range map[string]cache.Locker{"redis": r, "memory": m} {
		start := time.Now()
		lk, err := l.Obtain(ctx, "drift", cache.LockOptions{TTL: 2 * time.Second, NoWatchdog: true})
		noErr(t, err)
		<-lk.Context().Done()
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("%s: context of a 2 s lease with a 1.001 s margin ended after %v", name, d)
		}
		if !errors.Is(context.Cause(lk.Context()), cache.ErrLockExpired) {
			t.Errorf("%s: cause %v", name, context.Cause(lk.Context()))
		}
		_ = lk.Release(ctx)
	}
}

// TestFenceCounter: the fencing counter lives FenceTTL, renewed by every
// Obtain; tokens follow Redis TIME in µs, so they keep increasing when the
// counter expired (deleted here), was left by the old INCR layout (a small
// number) or runs ahead of the clock; TTLs above MaxLockTTL are refused.
func TestFenceCounter(t *testing.T) {
	t.Parallel()
	for name, rdb := range map[string]redis.UniversalClient{"redis": testenv.Redis(t), "cluster": testenv.RedisCluster(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l, err := cache.NewRedisLocker(rdb, cache.LockerOptions{Entity: testenv.Namespace(t)})
			noErr(t, err)
			_, fenceKey, err := l.Keys("job")
			noErr(t, err)
			obtain := func() int64 {
				t.Helper()
				lk, err := l.Obtain(ctx, "job", cache.LockOptions{TTL: time.Minute, NoWatchdog: true})
				noErr(t, err)
				noErr(t, lk.Release(ctx))
				return lk.Fence()
			}
			before, err := rdb.Time(ctx).Result()
			noErr(t, err)
			f1 := obtain()
			if f1 < before.UnixMicro() {
				t.Fatalf("first token %d below Redis TIME %d µs", f1, before.UnixMicro())
			}
			if pttl := rdb.PTTL(ctx, fenceKey).Val(); pttl <= cache.FenceTTL-time.Minute || pttl > cache.FenceTTL {
				t.Fatalf("fence counter PTTL %v, want about %v", pttl, cache.FenceTTL)
			}
			noErr(t, rdb.PExpire(ctx, fenceKey, time.Hour).Err())
			f2 := obtain()
			if f2 <= f1 || rdb.PTTL(ctx, fenceKey).Val() <= time.Hour {
				t.Fatalf("second token %d after %d, counter PTTL %v: not renewed", f2, f1, rdb.PTTL(ctx, fenceKey).Val())
			}
			// The counter expired: the next token still exceeds every earlier one.
			noErr(t, rdb.Del(ctx, fenceKey).Err())
			if f3 := obtain(); f3 <= f2 {
				t.Fatalf("token %d after the counter expired, not above %d", f3, f2)
			}
			// A counter of the INCR layout (small) is overtaken by TIME.
			noErr(t, rdb.Set(ctx, fenceKey, "5", 0).Err())
			if f := obtain(); f < before.UnixMicro() {
				t.Fatalf("token %d after an old counter of 5", f)
			}
			// A counter ahead of the clock keeps counting up by one.
			ahead := before.UnixMicro() + int64(time.Hour/time.Microsecond)
			noErr(t, rdb.Set(ctx, fenceKey, ahead, 0).Err())
			if f := obtain(); f != ahead+1 {
				t.Fatalf("token %d after a counter of %d", f, ahead)
			}
			if _, err := l.Obtain(ctx, "job", cache.LockOptions{TTL: cache.MaxLockTTL + time.Millisecond}); !errors.Is(err, cache.ErrInvalid) {
				t.Fatalf("TTL above MaxLockTTL: %v", err)
			}
			lk, err := l.Obtain(ctx, "job", cache.LockOptions{TTL: cache.MaxLockTTL, NoWatchdog: true})
			noErr(t, err)
			if err := lk.Refresh(ctx, cache.MaxLockTTL+time.Hour); !errors.Is(err, cache.ErrInvalid) {
				t.Fatalf("Refresh above MaxLockTTL: %v", err)
			}
			noErr(t, lk.Release(ctx))
		})
	}
}
