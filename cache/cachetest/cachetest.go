package cachetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Factory makes fresh implementations for the suite. Every call must
// return implementations in a namespace of their own (no state shared
// with earlier calls). Nil fields skip that part of the suite, with a log
// line saying so.
type Factory struct {
	// Cache returns an empty Cache.
	Cache func(t *testing.T) cache.Cache
	// Lockers returns n Lockers that share one namespace, each on its own
	// connection pool where the implementation has one (two clients).
	Lockers func(t *testing.T, n int) []cache.Locker
	// Limiters returns n Limiters that share one namespace.
	Limiters func(t *testing.T, n int) []cache.Limiter
	// Sessions returns a SessionStore with opts.
	Sessions func(t *testing.T, opts cache.SessionOptions) cache.SessionStore
	// PubSub returns a PubSub in a fresh channel namespace.
	PubSub func(t *testing.T) cache.PubSub
	// Streams returns one Stream per consumer name on one fresh stream
	// and consumer group, with a Block of about 200ms.
	Streams func(t *testing.T, consumers ...string) []cache.Stream
	// FakeClock runs the subtests that wait for time to pass (expiry,
	// watchdog, claiming) inside testing/synctest bubbles, where sleeps
	// advance a fake clock at once and deterministically. Only for
	// implementations that run entirely in the test process and make
	// their state in the factory call (cache.NewMemory); a network client
	// cannot run in a bubble.
	FakeClock bool
}

// Run runs every part of the suite f can make implementations for.
func Run(t *testing.T, f Factory) {
	t.Helper()
	part := func(name string, ok bool, fn func(t *testing.T)) {
		if !ok {
			t.Logf("cachetest: no %s factory; part skipped", name)
			return
		}
		t.Run(name, fn)
	}
	part("Cache", f.Cache != nil, func(t *testing.T) { testCache(t, f.Cache, f.FakeClock) })
	part("Locker", f.Lockers != nil, func(t *testing.T) { testLocker(t, f.Lockers, f.FakeClock) })
	part("Limiter", f.Limiters != nil, func(t *testing.T) { TestLimiter(t, f.Limiters) })
	part("Sessions", f.Sessions != nil, func(t *testing.T) { testSessions(t, f.Sessions, f.FakeClock) })
	part("PubSub", f.PubSub != nil, func(t *testing.T) { TestPubSub(t, f.PubSub) })
	part("Stream", f.Streams != nil, func(t *testing.T) { testStream(t, f.Streams, f.FakeClock) })
}

