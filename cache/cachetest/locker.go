package cachetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
)

// TestLocker checks a Locker implementation. newLockers returns n lockers
// sharing one namespace.
func TestLocker(t *testing.T, newLockers func(t *testing.T, n int) []cache.Locker) {
	testLocker(t, newLockers, false)
}

func testLocker(t *testing.T, newLockers func(t *testing.T, n int) []cache.Locker, fake bool) {
	t.Run("ObtainRelease", func(t *testing.T) {
		ls, ctx := newLockers(t, 2), ctxT(t)
		a, b := ls[0], ls[1]
		l1, err := a.Obtain(ctx, "job", cache.LockOptions{})
		noErr(t, err, "obtain")
		if l1.Name() != "job" || l1.Fence() <= 0 {
			t.Fatalf("lock %q fence %d", l1.Name(), l1.Fence())
		}
		_, err = b.Obtain(ctx, "job", cache.LockOptions{})
		wantErr(t, err, cache.ErrLockNotObtained, "second obtain")
		noErr(t, l1.Refresh(ctx, time.Minute), "refresh")
		noErr(t, l1.Release(ctx), "release")
		if l1.Context().Err() == nil {
			t.Fatal("lock context alive after release")
		}
		wantErr(t, l1.Release(ctx), cache.ErrLockNotHeld, "second release")
		wantErr(t, l1.Refresh(ctx, 0), cache.ErrLockNotHeld, "refresh after release")
		l2, err := b.Obtain(ctx, "job", cache.LockOptions{})
		noErr(t, err, "obtain after release")
		if l2.Fence() <= l1.Fence() {
			t.Fatalf("fence %d not above previous %d", l2.Fence(), l1.Fence())
		}
		noErr(t, l2.Release(ctx), "release 2")
	})
	t.Run("BadInput", func(t *testing.T) {
		l, ctx := newLockers(t, 1)[0], ctxT(t)
		for _, name := range []string{"", "a{b}", "with space"} {
			_, err := l.Obtain(ctx, name, cache.LockOptions{})
			wantErr(t, err, cache.ErrInvalid, "name "+name)
		}
		_, err := l.Obtain(ctx, "x", cache.LockOptions{TTL: -time.Second})
		wantErr(t, err, cache.ErrInvalid, "negative ttl")
	})
	t.Run("Retry", func(t *testing.T) {
		ls, ctx := newLockers(t, 2), ctxT(t)
		held, err := ls[0].Obtain(ctx, "r", cache.LockOptions{})
		noErr(t, err, "obtain")
		_, err = ls[1].Obtain(ctx, "r", cache.LockOptions{Retry: &cache.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 3}})
		wantErr(t, err, cache.ErrLockNotObtained, "attempts exhausted")
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err = ls[1].Obtain(short, "r", cache.LockOptions{Retry: &cache.Backoff{Min: time.Millisecond}})
		cancel()
		wantErr(t, err, context.DeadlineExceeded, "ctx deadline while waiting")
		time.AfterFunc(50*time.Millisecond, func() { _ = held.Release(context.Background()) })
		got, err := ls[1].Obtain(ctx, "r", cache.LockOptions{Retry: &cache.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}})
		noErr(t, err, "obtain after waiting")
		if got.Fence() <= held.Fence() {
			t.Fatalf("fence %d not above %d", got.Fence(), held.Fence())
		}
		noErr(t, got.Release(ctx), "release")
	})
	t.Run("Watchdog", onClock(fake, func(t *testing.T) {
		ls, ctx := newLockers(t, 2), ctxT(t)
		l, err := ls[0].Obtain(ctx, "w", cache.LockOptions{TTL: 150 * time.Millisecond})
		noErr(t, err, "obtain")
		time.Sleep(500 * time.Millisecond) // > 3 TTLs: only the watchdog keeps it
		_, err = ls[1].Obtain(ctx, "w", cache.LockOptions{})
		wantErr(t, err, cache.ErrLockNotObtained, "obtain while watchdog refreshes")
		if l.Context().Err() != nil {
			t.Fatalf("context cancelled while held: %v", context.Cause(l.Context()))
		}
		noErr(t, l.Release(ctx), "release")
	}))
	t.Run("StalledHolderLoses", onClock(fake, func(t *testing.T) {
		ls, ctx := newLockers(t, 2), ctxT(t)
		stalled, err := ls[0].Obtain(ctx, "s", cache.LockOptions{TTL: 100 * time.Millisecond, NoWatchdog: true})
		noErr(t, err, "obtain")
		select {
		case <-stalled.Context().Done():
		case <-time.After(5 * time.Second):
			t.Fatal("context of an expired lease not cancelled")
		}
		wantErr(t, context.Cause(stalled.Context()), cache.ErrLockNotHeld, "cause")
		wantErr(t, stalled.Refresh(ctx, 0), cache.ErrLockExpired, "refresh after expiry")
		// The server's lease may outlive the local clock by a round trip.
		owner, err := ls[1].Obtain(ctx, "s", cache.LockOptions{TTL: time.Minute, Retry: &cache.Backoff{Min: time.Millisecond}})
		noErr(t, err, "new owner")
		if owner.Fence() <= stalled.Fence() {
			t.Fatalf("new fence %d not above %d", owner.Fence(), stalled.Fence())
		}
		err = stalled.Release(ctx)
		wantErr(t, err, cache.ErrLockNotHeld, "stalled release")
		wantErr(t, err, cache.ErrLockTaken, "stalled release")
		noErr(t, owner.Refresh(ctx, 0), "new owner still holds")
		noErr(t, owner.Release(ctx), "new owner release")
	}))
	t.Run("Safety", func(t *testing.T) { LockSafety(t, newLockers(t, 2), 8, 3000) })
	t.Run("PausedHolderContextEndsFirst", func(t *testing.T) {
		// A holder that stops refreshing (NoWatchdog: a paused process) must
		// see its Context done before another client obtains the lock. The
		// contender polls without backoff, so it wins the instant the
		// lease ends on the server.
		ls, ctx := newLockers(t, 2), ctxT(t)
		const rounds, parallel = 16, 6
		var wg sync.WaitGroup
		var mu sync.Mutex
		var early []string
		for g := range parallel {
			wg.Go(func() {
				for r := range rounds {
					name := fmt.Sprintf("paused-%d-%d", g, r)
					held, err := ls[0].Obtain(ctx, name, cache.LockOptions{TTL: 40 * time.Millisecond, NoWatchdog: true})
					if err != nil {
						mu.Lock()
						early = append(early, fmt.Sprint("obtain: ", err))
						mu.Unlock()
						return
					}
					var got cache.Lock
					for got == nil && ctx.Err() == nil {
						got, _ = ls[1].Obtain(ctx, name, cache.LockOptions{TTL: time.Minute})
					}
					if got == nil {
						return
					}
					select {
					case <-held.Context().Done():
					default:
						mu.Lock()
						early = append(early, fmt.Sprintf("%s: fence %d obtained while the paused holder's (fence %d) context was alive", name, got.Fence(), held.Fence()))
						mu.Unlock()
					}
					_ = got.Release(ctx)
				}
			})
		}
		wg.Wait()
		if len(early) > 0 {
			t.Fatalf("%d of %d rounds: %v", len(early), rounds*parallel, early)
		}
	})
}

