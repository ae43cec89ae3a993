package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/HamiGames/lucid-data/cache"
)

// profileName is service code: it takes the Cache interface, so it runs on
// Redis (Client.Cache) in production and on the in-memory Cache in tests.
func profileName(ctx context.Context, c cache.Cache, userID string, loads *int) (string, error) {
	b, err := c.GetOrLoad(ctx, userID, 5*time.Minute, func(ctx context.Context) ([]byte, error) {
		*loads++ // e.g. a MongoDB read
		return []byte("Ada"), nil
	})
	return string(b), err
}

// A read-through cache: the first call loads, the second is a hit; keys
// that Redis could not hold safely are refused before any round trip.
func ExampleCache() {
	ctx := context.Background()
	c, _ := cache.NewMemory().Cache(cache.CacheOptions{Entity: "profile"})
	loads := 0
	for range 2 {
		name, err := profileName(ctx, c, "u42", &loads)
		fmt.Println(name, err)
	}
	fmt.Println("loads:", loads)

	ttl, _ := c.TTL(ctx, "u42")
	fmt.Println(ttl > 4*time.Minute)
	_, err := c.Get(ctx, "no such user")
	fmt.Println(errors.Is(err, cache.ErrInvalid)) // whitespace in a key
	_, err = c.Get(ctx, "u7")
	fmt.Println(errors.Is(err, cache.ErrNotFound))
	// Output:
	// Ada <nil>
	// Ada <nil>
	// loads: 1
	// true
	// true
	// true
}
