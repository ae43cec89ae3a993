//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// backends returns a fresh backend of each kind for t: a Client on the
// single test Redis, one on the test Cluster, and a Memory. Each is closed
// when t ends.
func backends(t *testing.T) map[string]func(t *testing.T) cache.Backend {
	return map[string]func(t *testing.T) cache.Backend{
		"redis": func(t *testing.T) cache.Backend {
			c, err := cache.Connect(context.Background(), cache.Config{URL: testenv.RedisURL(t)})
			noErr(t, err)
			t.Cleanup(func() { _ = c.Close() })
			return c
		},
		"cluster": func(t *testing.T) cache.Backend {
			c, err := cache.Connect(context.Background(), cache.Config{Addrs: testenv.RedisClusterAddrs(t)})
			noErr(t, err)
			t.Cleanup(func() { _ = c.Close() })
			return c
		},
		"memory": func(t *testing.T) cache.Backend {
			m := cache.NewMemory()
			t.Cleanup(func() { _ = m.Close() })
			return m
		},
	}
}

// call is one call of the package's API under a ctx.
type call struct {
	name string
	do   func(ctx context.Context) error
}

// allCalls builds, on b with a live ctx, everything the calls need (a
// session, a held lock, a stream) and returns every call of the package:
// Cache, Typed, GetOrLoad, Locker and Lock, Limiter, SessionStore, PubSub,
// Stream, Check, Ping and a Client's Health.
func allCalls(t *testing.T, b cache.Backend) []call {
	ctx := context.Background()
	ns := testenv.Namespace(t)
	c, err := b.Cache(cache.CacheOptions{Entity: ns})
	noErr(t, err)
	noErr(t, c.Set(ctx, "present", []byte("v"), time.Minute))
	typed, err := cache.NewTyped[int](c, cache.TypedOptions{})
	noErr(t, err)
	locker, err := b.Locker(cache.LockerOptions{Entity: ns})
	noErr(t, err)
	lock, err := locker.Obtain(ctx, "held", cache.LockOptions{TTL: time.Minute, NoWatchdog: true})
	noErr(t, err)
	limiter, err := b.Limiter(cache.LimiterOptions{Entity: ns, FailurePolicy: cache.FailOpen})
	noErr(t, err)
	sessions, err := b.Sessions(cache.SessionOptions{})
	noErr(t, err)
	sess, err := sessions.Create(ctx, ns, nil, time.Minute)
	noErr(t, err)
	ps, err := b.PubSub(cache.PubSubOptions{Entity: ns})
	noErr(t, err)
	st, err := b.Stream(ctx, ns, cache.StreamOptions{Group: "g", Consumer: "c", Block: 50 * time.Millisecond})
	noErr(t, err)
	if _, err := st.Add(ctx, []byte("m")); err != nil {
		t.Fatal(err)
	}
	load := func(context.Context) ([]byte, error) { return []byte("loaded"), nil }
	e1 := func(_ any, err error) error { return err }
	var extra []call
	if c, ok := b.(*cache.Client); ok {
		extra = append(extra, call{"Client.Health", func(ctx context.Context) error { return e1(c.Health(ctx)) }})
	}
	return append(extra, []call{
		{"Cache.Get", func(ctx context.Context) error { return e1(c.Get(ctx, "present")) }},
		{"Cache.Set", func(ctx context.Context) error { return c.Set(ctx, "k", []byte("v"), time.Minute) }},
		{"Cache.Delete", func(ctx context.Context) error { return e1(c.Delete(ctx, "present")) }},
		{"Cache.Exists", func(ctx context.Context) error { return e1(c.Exists(ctx, "present")) }},
		{"Cache.TTL", func(ctx context.Context) error { return e1(c.TTL(ctx, "present")) }},
		{"Cache.Expire", func(ctx context.Context) error { return c.Expire(ctx, "present", time.Minute) }},
		{"Cache.GetOrLoad", func(ctx context.Context) error { return e1(c.GetOrLoad(ctx, "missing", time.Minute, load)) }},
		{"Typed.Get", func(ctx context.Context) error { return e1(typed.Get(ctx, "present")) }},
		{"Typed.Set", func(ctx context.Context) error { return typed.Set(ctx, "t", 1, time.Minute) }},
		{"Typed.GetOrLoad", func(ctx context.Context) error {
			return e1(typed.GetOrLoad(ctx, "tmissing", time.Minute, func(context.Context) (int, error) { return 1, nil }))
		}},
		{"Locker.Obtain", func(ctx context.Context) error {
			return e1(locker.Obtain(ctx, "free", cache.LockOptions{TTL: time.Minute, NoWatchdog: true}))
		}},
		{"Locker.Obtain retry", func(ctx context.Context) error {
			return e1(locker.Obtain(ctx, "held", cache.LockOptions{TTL: time.Minute, NoWatchdog: true, Retry: &cache.Backoff{Attempts: 3}}))
		}},
		{"Lock.Refresh", func(ctx context.Context) error { return lock.Refresh(ctx, 0) }},
		{"Limiter.Allow", func(ctx context.Context) error { return e1(limiter.Allow(ctx, "k", 10, time.Minute)) }},
		{"Limiter.AllowN", func(ctx context.Context) error { return e1(limiter.AllowN(ctx, "k", 10, time.Minute, 0)) }},
		{"Limiter.Reset", func(ctx context.Context) error { return limiter.Reset(ctx, "k") }},
		{"Sessions.Create", func(ctx context.Context) error { return e1(sessions.Create(ctx, ns, nil, time.Minute)) }},
		{"Sessions.Get", func(ctx context.Context) error { return e1(sessions.Get(ctx, sess.Token)) }},
		{"Sessions.Extend", func(ctx context.Context) error { return sessions.Extend(ctx, sess.Token, time.Minute) }},
		{"Sessions.List", func(ctx context.Context) error { return e1(sessions.List(ctx, ns)) }},
		{"Sessions.Delete", func(ctx context.Context) error { return sessions.Delete(ctx, sess.Token) }},
		{"Sessions.RevokeAll", func(ctx context.Context) error { return e1(sessions.RevokeAll(ctx, ns)) }},
		{"PubSub.Publish", func(ctx context.Context) error { return e1(ps.Publish(ctx, "ch", []byte("x"))) }},
		{"PubSub.Subscribe", func(ctx context.Context) error {
			s, err := ps.Subscribe(ctx, "ch")
			if err == nil {
				_ = s.Close()
			}
			return err
		}},
		{"Backend.Stream", func(ctx context.Context) error { return e1(b.Stream(ctx, ns+"2", cache.StreamOptions{Group: "g"})) }},
		{"Stream.Add", func(ctx context.Context) error { return e1(st.Add(ctx, []byte("m"))) }},
		{"Stream.Read", func(ctx context.Context) error { return e1(st.Read(ctx, 10)) }},
		{"Stream.Ack", func(ctx context.Context) error { return st.Ack(ctx, "0-1") }},
		{"Stream.Claim", func(ctx context.Context) error { return e1(st.Claim(ctx, 0, 10)) }},
		{"Stream.Pending", func(ctx context.Context) error { return e1(st.Pending(ctx)) }},
		{"Check", func(ctx context.Context) error { return b.Check(ctx).Err }},
		{"Ping", b.Ping},
		// Last: it ends the lock.
		{"Lock.Release", func(ctx context.Context) error { return lock.Release(ctx) }},
	}...)
}

