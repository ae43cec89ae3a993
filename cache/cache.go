package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// NoExpiry, passed as a TTL, stores a value that never expires; TTL
// returns it for a key without an expiry. Any other negative TTL is
// rejected with ErrInvalid, and a zero TTL means the cache's default
// (lucidkeys.CacheTTLDefault unless CacheOptions.DefaultTTL says otherwise).
const NoExpiry time.Duration = -1

// Default limits of a cache.
const (
	DefaultMaxValueSize = 16 << 20         // bytes; Redis itself allows 512 MB
	DefaultLoadTimeout  = 30 * time.Second // for a GetOrLoad loader
)

// Loader produces a value on a cache miss. Its ctx is detached from the
// caller's (it is not cancelled when the caller gives up) and carries the
// cache's load timeout.
type Loader func(ctx context.Context) ([]byte, error)

// Cache stores byte values under string keys with a lifetime. Keys are ids
// of one entity: a Redis implementation stores key k as
// lucid:cache:{entity}:{k} (see lucidkeys), so a key must be non-empty
// printable text without whitespace or braces, at most
// lucidkeys.MaxKeyIDLen bytes; anything else is ErrInvalid.
//
// TTL arguments: NoExpiry keeps the value forever, zero means the
// default TTL, a positive TTL must be at least a millisecond, anything
// else is ErrInvalid.
type Cache interface {
	// Get returns the value, or an error wrapping ErrNotFound on a miss.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl, replacing any previous value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key and reports whether it existed.
	Delete(ctx context.Context, key string) (bool, error)
	// Exists reports whether key holds a value.
	Exists(ctx context.Context, key string) (bool, error)
	// TTL returns the remaining lifetime (millisecond precision), NoExpiry
	// for a persistent key, or ErrNotFound.
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Expire sets a new lifetime (NoExpiry removes it); ErrNotFound if
	// the key does not exist.
	Expire(ctx context.Context, key string, ttl time.Duration) error
	// GetOrLoad returns the cached value or, on a miss, runs load, stores
	// its result for ttl and returns it. Concurrent misses of one key in
	// one Cache value share a single load (stampede protection); the load
	// runs detached from the first caller's ctx with the load timeout,
	// and every caller may still give up on its own ctx. A load error is
	// returned to every waiting caller and nothing is stored. When Redis
	// is unavailable the loaded value is still returned.
	GetOrLoad(ctx context.Context, key string, ttl time.Duration, load Loader) ([]byte, error)
}

// CacheOptions configures a cache. The zero value is usable.
type CacheOptions struct {
	// Entity is the key's entity segment (lucid:cache:{entity}:{key});
	// default "value". Use one entity per kind of data, e.g. "manifest".
	Entity string
	// DefaultTTL replaces a zero TTL; default lucidkeys.CacheTTLDefault.
	DefaultTTL time.Duration
	// MaxValueSize bounds a stored value; default DefaultMaxValueSize.
	MaxValueSize int
	// LoadTimeout bounds a GetOrLoad loader; default DefaultLoadTimeout.
	LoadTimeout time.Duration
	// Logger receives failures that are not returned (a Set after a load
	// that failed); nil discards.
	Logger *slog.Logger
}

// cacheCore holds what both implementations share.
type cacheCore struct {
	entity     string
	prefix     string // lucid:cache:<entity>:
	defaultTTL time.Duration
	maxValue   int
	loadTO     time.Duration
	log        *slog.Logger
	flight     singleflight.Group
}

func newCacheCore(o CacheOptions) (*cacheCore, error) {
	c := &cacheCore{entity: o.Entity, defaultTTL: o.DefaultTTL, maxValue: o.MaxValueSize, loadTO: o.LoadTimeout, log: logger(o.Logger)}
	if c.entity == "" {
		c.entity = "value"
	}
	prefix, err := lucidkeys.KeyPrefix(lucidkeys.ServiceCache, c.entity)
	if err != nil {
		return nil, fmt.Errorf("cache: entity: %w: %w", ErrInvalid, err)
	}
	c.prefix = prefix
	switch {
	case c.defaultTTL == 0:
		c.defaultTTL = lucidkeys.CacheTTLDefault
	case c.defaultTTL < 0 && c.defaultTTL != NoExpiry, c.defaultTTL > 0 && c.defaultTTL < time.Millisecond:
		return nil, invalidf("default TTL %v: want NoExpiry or at least 1ms", c.defaultTTL)
	}
	if c.maxValue <= 0 {
		c.maxValue = DefaultMaxValueSize
	}
	if c.loadTO <= 0 {
		c.loadTO = DefaultLoadTimeout
	}
	return c, nil
}

// key validates k and returns the Redis key. Keys of printable ASCII
// without braces (nearly all) take a fast path: one byte loop and one
// concatenation, what lucidkeys.NewKey would accept and render; the rest
// go through NewKey for its full rules and its errors.
func (c *cacheCore) key(k string) (string, error) {
	if len(k) > 0 && len(k) <= lucidkeys.MaxKeyIDLen && len(c.prefix)+len(k) <= lucidkeys.MaxKeyLen && plainASCII(k) {
		return c.prefix + k, nil
	}
	key, err := lucidkeys.NewKey(lucidkeys.ServiceCache, c.entity, k)
	if err != nil {
		return "", fmt.Errorf("cache: key: %w: %w", ErrInvalid, err)
	}
	return key.String(), nil
}

// plainASCII reports whether s holds only printable ASCII other than space
// and braces: always a valid key ID.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b >= 0x7f || b == '{' || b == '}' {
			return false
		}
	}
	return true
}

