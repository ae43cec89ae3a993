package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Limiter is a sliding-window rate limiter: it never admits more than
// limit units in any trailing window of length window.
//
// # Algorithm
//
// Each key holds a log of entries (first, last, count): count units
// admitted at times in [first, last]. A request of n units at time now
//
//  1. drops every entry with last <= now-window,
//  2. sums the counts of the remaining entries into total,
//  3. is admitted iff n <= limit and total+n <= limit; then, if the
//     newest entry began less than one precision step ago
//     (now-first < precision) the n units are added to it (last = now),
//     otherwise a new entry (now, now, n) is appended.
//
// Exactness (safety): every unit admitted in (now-window, now] sits in an
// entry whose last lies in that interval too (last >= the unit's time), so
// step 2 counts it; hence total is at least the true number of units in the
// trailing window, and admitting only when total+n <= limit keeps the true
// number at or below limit for every window ending at any admission, which
// is the only time the count grows. Merging only postpones when a unit stops
// counting, by less than one precision step (last-first < precision), so
// the limiter may deny slightly early, never admit too much.
//
// Bounded memory: entries start at least one precision step apart and live
// at most window+precision, so a key holds at most window/precision+2
// entries whatever the limit (about 1,000 with the default precision of
// window/1000) — a limit of 1,000,000 costs no more than a limit of 10. A
// cost n > 1 is one entry, not n.
//
// Time is Redis server time (TIME inside the script, microseconds), so
// clients with skewed clocks agree; per key it is clamped to never run
// backwards. The whole decision is one Lua script on one key's hash tag
// (log and total share a Cluster slot), run with EVALSHA and falling back
// to EVAL on NOSCRIPT, so it works on every shard even after SCRIPT FLUSH.
//
// Exactness assumes Redis keeps the keys until they expire: a key evicted
// under a maxmemory policy forgets the units it held, so a limiter's Redis
// should run with maxmemory-policy noeviction (or volatile-* with memory to
// spare), like any Redis holding state rather than a cache.
type Limiter interface {
	// Allow is AllowN with n = 1.
	Allow(ctx context.Context, key string, limit int64, window time.Duration) (Result, error)
	// AllowN asks to admit n units under key. n = 0 peeks: it reports
	// whether one unit would be admitted, without consuming anything.
	// n > limit is never admitted (RetryAfter is Never). limit must be
	// 1..MaxLimit, window 1ms..MaxWindow and n >= 0, or the call fails
	// with ErrInvalid and is denied whatever the FailurePolicy. When
	// Redis cannot answer the error wraps ErrUnavailable (or the ctx
	// error) and the Result carries the decision of the limiter's
	// FailurePolicy; any other failure is denied.
	AllowN(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Result, error)
	// Reset forgets everything admitted under key.
	Reset(ctx context.Context, key string) error
}

// Result is a limiter decision.
type Result struct {
	Limit     int64 // the limit asked for
	Remaining int64 // units still admissible in the current window, 0..Limit
	Allowed   bool  // whether the request was admitted
	// RetryAfter is set only when denied: the wait until the request
	// would be admitted (Never if n > Limit).
	RetryAfter time.Duration
	// ResetAfter is the wait until the window is empty again.
	ResetAfter time.Duration

	// Time is the clock reading the decision was made at: Redis server
	// time (µs) for the Redis limiter; for the in-memory one, the Memory's
	// own clock (wall time at NewMemory advanced by the monotonic clock),
	// the reading its windows are measured on. Time+RetryAfter is when a
	// denied request would be admitted, on that clock.
	Time time.Time
}

// Limits of the limiter's arithmetic: the script counts in doubles (exact
// for integers below 2^53) and in microseconds of Redis time. A limit,
// window or precision beyond them is ErrInvalid.
const (
	// MaxLimit is the largest limit (2^53 − 1).
	MaxLimit int64 = 1<<53 - 1
	// MaxWindow is the longest window (and precision): 100 years.
	MaxWindow = 100 * 365 * 24 * time.Hour
)

// Never is the RetryAfter of a request that can never be admitted.
const Never time.Duration = -1

// FailurePolicy decides what a Limiter answers when Redis cannot.
type FailurePolicy int

const (
	// FailClosed denies requests while Redis is unavailable (the default).
	FailClosed FailurePolicy = iota
	// FailOpen admits requests while Redis is unavailable.
	FailOpen
)

