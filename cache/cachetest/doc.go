// Package cachetest is the conformance suite every implementation of the
// cache interfaces passes: Redis, Redis Cluster and the in-memory
// implementation (cache.NewMemory). Run it with a Factory that makes fresh
// implementations:
//
//	func TestConformance(t *testing.T) {
//		cachetest.Run(t, cachetest.Factory{
//			Cache: func(t *testing.T) cache.Cache {
//				c, _ := cache.NewMemory().Cache(cache.CacheOptions{})
//				return c
//			},
//			// Lockers, Limiters, Sessions, PubSub, Streams ...
//		})
//	}
//
// Or run one part with TestCache, TestLocker, TestLimiter, TestSessions,
// TestPubSub or TestStream. The suite covers behaviour (misses, TTL rules,
// stampede protection, typed values), bad input (ErrInvalid for empty or
// oversized keys and values, negative TTLs, nil codecs), lock safety (many
// goroutines on two lockers, thousands of critical sections that must never
// overlap, strictly increasing fencing tokens, stalled holders losing) and
// limiter exactness (no trailing window ever above the limit, at n = 0,
// n > limit and limit = 1,000,000, from concurrent callers).
package cachetest