// TestContextKinds: with a cancelled or an expired ctx every call of the
// package reports the ctx's own kind (context.Canceled or
// DeadlineExceeded), never ErrUnavailable, on Redis, Cluster and memory.
func TestContextKinds(t *testing.T) {
	for name, newBackend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel2()
			for _, tc := range []struct {
				ctx  context.Context
				want errkind.Kind
				std  error
			}{{cancelled, errkind.Canceled, context.Canceled}, {expired, errkind.DeadlineExceeded, context.DeadlineExceeded}} {
				for _, c := range allCalls(t, b) {
					err := c.do(tc.ctx)
					if got := errkind.Of(err); got != tc.want || !errors.Is(err, tc.std) {
						t.Errorf("%s with a %v ctx: kind %v (%v)", c.name, tc.want, got, err)
					}
					if errors.Is(err, cache.ErrUnavailable) || errors.Is(err, errkind.Unavailable) {
						t.Errorf("%s with a %v ctx matches ErrUnavailable: %v", c.name, tc.want, err)
					}
				}
			}
		})
	}
}

// TestClosedKinds: after Close every call fails with ErrClosed (kind
// Closed), including the handing out of new implementations, and open
// subscriptions end; Close is idempotent.
func TestClosedKinds(t *testing.T) {
	for name, newBackend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			calls := allCalls(t, b)
			ps, err := b.PubSub(cache.PubSubOptions{Entity: testenv.Namespace(t)})
			noErr(t, err)
			sub, err := ps.Subscribe(context.Background(), "open")
			noErr(t, err)
			defer sub.Close()
			noErr(t, b.Close())
			noErr(t, b.Close())
			// A subscription open at Close ends with it.
			select {
			case _, ok := <-sub.Messages():
				if ok {
					t.Error("message on a subscription after Close")
				}
			case <-time.After(5 * time.Second):
				t.Error("subscription still open 5s after Close")
			}
			calls = append(calls,
				call{"Backend.Cache", func(context.Context) error { return e2(b.Cache(cache.CacheOptions{})) }},
				call{"Backend.Locker", func(context.Context) error { return e2(b.Locker(cache.LockerOptions{})) }},
				call{"Backend.Limiter", func(context.Context) error { return e2(b.Limiter(cache.LimiterOptions{})) }},
				call{"Backend.Sessions", func(context.Context) error { return e2(b.Sessions(cache.SessionOptions{})) }},
				call{"Backend.PubSub", func(context.Context) error { return e2(b.PubSub(cache.PubSubOptions{})) }},
			)
			for _, c := range calls {
				err := c.do(context.Background())
				if got := errkind.Of(err); got != errkind.Closed || !errors.Is(err, cache.ErrClosed) {
					t.Errorf("%s after Close: kind %v (%v)", c.name, got, err)
				}
			}
		})
	}
}

