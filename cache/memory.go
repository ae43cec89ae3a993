package cache

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Memory is an in-process stand-in for a Redis server, for users' unit
// tests and single-process deployments. Implementations made from one
// Memory share its state, like clients of one Redis. It passes the same
// cachetest conformance suite as Redis. Expired entries are dropped when
// touched; a Memory holds at most what callers keep alive in it.
type Memory struct {
	mu    sync.Mutex
	kv    map[string]memEntry
	fence map[string]int64
	rl    map[string]*memLog
	locks map[string]*lockState // the latest holder of each lock key

	// The limiter's clock: wall time at NewMemory plus monotonic time
	// elapsed since, so what it decides on and what it reports as
	// Result.Time are one reading (a wall-clock step moves neither).
	epoch, epochWall time.Time

	sessions map[string]memSession
	users    map[string]map[string]bool
	subs     map[string]map[*memSub]bool
	streams  map[string]*memStream

	closed atomic.Bool
	done   chan struct{} // closed by Close: wakes blocked Reads
	once   sync.Once
}

type memEntry struct {
	val []byte
	exp time.Time // zero: no expiry
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	now := time.Now()
	return &Memory{epoch: now, epochWall: now.Round(0), kv: map[string]memEntry{}, fence: map[string]int64{}, rl: map[string]*memLog{}, locks: map[string]*lockState{},
		sessions: map[string]memSession{}, users: map[string]map[string]bool{},
		subs: map[string]map[*memSub]bool{}, streams: map[string]*memStream{}, done: make(chan struct{})}
}

// Close ends m like a Client's Close ends its connection: every later
// call on m or on anything made from it fails with ErrClosed, open
// subscriptions end (their Messages channels are closed) and a blocked
// Stream Read returns. It is idempotent and always returns nil.
func (m *Memory) Close() error {
	m.once.Do(func() {
		m.closed.Store(true)
		close(m.done)
		m.mu.Lock()
		var subs []*memSub
		for _, set := range m.subs {
			for s := range set {
				subs = append(subs, s)
			}
		}
		m.mu.Unlock()
		for _, s := range subs {
			s.end()
		}
	})
	return nil
}

// alive returns the error a call named op must fail with before it
// starts: ctx's (the caller's ctx comes first), or ErrClosed after Close.
func (m *Memory) alive(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cache: %s: %w", op, err)
	}
	if m.closed.Load() {
		return fmt.Errorf("cache: %s: %w", op, ErrClosed)
	}
	return nil
}

// open returns ErrClosed once Close was called.
func (m *Memory) open(op string) error {
	if m.closed.Load() {
		return fmt.Errorf("cache: %s: %w", op, ErrClosed)
	}
	return nil
}

// Ping reports whether m serves: nil, ctx's error or ErrClosed.
func (m *Memory) Ping(ctx context.Context) error { return m.alive(ctx, "ping") }

// clock is the limiter's time: a wall-clock time (no monotonic reading)
// that advances with the monotonic clock.
func (m *Memory) clock() time.Time { return m.epochWall.Add(time.Since(m.epoch)) }

// get returns the live entry under k; m.mu must be held.
func (m *Memory) get(k string, now time.Time) (memEntry, bool) {
	e, ok := m.kv[k]
	if ok && !e.exp.IsZero() && !now.Before(e.exp) {
		delete(m.kv, k)
		return memEntry{}, false
	}
	return e, ok
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl == NoExpiry {
		return time.Time{}
	}
	return now.Add(ttl)
}

// MemoryCache is the in-memory implementation of Cache.
type MemoryCache struct {
	m *Memory
	*cacheCore
}

var _ Cache = (*MemoryCache)(nil)

// Cache returns a Cache on m.
func (m *Memory) Cache(opts CacheOptions) (Cache, error) {
	if err := m.open("cache"); err != nil {
		return nil, err
	}
	core, err := newCacheCore(opts)
	if err != nil {
		return nil, err
	}
	return &MemoryCache{m: m, cacheCore: core}, nil
}

