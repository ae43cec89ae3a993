// Package cache is the Redis layer of the Lucid data tier: caching, login
// sessions, rate limits, locks and messaging on Redis (single node,
// Sentinel or Cluster, through go-redis v9) or in memory.
//
//	cfg, err := cache.FromEnv() // LUCID_REDIS_URL, LUCID_REDIS_ADDRS, ...
//	c, err := cache.Connect(ctx, cfg)
//	defer c.Close()
//	var b cache.Backend = c // or cache.NewMemory() in unit tests
//	users, err := b.Cache(cache.CacheOptions{Entity: "user"})
//	err = users.Set(ctx, "u42", profile, 10*time.Minute)
//	logins, err := b.Sessions(cache.SessionOptions{})
//	s, err := logins.Create(ctx, "u42", nil, 0) // s.Token goes to the browser
//
// What it offers:
//
//   - Cache: Get/Set/Delete/Exists/TTL/Expire of byte values, typed values
//     through a pluggable, versioned Codec (Typed), and GetOrLoad with
//     stampede protection.
//   - SessionStore: login sessions behind bearer tokens (32+ random bytes,
//     stored only as SHA-256 unless configured otherwise), per-user
//     listing and revocation. These are a user's login sessions; the
//     "sessions" of packages mongostore and search are resumable uploads,
//     something else.
//   - Limiter: an exact, memory-bounded sliding-window rate limiter in one
//     Lua script on Redis server time, with a fail-open/fail-closed policy
//     and net/http Middleware emitting the IETF RateLimit headers.
//   - Locker: leases with fencing tokens, retry with backoff and full
//     jitter, and a watchdog that cancels the holder's Context when the
//     lease is lost.
//   - PubSub: publish/subscribe with typed Topics and a Gap notice after a
//     resubscription; Stream: durable delivery on Redis Streams with a
//     consumer group, acknowledgements and claiming of stuck messages.
//   - Health: Ping, and Check in the SDK's one health.Report shape (up,
//     degraded, down; latency, version, role, memory, clients).
//
// # Connecting
//
// Connect builds a client from a Config (URL, addresses, Sentinel master
// name; FromEnv reads one from the environment), pings it and owns it;
// NewClient wraps a go-redis client the caller owns. Both *Client and
// *Memory implement Backend, so a service swaps Redis for memory in one
// line. Each Redis implementation also has a constructor taking a
// redis.UniversalClient directly (NewRedisCache, NewRedisLocker, ...).
// Client.Redis returns the native client as an escape hatch. go-redis
// honours ctx deadlines on a slow server only with ContextTimeoutEnabled,
// which Connect sets; set it on clients you build yourself. Close is
// idempotent; every call after it fails with ErrClosed.
//
// # Keys
//
// Every key comes from package lucidkeys: lucid:{service}:{entity}:{id}.
// The entity is chosen per implementation (CacheOptions.Entity, ...), the
// id is the caller's key. Keys a script touches together share a hash tag
// (a lock and its fencing counter, a limiter's log and its total, a
// session and its user's index), so every multi-key script stays inside
// one Cluster slot.
//
// # Errors
//
// Errors wrap one of the sentinels — ErrNotFound (a miss), ErrUnavailable
// (Redis down, timeouts, cluster not ready), ErrInvalid (bad input),
// ErrCorrupt (undecodable value), ErrClosed, ErrLockNotObtained,
// ErrLockNotHeld (with ErrLockExpired and ErrLockTaken beneath it) — each
// of one kind of package errkind (NotFound, Unavailable, InvalidArgument,
// DataLoss, Closed, Aborted, FailedPrecondition), so errkind.Of(err)
// answers the same question for every package of the SDK. A call whose
// ctx was cancelled or passed its deadline returns context.Canceled or
// context.DeadlineExceeded (wrapped), never ErrUnavailable, even when
// Redis was also unreachable. The go-redis error stays reachable through
// errors.As. Messages start with "cache:" and never contain credentials
// or session tokens.
//
// # TTLs
//
// A zero TTL means the implementation's default (lucidkeys.CacheTTLDefault
// for the cache, lucidkeys.LockTTL for locks, lucidkeys.SessionTTL for
// sessions), NoExpiry means none (cache only), a negative TTL is
// ErrInvalid. TTLs have millisecond resolution (PEXPIRE). Leases and
// logins are capped: a lock lives at most MaxLockTTL (24 h; the watchdog
// keeps a live holder's lease, so a longer one only delays recovery from
// a crashed holder) and a session at most MaxSessionTTL (30 days; a
// bearer token should not outlive the longest "remember me"); longer is
// ErrInvalid. A lock's fencing counter lives FenceTTL (30 days) after the
// last Obtain, which is safe because tokens follow Redis server time (see
// FenceTTL).
//
// # In memory
//
// NewMemory returns an in-process implementation of every interface that
// passes the same conformance suite (package cachetest) as Redis and Redis
// Cluster, for unit tests and single-process programs.
package cache