func e2(_ any, err error) error { return err }

// TestMiddlewareClientGone: a client that hung up before the limiter
// answered gets no 503 (nor any response) and never reaches the handler,
// whatever the failure policy; on the old code it was answered 503.
func TestMiddlewareClientGone(t *testing.T) {
	t.Parallel()
	for _, policy := range []cache.FailurePolicy{cache.FailClosed, cache.FailOpen} {
		l, err := cache.NewRedisLimiter(testenv.Redis(t), cache.LimiterOptions{Entity: testenv.Namespace(t), FailurePolicy: policy})
		noErr(t, err)
		mw, err := cache.Middleware(l, cache.MiddlewareOptions{Limit: 10, Window: time.Minute})
		noErr(t, err)
		reached := false
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := &headerRecorder{ResponseRecorder: httptest.NewRecorder()}
		req := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
		req.RemoteAddr = "192.0.2.9:5555"
		h.ServeHTTP(rec, req)
		if rec.status != 0 || reached || rec.Body.Len() != 0 {
			t.Fatalf("policy %v: hung-up client answered %d (handler reached: %v, body %q)", policy, rec.status, reached, rec.Body)
		}
	}
}

type headerRecorder struct {
	*httptest.ResponseRecorder
	status int
}

func (r *headerRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseRecorder.WriteHeader(code)
}

func (r *headerRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseRecorder.Write(b)
}