// Get implements Cache.
func (c *MemoryCache) Get(ctx context.Context, key string) ([]byte, error) {
	k, err := c.key(key)
	if err != nil {
		return nil, err
	}
	if err := c.m.alive(ctx, "get"); err != nil {
		return nil, err
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	e, ok := c.m.get(k, time.Now())
	if !ok {
		return nil, fmt.Errorf("cache: get: %w", ErrNotFound)
	}
	return append([]byte{}, e.val...), nil
}

// Set implements Cache.
func (c *MemoryCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
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
	if err := c.m.alive(ctx, "set"); err != nil {
		return err
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.kv[k] = memEntry{val: append([]byte{}, value...), exp: expiry(time.Now(), ttl)}
	return nil
}

// Delete implements Cache.
func (c *MemoryCache) Delete(ctx context.Context, key string) (bool, error) {
	k, err := c.key(key)
	if err != nil {
		return false, err
	}
	if err := c.m.alive(ctx, "delete"); err != nil {
		return false, err
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	_, ok := c.m.get(k, time.Now())
	delete(c.m.kv, k)
	return ok, nil
}

// Exists implements Cache.
func (c *MemoryCache) Exists(ctx context.Context, key string) (bool, error) {
	k, err := c.key(key)
	if err != nil {
		return false, err
	}
	if err := c.m.alive(ctx, "exists"); err != nil {
		return false, err
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	_, ok := c.m.get(k, time.Now())
	return ok, nil
}

// TTL implements Cache.
func (c *MemoryCache) TTL(ctx context.Context, key string) (time.Duration, error) {
	k, err := c.key(key)
	if err != nil {
		return 0, err
	}
	if err := c.m.alive(ctx, "ttl"); err != nil {
		return 0, err
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	now := time.Now()
	e, ok := c.m.get(k, now)
	switch {
	case !ok:
		return 0, fmt.Errorf("cache: ttl: %w", ErrNotFound)
	case e.exp.IsZero():
		return NoExpiry, nil
	}
	return e.exp.Sub(now).Truncate(time.Millisecond), nil
}

// Expire implements Cache.
func (c *MemoryCache) Expire(ctx context.Context, key string, ttl time.Duration) error {
	k, err := c.key(key)
	if err != nil {
		return err
	}
	if ttl, err = c.ttl(ttl); err != nil {
		return err
	}
	if err := c.m.alive(ctx, "expire"); err != nil {
		return err
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	now := time.Now()
	e, ok := c.m.get(k, now)
	if !ok {
		return fmt.Errorf("cache: expire: %w", ErrNotFound)
	}
	e.exp = expiry(now, ttl)
	c.m.kv[k] = e
	return nil
}

// GetOrLoad implements Cache.
func (c *MemoryCache) GetOrLoad(ctx context.Context, key string, ttl time.Duration, load Loader) ([]byte, error) {
	return c.getOrLoad(ctx, c, key, ttl, load)
}

// MemoryLocker is the in-memory implementation of Locker.
type MemoryLocker struct {
	m      *Memory
	entity string
	log    *slog.Logger
	drift  drift
}

var _ Locker = (*MemoryLocker)(nil)

// Locker returns a Locker on m.
func (m *Memory) Locker(opts LockerOptions) (Locker, error) {
	if err := m.open("locker"); err != nil {
		return nil, err
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
	return &MemoryLocker{m: m, entity: e, log: logger(opts.Logger), drift: d}, nil
}

// Obtain implements Locker.
func (l *MemoryLocker) Obtain(ctx context.Context, name string, opts LockOptions) (Lock, error) {
	k, err := lucidkeys.NewTaggedKey(lucidkeys.ServiceLock, l.entity, name, "")
	if err != nil {
		return nil, fmt.Errorf("cache: lock name: %w: %w", ErrInvalid, err)
	}
	ttl, err := lockTTL(opts.TTL)
	if err != nil {
		return nil, err
	}
	key, token := k.String(), newToken()
	for attempt := 0; ; attempt++ {
		if err := l.m.alive(ctx, "lock "+strconv.Quote(name)); err != nil {
			return nil, err
		}
		start := time.Now()
		l.m.mu.Lock()
		_, held := l.m.get(key, start)
		var st *lockState
		if !held {
			l.m.kv[key] = memEntry{val: []byte(token), exp: start.Add(ttl)}
			l.m.fence[key]++
			// The previous holder's lease is over: end its Context now,
			// before this Obtain returns, whatever its timer is doing.
			if prev := l.m.locks[key]; prev != nil {
				prev.lost(ErrLockExpired)
			}
			st = newLockState(name, l.m.fence[key], ttl, start, opts.NoWatchdog, l.log, l.drift, &memLockOps{m: l.m, key: key, token: token})
			l.m.locks[key] = st
		}
		l.m.mu.Unlock()
		if st != nil {
			return st, nil
		}
		if err := waitRetry(ctx, name, opts, attempt); err != nil {
			return nil, err
		}
	}
}

type memLockOps struct {
	m     *Memory
	key   string
	token string
}

func (o *memLockOps) check(ctx context.Context, now time.Time) (memEntry, int64, error) {
	if err := o.m.alive(ctx, "lock"); err != nil {
		return memEntry{}, 0, err
	}
	e, ok := o.m.get(o.key, now)
	switch {
	case !ok:
		return e, 0, nil
	case string(e.val) != o.token:
		return e, -1, nil
	}
	return e, 1, nil
}

func (o *memLockOps) refresh(ctx context.Context, ttl time.Duration) (int64, error) {
	o.m.mu.Lock()
	defer o.m.mu.Unlock()
	now := time.Now()
	e, n, err := o.check(ctx, now)
	if n == 1 {
		e.exp = now.Add(ttl)
		o.m.kv[o.key] = e
	}
	return n, err
}

func (o *memLockOps) release(ctx context.Context) (int64, error) {
	o.m.mu.Lock()
	defer o.m.mu.Unlock()
	_, n, err := o.check(ctx, time.Now())
	if n == 1 {
		delete(o.m.kv, o.key)
		delete(o.m.locks, o.key)
	}
	return n, err
}
