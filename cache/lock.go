package cache

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/internal/backoff"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Locker hands out named distributed locks.
//
// What a lock guarantees: a lease plus a fencing token. While the lease
// has not expired on the Redis master, at most one holder exists; every
// successful Obtain returns a fencing token strictly greater than any
// token issued before for that name. What it does not guarantee: mutual
// exclusion across a Redis failover (replication is asynchronous, a
// promoted replica may not know the lock), or across a holder that
// stalls longer than its lease (GC pause, swapped-out process). Protect
// the resource itself by passing Fence with every write and having the
// resource reject tokens older than the newest it has seen; watch
// Lock.Context to stop work as soon as the lease is known to be lost.
type Locker interface {
	// Obtain acquires the lock name. Without a retry policy it tries
	// once; with one it retries with backoff and jitter until it gets the
	// lock, the attempts run out (ErrLockNotObtained) or ctx is done
	// (ctx's error). Redis failures are returned at once (ErrUnavailable).
	Obtain(ctx context.Context, name string, opts LockOptions) (Lock, error)
}

// Lock is a held lease. Methods are safe for concurrent use.
type Lock interface {
	// Name returns the name passed to Obtain.
	Name() string
	// Fence returns the fencing token: strictly increasing per name.
	Fence() int64
	// Context is cancelled when the lock is released or known to be
	// lost (context.Cause tells which: ErrLockExpired, ErrLockTaken or
	// context.Canceled after Release), and in any case a drift margin
	// before the lease runs out by the local clock: at start + TTL −
	// (TTL·DriftFactor + DriftMargin), start being the moment the Obtain
	// or Refresh that set the lease was sent (see LockerOptions). So a
	// holder that stalls past its lease has its Context done before the
	// server can give the lock to anyone else, provided its clock runs no
	// slower than the server's by more than the margin allows.
	Context() context.Context
	// Refresh extends the lease to ttl from now (0: the lock's TTL). It
	// fails with ErrLockExpired or ErrLockTaken (both ErrLockNotHeld)
	// once the lease is lost, and keeps failing once Context was
	// cancelled for a lost lease (even if the local clock ran out a few
	// milliseconds before the server's).
	Refresh(ctx context.Context, ttl time.Duration) error
	// Release gives the lock up. It fails with ErrLockNotHeld (as
	// ErrLockExpired or ErrLockTaken) if the lease was already lost,
	// and never deletes another owner's lock.
	Release(ctx context.Context) error
}

// LockOptions configures one Obtain. The zero value means a
// lucidkeys.LockTTL lease, a single attempt and a watchdog.
type LockOptions struct {
	// TTL is the lease; 0 means lucidkeys.LockTTL; negative, below 1ms
	// or above MaxLockTTL is ErrInvalid.
	TTL time.Duration
	// Retry, if set, makes Obtain wait for a held lock.
	Retry *Backoff
	// NoWatchdog disables the goroutine that refreshes the lease every
	// TTL/3 and cancels Context when a refresh finds the lock lost.
	NoWatchdog bool
}

// Backoff is the retry policy of Obtain: exponential backoff with full
// jitter, the SDK's one retry shape. The wait before retry n (n = 1 for
// the first) is drawn uniformly from (0, min(Max, Min·2ⁿ⁻¹)]: full jitter
// spreads contenders for one lock the most, so they collide least.
// Waits never outlast the caller's ctx.
type Backoff struct {
	Min      time.Duration // cap of the first wait; default 10ms
	Max      time.Duration // cap of every wait; default 1s
	Attempts int           // total attempts including the first; 0 = until ctx is done
}

// defaultBackoff fills the zero fields of a Backoff.
var defaultBackoff = backoff.Policy{Min: 10 * time.Millisecond, Max: time.Second}

// policy maps b onto the SDK's retry policy.
func (b *Backoff) policy() backoff.Policy {
	return backoff.Policy{Min: b.Min, Max: b.Max, Attempts: b.Attempts}.Normalize(defaultBackoff)
}

// LockerOptions configures a Locker. The zero value is usable.
type LockerOptions struct {
	// Entity is the key's entity segment: a lock named n lives at
	// lucid:lock:{entity}:{n} and its fencing counter at
	// lucid:lock:{entity}:{n}:fence — one hash tag, one Cluster slot.
	// Default "lock".
	Entity string
	// Logger receives watchdog events; nil discards.
	Logger *slog.Logger
	// DriftFactor and DriftMargin set how long before the local end of a
	// lease Lock.Context is cancelled: TTL·DriftFactor + DriftMargin, as
	// in Redlock's clock-drift allowance. The margin absorbs a timer that
	// fires late, a local clock running slower than the server's, and the
	// server's own expiry granularity. Defaults 0.01 and 2 ms (a 30 s
	// lease ends 302 ms early). DriftFactor must be in [0, 1) and
	// DriftMargin not negative; a lease no longer than its margin has its
	// Context done at once.
	DriftFactor float64
	DriftMargin time.Duration
}