// LockSafety makes workers goroutines, spread over lockers, contend for
// one lock until total critical sections ran. It fails the test if two
// critical sections overlap or a fencing token does not increase.
func LockSafety(t *testing.T, lockers []cache.Locker, workers, total int) {
	ctx := ctxT(t)
	var (
		inside    atomic.Int32
		lastFence atomic.Int64
		done      atomic.Int64
		failed    atomic.Pointer[error]
		wg        sync.WaitGroup
	)
	fail := func(err error) { failed.CompareAndSwap(nil, &err) }
	for w := range workers {
		l := lockers[w%len(lockers)]
		wg.Go(func() {
			for done.Load() < int64(total) && failed.Load() == nil {
				lk, err := l.Obtain(ctx, "safety", cache.LockOptions{TTL: 10 * time.Second, NoWatchdog: true,
					Retry: &cache.Backoff{Min: 200 * time.Microsecond, Max: 5 * time.Millisecond}})
				if err != nil {
					fail(fmt.Errorf("obtain: %w", err))
					return
				}
				if !inside.CompareAndSwap(0, 1) {
					fail(errors.New("critical sections overlap"))
				}
				if prev := lastFence.Swap(lk.Fence()); lk.Fence() <= prev {
					fail(fmt.Errorf("fence %d after %d", lk.Fence(), prev))
				}
				done.Add(1)
				inside.Store(0)
				if err := lk.Release(ctx); err != nil {
					fail(fmt.Errorf("release: %w", err))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(*err)
	}
	t.Logf("%d critical sections by %d workers on %d lockers, last fence %d", done.Load(), workers, len(lockers), lastFence.Load())
}