// onClock returns fn, run inside a synctest bubble when fake is set.
func onClock(fake bool, fn func(t *testing.T)) func(t *testing.T) {
	if !fake {
		return fn
	}
	return func(t *testing.T) { synctest.Test(t, fn) }
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestCache checks a Cache implementation.
func TestCache(t *testing.T, newCache func(t *testing.T) cache.Cache) {
	testCache(t, newCache, false)
}

func testCache(t *testing.T, newCache func(t *testing.T) cache.Cache, fake bool) {
	t.Run("Basic", func(t *testing.T) {
		c, ctx := newCache(t), ctxT(t)
		_, err := c.Get(ctx, "missing")
		wantErr(t, err, cache.ErrNotFound, "get missing")
		noErr(t, c.Set(ctx, "k1", []byte("v1"), time.Minute), "set")
		v, err := c.Get(ctx, "k1")
		noErr(t, err, "get")
		if string(v) != "v1" {
			t.Fatalf("get = %q, want v1", v)
		}
		noErr(t, c.Set(ctx, "empty", []byte{}, time.Minute), "set empty value")
		if v, err := c.Get(ctx, "empty"); err != nil || len(v) != 0 {
			t.Fatalf("get empty = %q, %v", v, err)
		}
		ok, err := c.Exists(ctx, "k1")
		noErr(t, err, "exists")
		if !ok {
			t.Fatal("exists = false after set")
		}
		ok, err = c.Delete(ctx, "k1")
		if err != nil || !ok {
			t.Fatalf("delete = %v, %v; want true", ok, err)
		}
		ok, err = c.Delete(ctx, "k1")
		if err != nil || ok {
			t.Fatalf("second delete = %v, %v; want false", ok, err)
		}
		if ok, err := c.Exists(ctx, "k1"); err != nil || ok {
			t.Fatalf("exists after delete = %v, %v", ok, err)
		}
	})
	t.Run("TTL", onClock(fake, func(t *testing.T) {
		c, ctx := newCache(t), ctxT(t)
		noErr(t, c.Set(ctx, "default", []byte("x"), 0), "set default ttl")
		d, err := c.TTL(ctx, "default")
		noErr(t, err, "ttl")
		if d <= 0 || d > lucidkeys.CacheTTLDefault {
			t.Fatalf("ttl with zero TTL = %v, want in (0, %v]", d, lucidkeys.CacheTTLDefault)
		}
		noErr(t, c.Set(ctx, "forever", []byte("x"), cache.NoExpiry), "set no expiry")
		if d, err := c.TTL(ctx, "forever"); err != nil || d != cache.NoExpiry {
			t.Fatalf("ttl of persistent = %v, %v; want NoExpiry", d, err)
		}
		noErr(t, c.Expire(ctx, "forever", time.Hour), "expire")
		if d, err := c.TTL(ctx, "forever"); err != nil || d <= time.Hour-time.Minute || d > time.Hour {
			t.Fatalf("ttl after expire = %v, %v", d, err)
		}
		noErr(t, c.Expire(ctx, "forever", cache.NoExpiry), "persist")
		if d, err := c.TTL(ctx, "forever"); err != nil || d != cache.NoExpiry {
			t.Fatalf("ttl after persist = %v, %v", d, err)
		}
		_, err = c.TTL(ctx, "missing")
		wantErr(t, err, cache.ErrNotFound, "ttl missing")
		wantErr(t, c.Expire(ctx, "missing", time.Minute), cache.ErrNotFound, "expire missing")
		noErr(t, c.Set(ctx, "short", []byte("x"), 50*time.Millisecond), "set short")
		time.Sleep(120 * time.Millisecond)
		_, err = c.Get(ctx, "short")
		wantErr(t, err, cache.ErrNotFound, "get after expiry")
	}))
	t.Run("BadInput", func(t *testing.T) {
		c, ctx := newCache(t), ctxT(t)
		for _, k := range []string{"", "has space", "br{ace}", strings.Repeat("k", lucidkeys.MaxKeyIDLen+1), "new\nline"} {
			wantErr(t, c.Set(ctx, k, []byte("x"), time.Minute), cache.ErrInvalid, "set key "+k)
			_, err := c.Get(ctx, k)
			wantErr(t, err, cache.ErrInvalid, "get key "+k)
		}
		wantErr(t, c.Set(ctx, "k", nil, time.Minute), cache.ErrInvalid, "nil value")
		wantErr(t, c.Set(ctx, "k", []byte("x"), -time.Second), cache.ErrInvalid, "negative ttl")
		wantErr(t, c.Set(ctx, "k", []byte("x"), time.Microsecond), cache.ErrInvalid, "sub-ms ttl")
		wantErr(t, c.Expire(ctx, "k", -5*time.Second), cache.ErrInvalid, "negative expire")
		wantErr(t, c.Set(ctx, "k", make([]byte, cache.DefaultMaxValueSize+1), time.Minute), cache.ErrInvalid, "oversized value")
		_, err := c.GetOrLoad(ctx, "k", time.Minute, nil)
		wantErr(t, err, cache.ErrInvalid, "nil loader")
		_, err = cache.NewTyped[int](nil, cache.TypedOptions{})
		wantErr(t, err, cache.ErrInvalid, "nil cache")
		_, err = cache.NewTyped[int](c, cache.TypedOptions{Older: []cache.Codec{nil}})
		wantErr(t, err, cache.ErrInvalid, "nil codec")
	})
	t.Run("Typed", func(t *testing.T) {
		c, ctx := newCache(t), ctxT(t)
		type manifest struct {
			ID    string
			Parts []int
		}
		tc, err := cache.NewTyped[manifest](c, cache.TypedOptions{})
		noErr(t, err, "typed")
		in := manifest{ID: "m1", Parts: []int{1, 2, 3}}
		noErr(t, tc.Set(ctx, "m1", in, time.Minute), "typed set")
		out, err := tc.Get(ctx, "m1")
		noErr(t, err, "typed get")
		if out.ID != in.ID || len(out.Parts) != 3 {
			t.Fatalf("typed get = %+v", out)
		}
		raw, err := c.Get(ctx, "m1")
		noErr(t, err, "raw get")
		if raw[0] != (cache.JSONCodec{}).Version() || !bytes.HasPrefix(raw[1:], []byte("{")) {
			t.Fatalf("stored bytes %q lack the version prefix", raw)
		}
		noErr(t, c.Set(ctx, "bad", []byte{99, '{'}, time.Minute), "set unknown version")
		_, err = tc.Get(ctx, "bad")
		wantErr(t, err, cache.ErrCorrupt, "unknown version")
		noErr(t, c.Set(ctx, "bad", []byte{1, '{'}, time.Minute), "set bad json")
		_, err = tc.Get(ctx, "bad")
		wantErr(t, err, cache.ErrCorrupt, "bad payload")
	})
	t.Run("GetOrLoadStampede", onClock(fake, func(t *testing.T) {
		c, ctx := newCache(t), ctxT(t)
		var calls atomic.Int32
		release := make(chan struct{})
		load := func(ctx context.Context) ([]byte, error) {
			calls.Add(1)
			<-release
			return []byte("loaded"), nil
		}
		const n = 32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				v, err := c.GetOrLoad(ctx, "hot", time.Minute, load)
				if err == nil && string(v) != "loaded" {
					err = errors.New("wrong value " + string(v))
				}
				errs <- err
			})
		}
		time.Sleep(100 * time.Millisecond)
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			noErr(t, err, "get or load")
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("loader ran %d times, want 1", got)
		}
		if v, err := c.Get(ctx, "hot"); err != nil || string(v) != "loaded" {
			t.Fatalf("value not stored: %q, %v", v, err)
		}
	}))
	t.Run("GetOrLoadDetached", func(t *testing.T) {
		c, ctx := newCache(t), ctxT(t)
		first, cancelFirst := context.WithCancel(ctx)
		started, finish := make(chan struct{}), make(chan struct{})
		loaderErr := make(chan error, 1)
		go func() {
			_, err := c.GetOrLoad(first, "slow", time.Minute, func(lctx context.Context) ([]byte, error) {
				close(started)
				<-finish
				loaderErr <- lctx.Err()
				return []byte("v"), nil
			})
			if !errors.Is(err, context.Canceled) {
				loaderErr <- errors.New("first caller: want context.Canceled, got " + errString(err))
			}
		}()
		<-started
		cancelFirst()
		// Another caller gives up on its own short ctx.
		short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := c.GetOrLoad(short, "slow", time.Minute, func(context.Context) ([]byte, error) {
			return nil, errors.New("second loader must not run")
		})
		cancelShort()
		wantErr(t, err, context.DeadlineExceeded, "waiting caller")
		close(finish)
		if err := <-loaderErr; err != nil {
			t.Fatalf("loader ctx: %v (must not be cancelled with the first caller)", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			v, err := c.Get(ctx, "slow")
			if err == nil && string(v) == "v" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("detached load did not store its value: %q, %v", v, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("GetOrLoadError", func(t *testing.T) {
		c, ctx := newCache(t), ctxT(t)
		boom := errors.New("boom")
		_, err := c.GetOrLoad(ctx, "e", time.Minute, func(context.Context) ([]byte, error) { return nil, boom })
		wantErr(t, err, boom, "loader error")
		if ok, _ := c.Exists(ctx, "e"); ok {
			t.Fatal("a failed load stored a value")
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
