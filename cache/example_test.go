package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
)

// A service takes a Backend and runs on Redis or in memory unchanged.
func ExampleBackend() {
	ctx := context.Background()
	var b cache.Backend = cache.NewMemory()
	// In production: cfg, err := cache.FromEnv(); b, err = cache.Connect(ctx, cfg)
	defer b.Close()

	users, _ := b.Cache(cache.CacheOptions{Entity: "user"})
	_ = users.Set(ctx, "u42", []byte(`{"name":"Ada"}`), time.Minute)
	v, _ := users.Get(ctx, "u42")
	fmt.Println(string(v), b.Check(ctx).Status)

	_ = b.Close()
	_, err := users.Get(ctx, "u42")
	fmt.Println(errkind.Of(err))
	// Output:
	// {"name":"Ada"} up
	// closed
}

// A typed cache with GetOrLoad; the in-memory implementation behaves like
// Redis (cache.Connect or cache.NewRedisCache).
func ExampleTyped() {
	ctx := context.Background()
	c, _ := cache.NewMemory().Cache(cache.CacheOptions{Entity: "manifest"})
	type Manifest struct{ Parts int }
	manifests, _ := cache.NewTyped[Manifest](c, cache.TypedOptions{})

	m, _ := manifests.GetOrLoad(ctx, "m456", 10*time.Minute, func(ctx context.Context) (Manifest, error) {
		return Manifest{Parts: 3}, nil // e.g. read from MongoDB
	})
	fmt.Println(m.Parts)
	_, err := manifests.Get(ctx, "unknown")
	fmt.Println(errors.Is(err, cache.ErrNotFound))
	// Output:
	// 3
	// true
}

func ExampleLocker() {
	ctx := context.Background()
	locker, _ := cache.NewMemory().Locker(cache.LockerOptions{Entity: "payment"})
	lock, err := locker.Obtain(ctx, "tx789", cache.LockOptions{TTL: 30 * time.Second,
		Retry: &cache.Backoff{Min: 10 * time.Millisecond, Max: time.Second}})
	if err != nil {
		return
	}
	defer lock.Release(ctx)
	// Do the work under lock.Context() and pass lock.Fence() to the
	// resource so it can reject a stale holder.
	fmt.Println(lock.Fence(), lock.Context().Err())
	// Output: 1 <nil>
}

func ExampleLimiter() {
	ctx := context.Background()
	limiter, _ := cache.NewMemory().Limiter(cache.LimiterOptions{FailurePolicy: cache.FailClosed})
	for range 3 {
		r, _ := limiter.Allow(ctx, cache.UserKey("user123"), 2, time.Minute)
		fmt.Println(r.Allowed, r.Remaining, r.RetryAfter > 0)
	}
	// Output:
	// true 1 false
	// true 0 false
	// false 0 true
}

func ExampleSessionStore() {
	ctx := context.Background()
	sessions, _ := cache.NewMemory().Sessions(cache.SessionOptions{})
	s, _ := sessions.Create(ctx, "user123", map[string]string{"role": "admin"}, 0)
	got, _ := sessions.Get(ctx, s.Token)
	fmt.Println(got.UserID, got.Values["role"], len(s.Token) >= 43)
	n, _ := sessions.RevokeAll(ctx, "user123")
	fmt.Println(n)
	// Output:
	// user123 admin true
	// 1
}

func ExamplePubSub() {
	ctx := context.Background()
	ps, _ := cache.NewMemory().PubSub(cache.PubSubOptions{})
	sub, _ := ps.Subscribe(ctx, "news")
	defer sub.Close()
	_, _ = ps.Publish(ctx, "news", []byte("hello"))
	m := <-sub.Messages()
	if m.Gap {
		return // resubscribed: messages may have been missed
	}
	fmt.Println(m.Channel, string(m.Payload))
	// Output: news hello
}