// LimiterOptions configures a limiter. The zero value is usable.
type LimiterOptions struct {
	// Entity is the key's entity segment: key k lives at
	// lucid:ratelimit:{entity}:{k} (older entries) and
	// lucid:ratelimit:{entity}:{k}:state (total and newest entry), one
	// hash tag. Default "window".
	Entity string
	// Precision is the merge step of the log (see Limiter); default
	// window/1000, at least 1µs. Smaller is more precise and uses more
	// memory.
	Precision time.Duration
	// FailurePolicy applies when Redis is unreachable.
	FailurePolicy FailurePolicy
	// Logger receives failures answered by policy; nil discards.
	Logger *slog.Logger
}

// UserKey returns the limiter key for a user id.
func UserKey(userID string) string { return "user:" + userID }

// IPKey returns the limiter key for a client address. IPv6 addresses are
// limited per /64, since one host usually owns a whole /64.
func IPKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + addr.String()
}

type limiterCore struct {
	entity    string
	precision time.Duration
	policy    FailurePolicy
	log       *slog.Logger
}

func newLimiterCore(o LimiterOptions) (*limiterCore, error) {
	c := &limiterCore{entity: o.Entity, precision: o.Precision, policy: o.FailurePolicy, log: logger(o.Logger)}
	if c.entity == "" {
		c.entity = "window"
	}
	if _, err := lucidkeys.KeyPrefix(lucidkeys.ServiceRateLimit, c.entity); err != nil {
		return nil, fmt.Errorf("cache: limiter entity: %w: %w", ErrInvalid, err)
	}
	if c.precision < 0 || c.precision > MaxWindow {
		return nil, invalidf("limiter precision %v: want 0 (default) to %v", c.precision, MaxWindow)
	}
	if c.policy != FailClosed && c.policy != FailOpen {
		return nil, invalidf("unknown failure policy %d", c.policy)
	}
	return c, nil
}

func (c *limiterCore) check(key string, limit int64, window time.Duration, n int64) (lucidkeys.Key, time.Duration, error) {
	switch {
	case limit <= 0 || limit > MaxLimit:
		return lucidkeys.Key{}, 0, invalidf("limit %d: want 1 to %d", limit, MaxLimit)
	case window < time.Millisecond || window > MaxWindow:
		return lucidkeys.Key{}, 0, invalidf("window %v: want 1ms to %v", window, MaxWindow)
	case n < 0:
		return lucidkeys.Key{}, 0, invalidf("negative cost %d", n)
	}
	k, err := lucidkeys.NewTaggedKey(lucidkeys.ServiceRateLimit, c.entity, key, "")
	if err != nil {
		return k, 0, fmt.Errorf("cache: limiter key: %w: %w", ErrInvalid, err)
	}
	p := c.precision
	if p == 0 {
		p = window / 1000
	}
	p = max(p, time.Microsecond)
	return k, p, nil
}

// failed answers by policy after err. The policy is for a Redis that
// cannot answer (ErrUnavailable, or the caller's ctx ending first); any
// other failure, a script error say, is denied whatever the policy, since
// admitting on it would turn a bug into unlimited admission.
func (c *limiterCore) failed(limit int64, window time.Duration, err error) (Result, error) {
	r := Result{Limit: limit}
	byPolicy := errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	if c.policy == FailOpen && byPolicy {
		r.Allowed = true
	} else {
		r.RetryAfter = min(window, time.Second)
	}
	if !errors.Is(err, ErrInvalid) {
		c.log.Warn("cache: limiter answered by policy", "open", r.Allowed, "err", err)
	}
	return r, err
}

// limiterScript keeps the newest ("open") entry of the log and the running
// total in one small string, KEYS[2] = total, first, last, count, oldest as
// five little-endian doubles (struct.pack: cheaper than formatting and
// parsing decimal text, exact for integers below 2^53; times in µs; count 0
// = no open entry; oldest = score of the oldest closed entry, 0 = none), and
// the closed entries in a sorted set, KEYS[1] (member "first:count", score
// last). An admission that merges into the open entry
// — nearly all of them: a new entry starts once per precision step — is
// TIME, GET and SET, the same three commands as a GCRA; the sorted set is
// touched only when an entry closes or expires, or on a denial.
// ARGV: limit, window µs, n, precision µs, key TTL ms (window+precision).
// Returns {allowed, total, retry µs, reset µs, now µs}.
var limiterScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local limit, window, n, prec, ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local function int(x) return string.format('%d', x) end
local function units(member) return tonumber(string.match(member, ':(%d+)$')) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local total, first, last, count, oldest = 0, 0, 0, 0, 0
local dirty = false
local s = redis.call('GET', KEYS[2])
if s and #s == 40 then
  total, first, last, count, oldest = struct.unpack('<ddddd', s)