// Defaults of LockerOptions' drift allowance.
const (
	DefaultDriftFactor = 0.01
	DefaultDriftMargin = 2 * time.Millisecond
)

// drift is a locker's allowance for clock drift and timer lateness.
type drift struct {
	factor float64
	fixed  time.Duration
}

func newDrift(o LockerOptions) (drift, error) {
	d := drift{factor: o.DriftFactor, fixed: o.DriftMargin}
	switch {
	case !(d.factor >= 0 && d.factor < 1): // also NaN
		return d, invalidf("lock drift factor %v: want 0 <= f < 1", d.factor)
	case d.fixed < 0:
		return d, invalidf("negative lock drift margin %v", d.fixed)
	}
	if d.factor == 0 {
		d.factor = DefaultDriftFactor
	}
	if d.fixed == 0 {
		d.fixed = DefaultDriftMargin
	}
	return d, nil
}

// validity is how long after start a lease of ttl is trusted locally.
func (d drift) validity(ttl time.Duration) time.Duration {
	return ttl - time.Duration(float64(ttl)*d.factor) - d.fixed
}

// MaxLockTTL caps a lock's lease (Obtain and Refresh; ErrInvalid above
// it). A live holder never needs a long lease — the watchdog refreshes it
// every TTL/3 — so a long TTL only decides how long a crashed holder
// blocks everyone else; a day bounds that cost of a mistaken unit (a lock
// of 200 years was accepted before) while leaving room for a holder that
// refreshes by hand.
const MaxLockTTL = 24 * time.Hour

// FenceTTL is the lifetime of a lock's fencing counter, renewed by every
// Obtain. Without it every lock name ever used would keep a key forever.
//
// Why expiry is safe: an Obtain sets the counter to
// max(counter + 1, Redis TIME in µs), so a token is never below the server
// time it was issued at, nor (an Obtain takes well over a microsecond)
// more than a few µs above it. The counter disappears only after FenceTTL
// without any Obtain of the name, and the next Obtain then starts again
// from TIME, which by then is at least FenceTTL (2.6·10¹² µs) past every
// token issued before — including any a stale holder still carries, whose
// lease cannot outlive MaxLockTTL anyway. The same seeding keeps tokens
// increasing when the counter is lost otherwise (evicted, or missing on a
// promoted replica), provided the server's clock is not set back by more
// than the time since the last Obtain. Tokens are about 1.7·10¹⁵ today,
// exact in the script's doubles until the year 2255.
//
// A Memory's locker counts from 1 per name and keeps its counters for the
// Memory's lifetime: nothing outlives the process there.
const FenceTTL = 30 * 24 * time.Hour

func lockTTL(ttl time.Duration) (time.Duration, error) {
	switch {
	case ttl == 0:
		return lucidkeys.LockTTL, nil
	case ttl < time.Millisecond:
		return 0, invalidf("lock TTL %v: want 0 (default) or at least 1ms", ttl)
	case ttl > MaxLockTTL:
		return 0, invalidf("lock TTL %v: more than MaxLockTTL (%v)", ttl, MaxLockTTL)
	}
	return ttl, nil
}

