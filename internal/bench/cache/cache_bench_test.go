package cachebench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/bench/pair"
)

var value = []byte("a-cached-value-of-some-64-bytes..............................!")

func setup(b *testing.B) (*redis.Client, *cache.RedisCache, string) {
	rdb := redisClient(b)
	ns := namespace()
	c, err := cache.NewRedisCache(rdb, cache.CacheOptions{Entity: ns})
	if err != nil {
		b.Fatal(err)
	}
	return rdb, c, ns
}

// BenchmarkCacheParallel: 50/50 Get/Set from GOMAXPROCS*8 goroutines;
// reports ops/s (the seed's target is 10,000 ops/s).
func BenchmarkCacheParallel(b *testing.B) {
	ctx := context.Background()
	rdb, c, _ := setup(b)
	key, _ := c.Key("k")
	_ = c.Set(ctx, "k", value, time.Hour)
	run := func(b *testing.B, op func(i int64) error) {
		var n atomic.Int64
		b.SetParallelism(8)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(n.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
	}
	b.Run("lucid", func(b *testing.B) {
		run(b, func(i int64) error {
			if i%2 == 0 {
				return c.Set(ctx, "k", value, time.Hour)
			}
			_, err := c.Get(ctx, "k")
			return err
		})
	})
	b.Run("go-redis", func(b *testing.B) {
		run(b, func(i int64) error {
			if i%2 == 0 {
				return rdb.Set(ctx, key, value, time.Hour).Err()
			}
			return rdb.Get(ctx, key).Err()
		})
	})
}

// BenchmarkLockObtainRelease: an uncontended obtain plus release, without
// and with the SDK's watchdog (what it costs), and through bsm/redislock.
// The overhead against redislock is measured by BenchmarkPaired.
func BenchmarkLockObtainRelease(b *testing.B) {
	ctx := context.Background()
	rdb, _, ns := setup(b)
	l, err := cache.NewRedisLocker(rdb, cache.LockerOptions{Entity: ns})
	if err != nil {
		b.Fatal(err)
	}
	rl := redislock.New(rdb)
	for _, wd := range []bool{false, true} {
		name := "lucid"
		if wd {
			name = "lucid-watchdog"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				lk, err := l.Obtain(ctx, "job", cache.LockOptions{TTL: 30 * time.Second, NoWatchdog: !wd})
				if err != nil {
					b.Fatal(err)
				}
				if err := lk.Release(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("redislock", func(b *testing.B) {
		for b.Loop() {
			lk, err := rl.Obtain(ctx, fmt.Sprint(ns, ":job"), 30*time.Second, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := lk.Release(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPaired runs each lucid-data operation and its peer's
// interleaved in one loop on the same connection pool (see package pair):
// sdk-ns/op, peer-ns/op and overhead-% per operation. The peers: raw
// go-redis GET and SET PX, redis_rate's GCRA Allow, redislock's
// obtain+release (the SDK's lock without its watchdog, which redislock
// lacks).
func BenchmarkPaired(b *testing.B) {
	ctx := context.Background()
	rdb, c, ns := setup(b)
	key, _ := c.Key("k")
	if err := c.Set(ctx, "k", value, time.Hour); err != nil {
		b.Fatal(err)
	}
	lim, err := cache.NewRedisLimiter(rdb, cache.LimiterOptions{Entity: ns})
	if err != nil {
		b.Fatal(err)
	}
	rr := redis_rate.NewLimiter(rdb)
	const limit = 1_000_000_000
	rrLimit := redis_rate.PerMinute(limit)
	locker, err := cache.NewRedisLocker(rdb, cache.LockerOptions{Entity: ns})
	if err != nil {
		b.Fatal(err)
	}
	rl := redislock.New(rdb)

	b.Run("Get", func(b *testing.B) {
		pair.Run(b,
			func(int) error { _, err := c.Get(ctx, "k"); return err },
			func(int) error { return rdb.Get(ctx, key).Err() })
	})
	b.Run("Set", func(b *testing.B) {
		pair.Run(b,
			func(int) error { return c.Set(ctx, "k", value, time.Hour) },
			func(int) error { return rdb.Set(ctx, key, value, time.Hour).Err() })
	})
	b.Run("LimiterAllow", func(b *testing.B) {
		pair.Run(b,
			func(int) error {
				r, err := lim.Allow(ctx, "user:1", limit, time.Minute)
				if err == nil && !r.Allowed {
					err = fmt.Errorf("denied: %+v", r)
				}
				return err
			},
			func(int) error {
				r, err := rr.Allow(ctx, ns+":user:1", rrLimit)
				if err == nil && r.Allowed == 0 {
					err = fmt.Errorf("denied: %+v", r)
				}
				return err
			})
	})
	b.Run("LockObtainRelease", func(b *testing.B) {
		pair.Run(b,
			func(int) error {
				lk, err := locker.Obtain(ctx, "job", cache.LockOptions{TTL: 30 * time.Second, NoWatchdog: true})
				if err != nil {
					return err
				}
				return lk.Release(ctx)
			},
			func(int) error {
				lk, err := rl.Obtain(ctx, ns+":job", 30*time.Second, nil)
				if err != nil {
					return err
				}
				return lk.Release(ctx)
			})
	})
}

// BenchmarkPairedParallel: the SDK's Get/Set against raw go-redis's from
// 8 goroutines per GOMAXPROCS (16 on two cores), half Gets and half Sets,
// each iteration one SDK and one raw operation of the same kind on one
// shared pool (pair.RunParallel): sdk-ns/op, peer-ns/op, overhead-% and
// pairs/s. Both Gets deliver the value as []byte (what Cache.Get returns).
func BenchmarkPairedParallel(b *testing.B) {
	ctx := context.Background()
	rdb, c, _ := setup(b)
	key, _ := c.Key("k")
	if err := c.Set(ctx, "k", value, time.Hour); err != nil {
		b.Fatal(err)
	}
	pair.RunParallel(b, 8,
		func(i int) error {
			if i&2 == 0 {
				return c.Set(ctx, "k", value, time.Hour)
			}
			_, err := c.Get(ctx, "k")
			return err
		},
		func(i int) error {
			if i&2 == 0 {
				return rdb.Set(ctx, key, value, time.Hour).Err()
			}
			_, err := rdb.Get(ctx, key).Bytes()
			return err
		})
}

// BenchmarkCacheKey: the SDK's own work on every Get and Set besides
// go-redis's — validating a key and building the Redis key.
func BenchmarkCacheKey(b *testing.B) {
	_, c, _ := setup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Key("session:8f3a9c2e"); err != nil {
			b.Fatal(err)
		}
	}
}
