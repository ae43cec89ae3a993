package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
)

// FuzzLimiterArgs feeds arbitrary limits, windows, costs and precisions to
// a FailOpen in-memory limiter (the argument checks are shared with the
// Redis one): a call either fails with ErrInvalid, exactly when an
// argument is out of its documented range, and is then denied, or answers
// a consistent Result.
func FuzzLimiterArgs(f *testing.F) {
	f.Add(int64(10), int64(time.Minute), int64(1), int64(0))
	f.Add(int64(10), int64(9223372036854775807-9223372036854775807/2000), int64(1), int64(0))
	f.Add(int64(9007199254740991), int64(time.Second), int64(9007199254740991), int64(time.Millisecond))
	f.Add(int64(1), int64(time.Millisecond), int64(0), int64(-1))
	f.Add(int64(-5), int64(0), int64(-1), int64(1<<62))
	f.Fuzz(func(t *testing.T, limit, window, n, precision int64) {
		l, err := cache.NewMemory().Limiter(cache.LimiterOptions{FailurePolicy: cache.FailOpen, Precision: time.Duration(precision)})
		badPrecision := precision < 0 || time.Duration(precision) > cache.MaxWindow
		if badPrecision != errors.Is(err, cache.ErrInvalid) {
			t.Fatalf("precision %d: %v", precision, err)
		}
		if err != nil {
			return
		}
		w := time.Duration(window)
		bad := limit < 1 || limit > cache.MaxLimit || w < time.Millisecond || w > cache.MaxWindow || n < 0
		r, err := l.AllowN(context.Background(), "k", limit, w, n)
		switch {
		case bad:
			if !errors.Is(err, cache.ErrInvalid) || r.Allowed {
				t.Fatalf("limit %d window %v n %d: %+v, %v; want denied with ErrInvalid", limit, w, n, r, err)
			}
			return
		case err != nil:
			t.Fatalf("limit %d window %v n %d: %v", limit, w, n, err)
		}
		if r.Limit != limit || r.Remaining < 0 || r.Remaining > limit || r.ResetAfter < 0 || r.ResetAfter > w+time.Duration(max(precision, 0)) {
			t.Fatalf("limit %d window %v n %d: inconsistent %+v", limit, w, n, r)
		}
		switch {
		case n > limit:
			if r.Allowed || r.RetryAfter != cache.Never {
				t.Fatalf("cost %d over limit %d: %+v", n, limit, r)
			}
		case !r.Allowed:
			t.Fatalf("first request of %d under limit %d denied: %+v", n, limit, r)
		case n > 0 && r.Remaining != limit-n:
			t.Fatalf("remaining %d after %d of %d", r.Remaining, n, limit)
		}
	})
}
