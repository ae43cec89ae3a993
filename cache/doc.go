// Package cache is the Redis layer of the Lucid data tier, built on go-redis v9
// (single node, Sentinel or Cluster through redis.UniversalClient): a cache with
// TTLs, sessions, rate limiting, distributed locks with fencing tokens, pub/sub
// and health.
package cache
