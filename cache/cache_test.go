//go:build !lucidfuzz

package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/cache/cachetest"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }

// redisFactory returns a conformance factory over clients made by newRDB;
// every call of newRDB must return a separate connection pool.
func redisFactory(newRDB func(t *testing.T) redis.UniversalClient) cachetest.Factory {
	return cachetest.Factory{
		Cache: func(t *testing.T) cache.Cache {
			c, err := cache.NewRedisCache(newRDB(t), cache.CacheOptions{Entity: testenv.Namespace(t)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Lockers: func(t *testing.T, n int) []cache.Locker {
			ns := testenv.Namespace(t)
			var ls []cache.Locker
			for range n {
				l, err := cache.NewRedisLocker(newRDB(t), cache.LockerOptions{Entity: ns})
				if err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			return ls
		},
		Limiters: func(t *testing.T, n int) []cache.Limiter {
			ns := testenv.Namespace(t)
			var ls []cache.Limiter
			for range n {
				l, err := cache.NewRedisLimiter(newRDB(t), cache.LimiterOptions{Entity: ns})
				if err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			return ls
		},
		Sessions: func(t *testing.T, opts cache.SessionOptions) cache.SessionStore {
			s, err := cache.NewRedisSessions(newRDB(t), opts)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		PubSub: func(t *testing.T) cache.PubSub {
			p, err := cache.NewRedisPubSub(newRDB(t), cache.PubSubOptions{Entity: testenv.Namespace(t)})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
		Streams: func(t *testing.T, consumers ...string) []cache.Stream {
			ns := testenv.Namespace(t)
			var ss []cache.Stream
			for _, c := range consumers {
				s, err := cache.NewRedisStream(context.Background(), newRDB(t), ns,
					cache.StreamOptions{Group: "g", Consumer: c, Block: 200 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				ss = append(ss, s)
			}
			return ss
		},
	}
}

func memoryFactory() cachetest.Factory {
	return cachetest.Factory{
		Cache: func(t *testing.T) cache.Cache {
			c, err := cache.NewMemory().Cache(cache.CacheOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Lockers: func(t *testing.T, n int) []cache.Locker {
			m := cache.NewMemory()
			var ls []cache.Locker
			for range n {
				l, err := m.Locker(cache.LockerOptions{})
				if err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			return ls
		},
		Limiters: func(t *testing.T, n int) []cache.Limiter {
			m := cache.NewMemory()
			var ls []cache.Limiter
			for range n {
				l, err := m.Limiter(cache.LimiterOptions{})
				if err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			return ls
		},
		Sessions: func(t *testing.T, opts cache.SessionOptions) cache.SessionStore {
			s, err := cache.NewMemory().Sessions(opts)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		PubSub: func(t *testing.T) cache.PubSub {
			p, err := cache.NewMemory().PubSub(cache.PubSubOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
		Streams: func(t *testing.T, consumers ...string) []cache.Stream {
			m := cache.NewMemory()
			var ss []cache.Stream
			for _, c := range consumers {
				s, err := m.Stream(context.Background(), "s", cache.StreamOptions{Group: "g", Consumer: c, Block: 200 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				ss = append(ss, s)
			}
			return ss
		},
	}
}

func TestConformanceRedis(t *testing.T) {
	cachetest.Run(t, redisFactory(func(t *testing.T) redis.UniversalClient { return testenv.Redis(t) }))
}

func TestConformanceCluster(t *testing.T) {
	cachetest.Run(t, redisFactory(func(t *testing.T) redis.UniversalClient { return testenv.RedisCluster(t) }))
}

func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	f := memoryFactory()
	f.FakeClock = true
	cachetest.Run(t, f)
}