else
  -- No state (first use, or lost): rebuild the total from the log.
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do total = total + units(all[i]) end
  if #all > 0 then
    oldest = tonumber(all[2])
    last = tonumber(all[#all])
  end
  dirty = #all > 0
end
-- Per key, time never runs backwards.
if last > now then now = last end
local cutoff = now - window
if count > 0 and last <= cutoff then
  -- The open entry expired, so did every closed one (they are older).
  if oldest > 0 then redis.call('DEL', KEYS[1]) end
  total, count, oldest, dirty = 0, 0, 0, true
elseif oldest > 0 and oldest <= cutoff then
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', int(cutoff))
  for i = 1, #old do total = total - units(old[i]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(cutoff))
  local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  oldest = 0
  if #nxt > 0 then oldest = tonumber(nxt[2]) else total = count end
  dirty = true
end
if total < count then total = count end
local ask = n
if ask == 0 then ask = 1 end
local allowed, retry = 0, 0
if ask > limit then
  retry = -1
elseif total + ask <= limit then
  allowed = 1
else
  -- Wait until enough of the oldest units have left the window.
  local need, freed = total + ask - limit, 0
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    freed = freed + units(all[i])
    if freed >= need then retry = tonumber(all[i+1]) + window - now break end
  end
  if retry == 0 and count > 0 then retry = last + window - now end
  if retry <= 0 then retry = window end
end
if allowed == 1 and n > 0 then
  if count > 0 and now - first < prec then
    last, count = now, count + n
  else
    if count > 0 then
      redis.call('ZADD', KEYS[1], int(last), int(first) .. ':' .. int(count))
      redis.call('PEXPIRE', KEYS[1], ms)
      if oldest == 0 then oldest = last end
    end
    first, last, count = now, now, n
  end
  total, dirty = total + n, true
end
if dirty then
  redis.call('SET', KEYS[2], struct.pack('<ddddd', total, first, last, count, oldest), 'PX', ms)
end
local reset = 0
if total > 0 then reset = last + window - now end
return {allowed, total, retry, reset, now}
`)

// RedisLimiter is the Redis implementation of Limiter.
type RedisLimiter struct {
	rdb redis.UniversalClient
	*limiterCore
	m *meters // set by Client.Limiter
}

var _ Limiter = (*RedisLimiter)(nil)

// NewRedisLimiter returns a Limiter on rdb.
func NewRedisLimiter(rdb redis.UniversalClient, opts LimiterOptions) (*RedisLimiter, error) {
	if rdb == nil {
		return nil, invalidf("redis client is nil")
	}
	core, err := newLimiterCore(opts)
	if err != nil {
		return nil, err
	}
	return &RedisLimiter{rdb: rdb, limiterCore: core}, nil
}

// LoadScripts loads the limiter script on every node (every master of a
// Cluster) so the first EVALSHA finds it. Optional: without it the first
// call on a node falls back to EVAL.
func (l *RedisLimiter) LoadScripts(ctx context.Context) error {
	load := func(ctx context.Context, c *redis.Client) error { return limiterScript.Load(ctx, c).Err() }
	var err error
	if cc, ok := l.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, load)
	} else {
		err = limiterScript.Load(ctx, l.rdb).Err()
	}
	return wrapErr(ctx, "limiter load scripts", err)
}

// Allow implements Limiter.
func (l *RedisLimiter) Allow(ctx context.Context, key string, limit int64, window time.Duration) (Result, error) {
	return l.AllowN(ctx, key, limit, window, 1)
}

// AllowN implements Limiter.
func (l *RedisLimiter) AllowN(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Result, error) {
	r, err := l.allowN(ctx, key, limit, window, n)
	l.m.decision(ctx, r, err)
	return r, err
}

func (l *RedisLimiter) allowN(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Result, error) {
	k, prec, err := l.check(key, limit, window, n)
	if err != nil {
		return Result{Limit: limit}, err
	}
	v, err := limiterScript.Run(ctx, l.rdb, []string{k.String(), stateKey(k)},
		limit, window.Microseconds(), n, prec.Microseconds(), (window+prec).Milliseconds()+1).Int64Slice()
	if err != nil {
		return l.failed(limit, window, wrapErr(ctx, "limiter", err))
	}
	if len(v) != 5 {
		return l.failed(limit, window, fmt.Errorf("cache: limiter: script returned %d values", len(v)))
	}
	return makeResult(limit, v[0] == 1, v[1], v[2], v[3], v[4]), nil
}

func makeResult(limit int64, allowed bool, total, retryUS, resetUS, nowUS int64) Result {
	r := Result{Limit: limit, Allowed: allowed, Remaining: min(max(limit-total, 0), limit),
		ResetAfter: time.Duration(max(resetUS, 0)) * time.Microsecond, Time: time.UnixMicro(nowUS)}
	if !allowed {
		r.RetryAfter = time.Duration(retryUS) * time.Microsecond
		if retryUS < 0 {
			r.RetryAfter = Never
		}
	}
	return r
}

// stateKey is the key of k's total and newest entry, in k's hash tag.
func stateKey(k lucidkeys.Key) string {
	k.ID = "state"
	return k.String()
}

// Reset implements Limiter.
func (l *RedisLimiter) Reset(ctx context.Context, key string) error {
	k, _, err := l.check(key, 1, time.Second, 0)
	if err != nil {
		return err
	}
	// Same slot: one DEL works on Cluster too.
	return wrapErr(ctx, "limiter reset", l.rdb.Del(ctx, k.String(), stateKey(k)).Err())
}

// MemoryLimiter is the in-memory implementation of Limiter, with the same
// algorithm and the same guarantees on the local clock.
type MemoryLimiter struct {
	m *Memory
	*limiterCore
}

type memLog struct {
	entries []memRLEntry // oldest first
	total   int64
	last    time.Time
}

type memRLEntry struct {
	first, last time.Time
	count       int64
}

var _ Limiter = (*MemoryLimiter)(nil)

// Limiter returns an in-memory Limiter. Limiters from one Memory share state.
func (m *Memory) Limiter(opts LimiterOptions) (Limiter, error) {
	if err := m.open("limiter"); err != nil {
		return nil, err
	}
	core, err := newLimiterCore(opts)
	if err != nil {
		return nil, err
	}
	return &MemoryLimiter{m: m, limiterCore: core}, nil
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(ctx context.Context, key string, limit int64, window time.Duration) (Result, error) {
	return l.AllowN(ctx, key, limit, window, 1)
}

// AllowN implements Limiter.
func (l *MemoryLimiter) AllowN(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Result, error) {
	k, prec, err := l.check(key, limit, window, n)
	if err != nil {
		return Result{Limit: limit}, err
	}
	if err := l.m.alive(ctx, "limiter"); err != nil {
		return l.failed(limit, window, err)
	}
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	lg := l.m.rl[k.String()]
	if lg == nil {
		lg = &memLog{}
		l.m.rl[k.String()] = lg
	}
	now := l.m.clock()
	if now.Before(lg.last) {
		now = lg.last
	}
	cut := now.Add(-window)
	i := 0
	for i < len(lg.entries) && !lg.entries[i].last.After(cut) {
		lg.total -= lg.entries[i].count
		i++
	}
	lg.entries = lg.entries[i:]
	ask := max(n, 1)
	var allowed bool
	var retry time.Duration
	switch {
	case ask > limit:
		retry = Never
	case lg.total+ask <= limit:
		allowed = true
	default:
		need, freed := lg.total+ask-limit, int64(0)
		for _, e := range lg.entries {
			if freed += e.count; freed >= need {
				retry = e.last.Add(window).Sub(now)
				break
			}
		}
	}
	if allowed && n > 0 {
		if m := len(lg.entries); m > 0 && now.Sub(lg.entries[m-1].first) < prec {
			lg.entries[m-1].last, lg.entries[m-1].count = now, lg.entries[m-1].count+n
		} else {
			lg.entries = append(lg.entries, memRLEntry{first: now, last: now, count: n})
		}
		lg.total += n
		lg.last = now
	}
	var reset time.Duration
	if m := len(lg.entries); m > 0 {
		reset = lg.entries[m-1].last.Add(window).Sub(now)
	} else {
		delete(l.m.rl, k.String())
	}
	// Report the very reading decided on and the exact waits it implies
	// (makeResult's microseconds are the Redis script's resolution).
	r := makeResult(limit, allowed, lg.total, 0, 0, 0)
	r.Time, r.ResetAfter = now, max(reset, 0)
	if !allowed {
		r.RetryAfter = retry
	}
	return r, nil
}

// Reset implements Limiter.
func (l *MemoryLimiter) Reset(ctx context.Context, key string) error {
	k, _, err := l.check(key, 1, time.Second, 0)
	if err != nil {
		return err
	}
	if err := l.m.alive(ctx, "limiter reset"); err != nil {
		return err
	}
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	delete(l.m.rl, k.String())
	return nil
}