// ttl resolves a TTL argument.
func (c *cacheCore) ttl(ttl time.Duration) (time.Duration, error) {
	switch {
	case ttl == 0:
		return c.defaultTTL, nil
	case ttl == NoExpiry:
		return NoExpiry, nil
	case ttl < 0:
		return 0, invalidf("negative TTL %v (use NoExpiry for none)", ttl)
	case ttl < time.Millisecond:
		return 0, invalidf("TTL %v is below the 1ms resolution", ttl)
	}
	return ttl, nil
}

func (c *cacheCore) value(v []byte) error {
	if v == nil {
		return invalidf("value is nil")
	}
	if len(v) > c.maxValue {
		return invalidf("value is %d bytes, more than %d", len(v), c.maxValue)
	}
	return nil
}

// getOrLoad implements Cache.GetOrLoad over the other methods of c.
func (c *cacheCore) getOrLoad(ctx context.Context, impl Cache, key string, ttl time.Duration, load Loader) ([]byte, error) {
	if load == nil {
		return nil, invalidf("loader is nil")
	}
	if _, err := c.ttl(ttl); err != nil {
		return nil, err
	}
	v, err := impl.Get(ctx, key)
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnavailable):
	default:
		return nil, err
	}
	ch := c.flight.DoChan(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.loadTO)
		defer cancel()
		// Another process (or a flight that just ended) may have filled it.
		if v, err := impl.Get(lctx, key); err == nil {
			return v, nil
		}
		v, err := load(lctx)
		if err != nil {
			return nil, fmt.Errorf("cache: load %q: %w", key, err)
		}
		if err := impl.Set(lctx, key, v, ttl); err != nil {
			if errors.Is(err, ErrInvalid) {
				return nil, err
			}
			c.log.Warn("cache: storing loaded value failed", "entity", c.entity, "err", err)
		}
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]byte), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cache: get or load: %w", ctx.Err())
	}
}

// RedisCache is the Redis implementation of Cache.
type RedisCache struct {
	rdb redis.UniversalClient
	*cacheCore
}

var _ Cache = (*RedisCache)(nil)

// NewRedisCache returns a Cache on rdb (single node, Sentinel or Cluster).
func NewRedisCache(rdb redis.UniversalClient, opts CacheOptions) (*RedisCache, error) {
	if rdb == nil {
		return nil, invalidf("redis client is nil")
	}
	core, err := newCacheCore(opts)
	if err != nil {
		return nil, err
	}
	return &RedisCache{rdb: rdb, cacheCore: core}, nil
}

// Redis returns the underlying client.
func (c *RedisCache) Redis() redis.UniversalClient { return c.rdb }

// Key returns the Redis key that stores key, for use with the native client.
func (c *RedisCache) Key(key string) (string, error) { return c.key(key) }

// Get implements Cache.
func (c *RedisCache) Get(ctx context.Context, key string) ([]byte, error) {
	k, err := c.key(key)
	if err != nil {
		return nil, err
	}
	v, err := c.rdb.Get(ctx, k).Bytes()
	if err != nil {
		return nil, wrapErr(ctx, "get", err)
	}
	return v, nil
}

// Set implements Cache.
func (c *RedisCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	k, err := c.key(key)
	if err != nil {
		return err
	}
	if err := c.value(value); err != nil {
		return err
	}
	if ttl, err = c.ttl(ttl); err != nil {
		return err
	}
	if ttl == NoExpiry {
		ttl = 0 // go-redis: no expiry
	}
	return wrapErr(ctx, "set", c.rdb.Set(ctx, k, value, ttl).Err())
}

// Delete implements Cache.
func (c *RedisCache) Delete(ctx context.Context, key string) (bool, error) {
	k, err := c.key(key)
	if err != nil {
		return false, err
	}
	n, err := c.rdb.Del(ctx, k).Result()
	return n > 0, wrapErr(ctx, "delete", err)
}

// Exists implements Cache.
func (c *RedisCache) Exists(ctx context.Context, key string) (bool, error) {
	k, err := c.key(key)
	if err != nil {
		return false, err
	}
	n, err := c.rdb.Exists(ctx, k).Result()
	return n > 0, wrapErr(ctx, "exists", err)
}

// TTL implements Cache.
func (c *RedisCache) TTL(ctx context.Context, key string) (time.Duration, error) {
	k, err := c.key(key)
	if err != nil {
		return 0, err
	}
	// Raw PTTL: go-redis turns -1/-2 into durations of -1ns/-2ns.
	n, err := c.rdb.Do(ctx, "PTTL", k).Int64()
	if err != nil {
		return 0, wrapErr(ctx, "ttl", err)
	}
	switch {
	case n == -2:
		return 0, fmt.Errorf("cache: ttl: %w", ErrNotFound)
	case n < 0:
		return NoExpiry, nil
	}
	return time.Duration(n) * time.Millisecond, nil
}

// Expire implements Cache.
func (c *RedisCache) Expire(ctx context.Context, key string, ttl time.Duration) error {
	k, err := c.key(key)
	if err != nil {
		return err
	}
	if ttl, err = c.ttl(ttl); err != nil {
		return err
	}
	var ok bool
	if ttl == NoExpiry {
		if _, err = c.rdb.Persist(ctx, k).Result(); err == nil {
			var n int64
			n, err = c.rdb.Exists(ctx, k).Result()
			ok = n > 0
		}
	} else {
		ok, err = c.rdb.PExpire(ctx, k, ttl).Result()
	}
	if err != nil {
		return wrapErr(ctx, "expire", err)
	}
	if !ok {
		return fmt.Errorf("cache: expire: %w", ErrNotFound)
	}
	return nil
}

// GetOrLoad implements Cache.
func (c *RedisCache) GetOrLoad(ctx context.Context, key string, ttl time.Duration, load Loader) ([]byte, error) {
	return c.getOrLoad(ctx, c, key, ttl, load)
}
