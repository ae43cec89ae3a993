package cachetest

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
)

// TestLimiter checks a Limiter implementation. newLimiters returns n
// limiters sharing one namespace (separate clients where possible).
func TestLimiter(t *testing.T, newLimiters func(t *testing.T, n int) []cache.Limiter) {
	t.Run("TimeIsTheDecisionTime", func(t *testing.T) {
		// Result.Time is the clock reading the limiter decided on: a
		// request denied behind one admitted unit is told to retry exactly
		// when that unit leaves the window, in Result.Time's terms.
		l, ctx := newLimiters(t, 1)[0], ctxT(t)
		const window = 200 * time.Millisecond
		for i := range 20 {
			key := fmt.Sprint("time-", i)
			a, err := l.Allow(ctx, key, 1, window)
			noErr(t, err, "allow")
			d, err := l.Allow(ctx, key, 1, window)
			noErr(t, err, "allow 2")
			if !a.Allowed || d.Allowed {
				t.Fatalf("%+v then %+v", a, d)
			}
			if d.Time.Before(a.Time) {
				t.Fatalf("decision times run backwards: %v then %v", a.Time, d.Time)
			}
			if got, want := d.Time.Add(d.RetryAfter), a.Time.Add(window); !got.Equal(want) {
				t.Fatalf("denied at %v, retry after %v: %v; the admitted unit (at %v) leaves at %v (off by %v)",
					d.Time, d.RetryAfter, got, a.Time, want, got.Sub(want))
			}
			if got, want := d.Time.Add(d.ResetAfter), a.Time.Add(window); !got.Equal(want) {
				t.Fatalf("reset at %v, want %v (off by %v)", got, want, got.Sub(want))
			}
		}
	})
	t.Run("Basic", func(t *testing.T) {
		l, ctx := newLimiters(t, 1)[0], ctxT(t)
		for i := int64(1); i <= 3; i++ {
			r, err := l.Allow(ctx, "u", 3, time.Minute)
			noErr(t, err, "allow")
			if !r.Allowed || r.Remaining != 3-i || r.RetryAfter != 0 || r.Limit != 3 {
				t.Fatalf("request %d: %+v", i, r)
			}
			if r.ResetAfter <= 0 || r.ResetAfter > time.Minute+time.Second {
				t.Fatalf("reset after %v", r.ResetAfter)
			}
		}
		r, err := l.Allow(ctx, "u", 3, time.Minute)
		noErr(t, err, "allow")
		if r.Allowed || r.Remaining != 0 || r.RetryAfter <= 0 || r.RetryAfter > time.Minute+time.Second {
			t.Fatalf("4th request: %+v", r)
		}
		p, err := l.AllowN(ctx, "u", 3, time.Minute, 0)
		noErr(t, err, "peek")
		if p.Allowed || p.Remaining != 0 || p.RetryAfter <= 0 {
			t.Fatalf("peek when full: %+v", p)
		}
		noErr(t, l.Reset(ctx, "u"), "reset")
		r, err = l.Allow(ctx, "u", 3, time.Minute)
		noErr(t, err, "allow after reset")
		if !r.Allowed || r.Remaining != 2 {
			t.Fatalf("after reset: %+v", r)
		}
	})
	t.Run("Peek", func(t *testing.T) {
		l, ctx := newLimiters(t, 1)[0], ctxT(t)
		for range 3 {
			r, err := l.AllowN(ctx, "p", 2, time.Minute, 0)
			noErr(t, err, "peek")
			if !r.Allowed || r.Remaining != 2 || r.RetryAfter != 0 {
				t.Fatalf("peek: %+v", r)
			}
		}
	})
	t.Run("CostAboveLimit", func(t *testing.T) {
		l, ctx := newLimiters(t, 1)[0], ctxT(t)
		r, err := l.AllowN(ctx, "big", 5, time.Minute, 6)
		noErr(t, err, "allowN")
		if r.Allowed || r.RetryAfter != cache.Never || r.Remaining != 5 {
			t.Fatalf("n > limit: %+v", r)
		}
		r, err = l.AllowN(ctx, "big", 5, time.Minute, 5)
		noErr(t, err, "allowN")
		if !r.Allowed || r.Remaining != 0 {
			t.Fatalf("n = limit: %+v", r)
		}
	})
	t.Run("MillionLimit", func(t *testing.T) {
		l, ctx := newLimiters(t, 1)[0], ctxT(t)
		const L = 1_000_000
		for i := range 4 {
			r, err := l.AllowN(ctx, "m", L, time.Minute, 250_000)
			noErr(t, err, "allowN")
			if !r.Allowed || r.Remaining != L-250_000*int64(i+1) {
				t.Fatalf("chunk %d: %+v", i, r)
			}
		}
		for range 1000 { // many cheap requests stay bounded in memory
			r, err := l.Allow(ctx, "m", L, time.Minute)
			noErr(t, err, "allow")
			if r.Allowed || r.Remaining != 0 {
				t.Fatalf("over a million: %+v", r)
			}
		}
		r, err := l.AllowN(ctx, "m2", L, time.Minute, 1)
		noErr(t, err, "allow")
		if !r.Allowed || r.Remaining != L-1 {
			t.Fatalf("fresh million key: %+v", r)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		l, ctx := newLimiters(t, 1)[0], ctxT(t)
		for _, c := range []struct {
			key    string
			limit  int64
			window time.Duration
			n      int64
		}{{"", 1, time.Second, 1}, {"a b", 1, time.Second, 1}, {"k", 0, time.Second, 1}, {"k", 1, 0, 1}, {"k", 1, time.Second, -1}} {
			_, err := l.AllowN(ctx, c.key, c.limit, c.window, c.n)
			wantErr(t, err, cache.ErrInvalid, fmt.Sprintf("%+v", c))
		}
		wantErr(t, l.Reset(ctx, ""), cache.ErrInvalid, "reset empty key")
	})
	t.Run("Concurrent", func(t *testing.T) {
		ls, ctx := newLimiters(t, 3), ctxT(t)
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for g := range 12 {
			l := ls[g%len(ls)]
			wg.Go(func() {
				for range 25 {
					r, err := l.Allow(ctx, "c", 50, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if r.Allowed {
						admitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if got := admitted.Load(); got != 50 {
			t.Fatalf("admitted %d of 300, want exactly 50", got)
		}
	})
	t.Run("SlidingWindowExact", func(t *testing.T) {
		LimiterExactness(t, newLimiters(t, 2), 7, 300*time.Millisecond, 1200*time.Millisecond)
	})
}

// LimiterExactness hammers one key from several limiters with costs 0..3
// for dur and checks, from the decision times the limiter reports, that
// no trailing window ever held more than limit admitted units.
func LimiterExactness(t *testing.T, ls []cache.Limiter, limit int64, window, dur time.Duration) {
	ctx := ctxT(t)
	type adm struct {
		at time.Time
		n  int64
	}
	var mu sync.Mutex
	var got []adm
	var wg sync.WaitGroup
	end := time.Now().Add(dur)
	for g := range 6 {
		l := ls[g%len(ls)]
		wg.Go(func() {
			for i := int64(g); time.Now().Before(end); i++ {
				n := i % 4
				r, err := l.AllowN(ctx, "exact", limit, window, n)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Remaining < 0 || r.Remaining > limit || (r.Allowed && r.RetryAfter != 0) || (!r.Allowed && r.RetryAfter <= 0) {
					t.Errorf("inconsistent result %+v", r)
				}
				if r.Allowed && n > 0 {
					mu.Lock()
					got = append(got, adm{r.Time, n})
					mu.Unlock()
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	sort.Slice(got, func(i, j int) bool { return got[i].at.Before(got[j].at) })
	var total int64
	lo := 0
	for i := range got {
		total += got[i].n
		for !got[lo].at.After(got[i].at.Add(-window)) {
			total -= got[lo].n
			lo++
		}
		if total > limit {
			t.Fatalf("%d units admitted in the window ending %v (limit %d)", total, got[i].at, limit)
		}
	}
	var sum int64
	for _, a := range got {
		sum += a.n
	}
	t.Logf("%d admissions, %d units, over %v with limit %d per %v", len(got), sum, dur, limit, window)
}