// Scripts. KEYS[1] is the lock, KEYS[2] its fencing counter (same slot).
var (
	// obtainScript takes the lock KEYS[1] (token ARGV[1], lease ARGV[2]
	// ms) and returns the new fencing token max(counter+1, TIME in µs),
	// stored in KEYS[2] for ARGV[3] ms (see FenceTTL); 0 if the lock is
	// held. A counter of the old INCR layout (a small integer) is
	// overtaken by TIME at once.
	obtainScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local t = redis.call('TIME')
  local f = math.max((tonumber(redis.call('GET', KEYS[2])) or 0) + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
  redis.call('SET', KEYS[2], string.format('%.0f', f), 'PX', ARGV[3])
  return f
end
return 0`)
	// 1: done; 0: no lock (expired); -1: another owner.
	refreshScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return -1 end
return 0`)
	releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
if v then return -1 end
return 0`)
)

// RedisLocker is the Redis implementation of Locker.
type RedisLocker struct {
	rdb    redis.UniversalClient
	entity string
	log    *slog.Logger
	drift  drift
	m      *meters // set by Client.Locker
}

var _ Locker = (*RedisLocker)(nil)

// NewRedisLocker returns a Locker on rdb.
func NewRedisLocker(rdb redis.UniversalClient, opts LockerOptions) (*RedisLocker, error) {
	if rdb == nil {
		return nil, invalidf("redis client is nil")
	}
	e := opts.Entity
	if e == "" {
		e = "lock"
	}
	if _, err := lucidkeys.KeyPrefix(lucidkeys.ServiceLock, e); err != nil {
		return nil, fmt.Errorf("cache: locker entity: %w: %w", ErrInvalid, err)
	}
	d, err := newDrift(opts)
	if err != nil {
		return nil, err
	}
	return &RedisLocker{rdb: rdb, entity: e, log: logger(opts.Logger), drift: d}, nil
}

// Keys returns the lock key and fencing counter key of name.
func (l *RedisLocker) Keys(name string) (lock, fence string, err error) {
	k, err := lucidkeys.NewTaggedKey(lucidkeys.ServiceLock, l.entity, name, "")
	if err != nil {
		return "", "", fmt.Errorf("cache: lock name: %w: %w", ErrInvalid, err)
	}
	f := k
	f.ID = "fence"
	return k.String(), f.String(), nil
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Obtain implements Locker.
func (l *RedisLocker) Obtain(ctx context.Context, name string, opts LockOptions) (Lock, error) {
	lk, err := l.obtain(ctx, name, opts)
	l.m.obtained(ctx, err)
	return lk, err
}

func (l *RedisLocker) obtain(ctx context.Context, name string, opts LockOptions) (Lock, error) {
	key, fence, err := l.Keys(name)
	if err != nil {
		return nil, err
	}
	ttl, err := lockTTL(opts.TTL)
	if err != nil {
		return nil, err
	}
	token := newToken()
	for attempt := 0; ; attempt++ {
		start := time.Now()
		n, err := obtainScript.Run(ctx, l.rdb, []string{key, fence}, token, ttl.Milliseconds(), FenceTTL.Milliseconds()).Int64()
		if err != nil {
			return nil, wrapErr(ctx, "lock obtain", err)
		}
		if n > 0 {
			s := newLockState(name, n, ttl, start, opts.NoWatchdog, l.log, l.drift, &redisLockOps{l: l, key: key, token: token})
			if l.m != nil {
				s.mu.Lock()
				s.onLost = l.m.lost
				s.mu.Unlock()
			}
			return s, nil
		}
		l.m.contended(ctx)
		if err := waitRetry(ctx, name, opts, attempt); err != nil {
			return nil, err
		}
	}
}

// waitRetry decides, for both lockers, whether a lock that was held by
// another owner is tried again: ErrLockNotObtained without a retry strategy
// or once its attempts are used up, the ctx error if ctx ends while waiting,
// nil after the backoff.
func waitRetry(ctx context.Context, name string, opts LockOptions, attempt int) error {
	if opts.Retry == nil || (opts.Retry.Attempts > 0 && attempt+1 >= opts.Retry.Attempts) {
		return fmt.Errorf("cache: lock %q: %w", name, ErrLockNotObtained)
	}
	if err := opts.Retry.policy().Wait(ctx, attempt+1); err != nil {
		return fmt.Errorf("cache: lock %q: waiting: %w", name, err)
	}
	return nil
}

// lockOps is what a lock implementation provides to lockState.
type lockOps interface {
	// refresh and release return 1 (done), 0 (expired), -1 (taken).
	refresh(ctx context.Context, ttl time.Duration) (int64, error)
	release(ctx context.Context) (int64, error)
}

type redisLockOps struct {
	l     *RedisLocker
	key   string
	token string
}

func (o *redisLockOps) refresh(ctx context.Context, ttl time.Duration) (int64, error) {
	n, err := refreshScript.Run(ctx, o.l.rdb, []string{o.key}, o.token, ttl.Milliseconds()).Int64()
	return n, wrapErr(ctx, "lock refresh", err)
}

func (o *redisLockOps) release(ctx context.Context) (int64, error) {
	n, err := releaseScript.Run(ctx, o.l.rdb, []string{o.key}, o.token).Int64()
	return n, wrapErr(ctx, "lock release", err)
}

// lockState is the implementation-independent part of a Lock: the
// lease clock, the watchdog and the Context.
type lockState struct {
	name   string
	fence  int64
	ops    lockOps
	log    *slog.Logger
	drift  drift
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	ttl      time.Duration
	timer    *time.Timer // fires a drift margin before the local lease end
	watch    *time.Timer // next watchdog refresh; nil without a watchdog
	released bool
	until    time.Time   // local end of the lease less the drift margin
	onLost   func(error) // counts a lost lease (Config.MeterProvider); may be nil
}

// lockCtx is the Context a Lock hands out. Its timer may fire late on a
// loaded machine, so every look at it (Done, Err, Value, hence
// context.Cause) first checks the clock itself: once the lease's local end
// has passed, whoever looks sees it done, timer or not. It reports no
// Deadline: a Refresh moves the end, and contexts derived with an earlier
// deadline would end too soon.
type lockCtx struct {
	context.Context
	s *lockState
}

func (c lockCtx) Done() <-chan struct{} { c.s.expireIfDue(); return c.Context.Done() }
func (c lockCtx) Err() error            { c.s.expireIfDue(); return c.Context.Err() }
func (c lockCtx) Value(k any) any       { c.s.expireIfDue(); return c.Context.Value(k) }

// expireIfDue cancels the context if the local lease end has passed.
func (s *lockState) expireIfDue() {
	s.mu.Lock()
	due := !s.released && s.ctx.Err() == nil && !time.Now().Before(s.until)
	s.mu.Unlock()
	if due {
		s.lost(ErrLockExpired)
	}
}

func newLockState(name string, fence int64, ttl time.Duration, start time.Time, noWatchdog bool, log *slog.Logger, d drift, ops lockOps) *lockState {
	s := &lockState{name: name, fence: fence, ops: ops, log: log, drift: d, ttl: ttl}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.until = start.Add(d.validity(ttl))
	s.timer = time.AfterFunc(time.Until(s.until), func() { s.lost(ErrLockExpired) })
	if !noWatchdog {
		// A timer rather than a goroutine: nothing runs between refreshes
		// and Release never waits for a watchdog to notice.
		s.watch = time.AfterFunc(ttl/3, s.tick)
	}
	return s
}

// lost cancels the context for a lost lease, unless Release came first.
func (s *lockState) lost(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.released {
		if s.onLost != nil && s.ctx.Err() == nil {
			s.onLost(cause)
		}
		s.cancel(cause)
	}
}

// tick is the watchdog: it refreshes the lease every TTL/3 until the
// lock is released or lost. Failed refreshes are retried on the next tick
// until the local lease end cancels the context.
func (s *lockState) tick() {
	s.mu.Lock()
	every := s.ttl / 3
	stop := s.released || s.ctx.Err() != nil
	s.mu.Unlock()
	if stop {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, every)
	err := s.Refresh(ctx, 0)
	cancel()
	switch {
	case errors.Is(err, ErrLockNotHeld):
		s.log.Warn("cache: lock lost", "lock", s.name, "err", err)
		return
	case err != nil:
		s.log.Warn("cache: lock refresh failed; retrying until the lease ends", "lock", s.name, "err", err)
	}
	s.mu.Lock()
	if !s.released && s.ctx.Err() == nil {
		s.watch.Reset(s.ttl / 3)
	}
	s.mu.Unlock()
}

func (s *lockState) Name() string             { return s.name }
func (s *lockState) Fence() int64             { return s.fence }
func (s *lockState) Context() context.Context { return lockCtx{s.ctx, s} }

func lockResult(name string, n int64) error {
	switch n {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("cache: lock %q: %w", name, ErrLockExpired)
	}
	return fmt.Errorf("cache: lock %q: %w", name, ErrLockTaken)
}

func (s *lockState) Refresh(ctx context.Context, ttl time.Duration) error {
	s.mu.Lock()
	released := s.released
	if ttl == 0 {
		ttl = s.ttl
	}
	s.mu.Unlock()
	if ttl < time.Millisecond || ttl > MaxLockTTL {
		return invalidf("lock TTL %v: want 0 (the lock's TTL) or 1ms..MaxLockTTL (%v)", ttl, MaxLockTTL)
	}
	if released {
		return fmt.Errorf("cache: lock %q: released: %w", s.name, ErrLockNotHeld)
	}
	if cause := context.Cause(s.ctx); errors.Is(cause, ErrLockNotHeld) {
		// Once the holder has been told the lease is over, it stays over.
		return fmt.Errorf("cache: lock %q: %w", s.name, cause)
	}
	start := time.Now()
	n, err := s.ops.refresh(ctx, ttl)
	if err != nil {
		return err
	}
	if err := lockResult(s.name, n); err != nil {
		s.lost(errors.Unwrap(err))
		return err
	}
	s.mu.Lock()
	if s.ctx.Err() == nil {
		s.ttl = ttl
		s.until = start.Add(s.drift.validity(ttl))
		s.timer.Reset(time.Until(s.until))
	}
	s.mu.Unlock()
	return nil
}

func (s *lockState) Release(ctx context.Context) error {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return fmt.Errorf("cache: lock %q: already released: %w", s.name, ErrLockNotHeld)
	}
	s.released = true
	s.timer.Stop()
	if s.watch != nil {
		s.watch.Stop()
	}
	s.mu.Unlock()
	n, err := s.ops.release(ctx)
	if err == nil {
		err = lockResult(s.name, n)
	}
	s.cancel(context.Canceled)
	return err
}
