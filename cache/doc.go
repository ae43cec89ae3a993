// Package cache is the Redis layer of the Lucid data tier, built on go-redis
// v9 and working the same on a single node, through Sentinel and on Redis
// Cluster (anything that is a redis.UniversalClient):
//
//   - Cache: Get/Set/Delete/Exists/TTL/Expire of byte values, typed values
//     through a pluggable, versioned Codec (Typed), and GetOrLoad with
//     stampede protection.
//   - SessionStore: bearer-token sessions (32+ random bytes, optionally
//     stored as SHA-256), per-user listing and revocation.
//   - Limiter: an exact, memory-bounded sliding-window rate limiter in one
//     Lua script on Redis server time, with a fail-open/fail-closed policy
//     and net/http Middleware emitting the IETF RateLimit headers.
//   - Locker: leases with fencing tokens, retry with backoff and jitter, and
//     a watchdog that cancels the holder's Context when the lease is lost.
//   - PubSub: publish/subscribe with typed Topics and a Gap notice after a
//     resubscription; Stream: durable delivery on Redis Streams with a
//     consumer group, acknowledgements and claiming of stuck messages.
//   - Health: ping latency, version, role, memory and clients of every node.
//
// # Connecting
//
// New builds a client from a Config (URL, addresses, Sentinel master name)
// and owns it; NewClient wraps a go-redis client the caller owns. Each
// Redis implementation also has a constructor taking a
// redis.UniversalClient directly (NewRedisCache, NewRedisLocker, ...).
// Client.Redis returns the native client as an escape hatch. go-redis
// honours ctx deadlines on a slow server only with ContextTimeoutEnabled,
// which New sets; set it on clients you build yourself.
//
// # Keys
//
// Every key comes from package lucidkeys: lucid:{service}:{entity}:{id}.
// The entity is chosen per implementation (CacheOptions.Entity, ...), the
// id is the caller's key. Keys a script touches together share a hash tag
// (a lock and its fencing counter, a limiter's log and its total), so every
// multi-key script stays inside one Cluster slot. Session keys and their
// per-user index cannot share a slot; SessionStore documents the ordering
// that keeps revocation complete.
//
// # Errors
//
// Errors wrap one of the sentinels — ErrNotFound (a miss), ErrUnavailable
// (Redis down, timeouts, cluster not ready), ErrInvalid (bad input),
// ErrCorrupt (undecodable value), ErrClosed, ErrLockNotObtained,
// ErrLockNotHeld (with ErrLockExpired and ErrLockTaken beneath it) — or the
// caller's context error when its ctx ended first. The go-redis error stays
// reachable through errors.As. Messages start with "cache:" and never
// contain credentials.
//
// # TTLs
//
// A zero TTL means the implementation's default (lucidkeys.CacheTTLDefault
// for the cache, lucidkeys.LockTTL for locks, lucidkeys.SessionTTL for
// sessions), NoExpiry means none (cache only), a negative TTL is
// ErrInvalid. TTLs have millisecond resolution (PEXPIRE).
//
// # In memory
//
// NewMemory returns an in-process implementation of every interface that
// passes the same conformance suite (package cachetest) as Redis and Redis
// Cluster, for unit tests and single-process programs.
package cache
