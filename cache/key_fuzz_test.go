package cache_test

import (
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// FuzzCacheKey: the cache's fast key path accepts and renders exactly what
// lucidkeys.NewKey does, and rejects the rest with ErrInvalid.
func FuzzCacheKey(f *testing.F) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	defer rdb.Close()
	c, err := cache.NewRedisCache(rdb, cache.CacheOptions{Entity: "manifest"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"k", "user:42", "", "a b", "{tag}", "é", "\x7f", "~!", string(make([]byte, 513))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		got, err := c.Key(k)
		want, werr := lucidkeys.NewKey(lucidkeys.ServiceCache, "manifest", k)
		switch {
		case werr != nil:
			if !errors.Is(err, cache.ErrInvalid) {
				t.Fatalf("key %q: lucidkeys rejects it (%v), cache gives %q, %v", k, werr, got, err)
			}
		case err != nil || got != want.String():
			t.Fatalf("key %q: cache %q, %v; lucidkeys %q", k, got, err, want.String())
		}
	})
}
