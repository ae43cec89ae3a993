//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestLockDriftOptions: the drift allowance is checked, and a lock's
// Context ends its margin before the lease (here a margin of half the
// TTL, well clear of timer noise).
func TestLockDriftOptions(t *testing.T) {
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
