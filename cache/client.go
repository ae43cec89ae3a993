package cache

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config describes how Connect connects to Redis. The zero value connects to a
// single node at localhost:6379. Exactly one of URL and Addrs may be set.
//
// # Defaults and the worst case of a call
//
// The SDK's defaults are not go-redis's. A healthy Redis answers in well
// under a millisecond, so the defaults are chosen to bound how long a call
// can hang on a dead or hung server rather than to ride out long stalls:
// DialTimeout 2 s, ReadTimeout and WriteTimeout 3 s, PoolTimeout 4 s (go-redis's
// ReadTimeout + 1 s), MaxRetries 1 (one retry repairs a pooled connection the
// server closed; more multiply the outage cost), MinRetryBackoff 10 ms,
// MaxRetryBackoff 250 ms, DialerRetries 1 (a refused dial is not helped by a
// second one 100 ms later, and the command retry dials again anyway),
// DialerRetryTimeout 100 ms. (go-redis v9.23's own: dial, read and write 5 s,
// pool ReadTimeout + 1 s, 3 retries (none on a Cluster's nodes) with
// 10 ms-1 s backoff, 5 dial attempts 100 ms apart.)
//
// With R = MaxRetries (0 when -1), D = DialerRetries, and every timeout set,
// one Redis command on a single node or a Sentinel master takes at most
//
//	(R+1)·(PoolTimeout + D·DialTimeout + (D−1)·DialerRetryTimeout + 3·(WriteTimeout+ReadTimeout)) + R·MaxRetryBackoff
//
// (a new connection's handshake takes up to two round trips before the
// command's own). A call issues its commands one after another and stops at
// the first failure, so a call returns at most that long after Redis stops
// answering, with an error wrapping ErrUnavailable — or sooner, with the ctx
// error, when the caller's ctx ends first. On a Cluster a command may go to
// up to MaxRedirects+1 nodes (go-redis's default MaxRedirects is 3, which
// Connect keeps), each bounded as above, so the figure is multiplied by 4.
// Client.MaxCommandDuration reports the figure for the resolved settings.
// Stream.Read, a blocking read, may also wait its StreamOptions.Block: the
// SDK bounds it by Block + ReadTimeout (go-redis alone would allow Block +
// 10 s on a hung server).
type Config struct {
	// URL is a redis:// or rediss:// URL. Every option go-redis's ParseURL
	// reads is honoured (user, password, db and query options such as
	// dial_timeout, read_timeout, max_retries, pool_size; ParseClusterURL
	// in Cluster mode, which also reads addr= seeds); a Config field that is
	// set overrides the URL. It is never logged.
	URL string
	// Addrs lists host:port seeds. With MasterName set they are Sentinel
	// addresses; with more than one address (or Cluster set) they are
	// Redis Cluster seeds; otherwise a single node.
	Addrs []string
	// MasterName selects Sentinel mode: the name of the monitored master.
	MasterName string
	// Cluster forces Cluster mode with a single seed address.
	Cluster bool
	// Username and Password authenticate (ACL or requirepass). They
	// override credentials in URL when set. Never logged.
	Username, Password string
	// SentinelPassword authenticates to the Sentinels themselves.
	SentinelPassword string
	// DB selects the database on a single node or Sentinel master.
	DB int
	// TLS enables TLS with this configuration.
	TLS *tls.Config
	// DialTimeout bounds one dial attempt (default 2 s), ReadTimeout and
	// WriteTimeout one socket read or write (default 3 s each; -1: none,
	// which leaves only the ctx to bound a call). A ctx deadline always
	// applies as well.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	// PoolTimeout bounds the wait for a free connection when all PoolSize
	// are busy (default ReadTimeout + 1 s).
	PoolTimeout time.Duration
	// MaxRetries is how many times a failed command is retried (default
	// 1; -1: never). Retries wait a random backoff between MinRetryBackoff
	// and MaxRetryBackoff, doubling (defaults 10 ms and 250 ms; -1: none).
	MaxRetries                       int
	MinRetryBackoff, MaxRetryBackoff time.Duration
	// DialerRetries is how many dial attempts one connection gets (default
	// 1, which is also the minimum), DialerRetryTimeout the pause between
	// them (default 100 ms).
	DialerRetries      int
	DialerRetryTimeout time.Duration
	// PoolSize is the connection pool size per node (default: 10 per CPU).
	PoolSize int
	// Logger receives connection events and go-redis's own log lines; nil
	// discards them. Nothing is written to stderr.
	//
	// go-redis v9 has no per-client logger, only a package-level one that
	// writes to stderr, so the first Connect or NewClient of the process
	// installs (once, with redis.SetLogger) a router as go-redis's logger. A
	// line about a failed dial of a client made by Connect goes to that
	// client's Logger (its dial hook tags the dial error the line quotes).
	// Any other line (Sentinel and Cluster state, go-redis's warnings) does
	// not say which client it came from: it goes to the Logger of every
	// Client alive at the time, once per distinct Logger, with attribute
	// redis_client=unattributed, and nowhere when there is none. Lines carry
	// source=go-redis, at ERROR (a recovered panic), WARN (a failure) or
	// INFO; passwords of live clients and URL credentials are replaced by
	// REDACTED. To send go-redis's lines elsewhere, call redis.SetLogger
	// after the first Connect: the router is installed only once.
	Logger *slog.Logger
	// TracerProvider, when set, traces every command with the spans of
	// go-redis's redisotel instrumentation (made by the SDK's own hook,
	// which costs less per command): a client span per command or
	// pipeline with db.system=redis, db.operation, db.connection_string,
	// server.address and server.port, and on failure lucid.error.kind and
	// error.type (the errkind of the error the SDK returns, e.g.
	// "unavailable"). Keys, values, the command text and credentials are
	// never recorded. Nil, or OpenTelemetry's noop.TracerProvider (which
	// never records a span): no tracing hook at all, so no cost.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, measures the client: go-redis's redisotel
	// pool and latency instruments, with its attributes
	// (db.client.connections.usage, .idle.max, .idle.min, .max, .waits,
	// .waits_duration, .timeouts, .hits, .misses, .create_time, .use_time;
	// pool.name is the node's address), and the
	// SDK's own counters: lucid.redis.command.errors (by db.operation and
	// lucid.error.kind), lucid.cache.limiter.decisions (by decision and
	// source) for Limiters, lucid.cache.lock.obtains (by result),
	// lucid.cache.lock.contended and lucid.cache.lock.losses (by cause) for
	// Lockers this Client hands out. Nil, or OpenTelemetry's metric
	// noop.MeterProvider: no hook, no instrument.
	MeterProvider metric.MeterProvider
}

// SDK defaults (see Config).
const (
	defaultDialTimeout        = 2 * time.Second
	defaultIOTimeout          = 3 * time.Second
	defaultMaxRetries         = 1
	defaultMinRetryBackoff    = 10 * time.Millisecond
	defaultMaxRetryBackoff    = 250 * time.Millisecond
	defaultDialerRetries      = 1
	defaultDialerRetryTimeout = 100 * time.Millisecond
)

// Client owns or borrows a go-redis UniversalClient and hands out the
// package's Redis implementations on it. It is safe for concurrent use.
type Client struct {
	rdb    redis.UniversalClient
	owned  bool
	bound  time.Duration
	log    *slog.Logger
	once   sync.Once
	err    error
	closed atomic.Bool
	done   chan struct{} // closed by Close: ends subscriptions
	route  *logRoute     // where go-redis's lines for this client go
	m      *meters       // nil without Config.MeterProvider
}

// knobs points at the fields of one go-redis options struct that Config
// sets, so one function applies Config to all three kinds.
type knobs struct {
	username, password                                             *string
	tls                                                            **tls.Config
	dial, read, write, pool, minBackoff, maxBackoff, dialRetryWait *time.Duration
	maxRetries, dialRetries, poolSize                              *int
	ctxTimeout                                                     *bool
	redirects                                                      *int // Cluster only
}

// apply lays cfg over the parsed URL's options, then the SDK's defaults
// under whatever is still unset.
func (k knobs) apply(cfg Config) {
	setS := func(p *string, v string) {
		if v != "" {
			*p = v
		}
	}
	setD := func(p *time.Duration, v, def time.Duration) {
		if v != 0 {
			*p = v
		}
		if *p == 0 {
			*p = def
		}
	}
	setI := func(p *int, v, def int) {
		if v != 0 {
			*p = v
		}
		if *p == 0 {
			*p = def
		}
	}
	setS(k.username, cfg.Username)
	setS(k.password, cfg.Password)
	if cfg.TLS != nil {
		*k.tls = cfg.TLS
	}
	setD(k.dial, cfg.DialTimeout, defaultDialTimeout)
	setD(k.read, cfg.ReadTimeout, defaultIOTimeout)
	setD(k.write, cfg.WriteTimeout, *k.read)
	setD(k.minBackoff, cfg.MinRetryBackoff, defaultMinRetryBackoff)
	setD(k.maxBackoff, cfg.MaxRetryBackoff, defaultMaxRetryBackoff)
	setD(k.dialRetryWait, cfg.DialerRetryTimeout, defaultDialerRetryTimeout)
	setI(k.maxRetries, cfg.MaxRetries, defaultMaxRetries)
	setI(k.dialRetries, cfg.DialerRetries, defaultDialerRetries)
	setI(k.poolSize, cfg.PoolSize, 0)
	if *k.read > 0 {
		setD(k.pool, cfg.PoolTimeout, *k.read+time.Second)
	} else {
		setD(k.pool, cfg.PoolTimeout, 0)
	}
	*k.ctxTimeout = true // ctx deadlines bound every dial, wait, read and write
}

// bound is the worst case of one command (see Config), 0 if a timeout is
// disabled and nothing but the ctx bounds a call.
func (k knobs) bound() time.Duration {
	pos := func(d time.Duration) time.Duration { return max(d, 0) }
	if *k.dial <= 0 || *k.read <= 0 || *k.write <= 0 || *k.pool <= 0 {
		return 0
	}
	r := time.Duration(max(*k.maxRetries, 0))
	d := time.Duration(max(*k.dialRetries, 1))
	attempt := *k.pool + d**k.dial + (d-1)*pos(*k.dialRetryWait) + 3*(*k.write+*k.read)
	b := (r+1)*attempt + r*pos(*k.maxBackoff)
	if k.redirects != nil {
		switch *k.redirects {
		case -1: // none
		case 0:
			b *= 4 // go-redis's default of 3 redirects
		default:
			b *= time.Duration(*k.redirects + 1)
		}
	}
	return b
}

// Connect builds a go-redis client from cfg (single node, Sentinel or
// Cluster), checks it with PING under ctx, and returns a Client that
// closes it on Close. An unreachable Redis fails with ErrUnavailable (or
// ctx's error), a bad Config with ErrInvalid. Errors never contain the URL
// or password. Use FromEnv for a Config from the environment and NewClient
// to wrap a go-redis client of your own.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.URL != "" && len(cfg.Addrs) > 0 {
		return nil, invalidf("config: set URL or Addrs, not both")
	}
	if cfg.DB < 0 {
		return nil, invalidf("config: negative DB %d", cfg.DB)
	}
	if cfg.MasterName != "" && cfg.Cluster {
		return nil, invalidf("config: MasterName (Sentinel) and Cluster are exclusive")
	}
	if cfg.DialerRetries < 0 {
		return nil, invalidf("config: negative DialerRetries %d", cfg.DialerRetries)
	}
	// ParseURL's messages may quote the URL; keep them out.
	const badURL = "config: URL does not parse as a redis:// URL with options go-redis knows"
	var rdb redis.UniversalClient
	var k knobs
	switch {
	case cfg.Cluster || len(cfg.Addrs) > 1 && cfg.MasterName == "":
		o := &redis.ClusterOptions{Addrs: cfg.Addrs}
		if cfg.URL != "" {
			var err error
			if o, err = redis.ParseClusterURL(cfg.URL); err != nil {
				return nil, invalidf(badURL)
			}
		}
		k = knobs{&o.Username, &o.Password, &o.TLSConfig, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
			&o.MinRetryBackoff, &o.MaxRetryBackoff, &o.DialerRetryTimeout, &o.MaxRetries, &o.DialerRetries, &o.PoolSize, &o.ContextTimeoutEnabled, &o.MaxRedirects}
		k.apply(cfg)
		rdb = redis.NewClusterClient(o)
	default:
		o := &redis.Options{}
		if cfg.URL != "" {
			var err error
			if o, err = redis.ParseURL(cfg.URL); err != nil {
				return nil, invalidf(badURL)
			}
		} else if len(cfg.Addrs) > 0 {
			o.Addr = cfg.Addrs[0]
		}
		if cfg.DB != 0 {
			o.DB = cfg.DB
		}
		k = knobs{&o.Username, &o.Password, &o.TLSConfig, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
			&o.MinRetryBackoff, &o.MaxRetryBackoff, &o.DialerRetryTimeout, &o.MaxRetries, &o.DialerRetries, &o.PoolSize, &o.ContextTimeoutEnabled, nil}
		k.apply(cfg)
		if cfg.MasterName == "" {
			rdb = redis.NewClient(o)
			break
		}
		sentinels := cfg.Addrs
		if cfg.URL != "" || len(sentinels) == 0 {
			sentinels = []string{o.Addr}
			if o.Addr == "" {
				sentinels = []string{"localhost:26379"}
			}
		}
		rdb = redis.NewFailoverClient(failoverOptions(o, cfg.MasterName, cfg.SentinelPassword, sentinels))
	}
	route := &logRoute{log: logger(cfg.Logger), secrets: []string{*k.password, cfg.SentinelPassword}}
	hookDials(rdb, route)
	c := newClient(rdb, route)
	m, err := instrument(rdb, cfg, c.done)
	if err == nil {
		c.m = m
		err = wrapErr(ctx, "connect", rdb.Ping(ctx).Err())
	}
	if err != nil {
		_ = c.Close()
		_ = rdb.Close()
		return nil, err
	}
	c.owned, c.bound = true, k.bound()
	return c, nil
}

// failoverOptions carries the options of the master's connections (as
// ParseURL and Config set them) over to a Sentinel failover client.
func failoverOptions(o *redis.Options, master, sentinelPassword string, sentinels []string) *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName: master, SentinelAddrs: sentinels, SentinelPassword: sentinelPassword,
		ClientName: o.ClientName, Protocol: o.Protocol, Username: o.Username, Password: o.Password, DB: o.DB,
		MaxRetries: o.MaxRetries, MinRetryBackoff: o.MinRetryBackoff, MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout: o.DialTimeout, DialerRetries: o.DialerRetries, DialerRetryTimeout: o.DialerRetryTimeout,
		ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, ContextTimeoutEnabled: o.ContextTimeoutEnabled,
		PoolFIFO: o.PoolFIFO, PoolSize: o.PoolSize, PoolTimeout: o.PoolTimeout, MinIdleConns: o.MinIdleConns,
		MaxIdleConns: o.MaxIdleConns, MaxActiveConns: o.MaxActiveConns, ConnMaxIdleTime: o.ConnMaxIdleTime,
		ConnMaxLifetime: o.ConnMaxLifetime, TLSConfig: o.TLSConfig,
	}
}

// MaxCommandDuration is the worst case of one Redis command on a client
// made by Connect (see Config), or 0 when a disabled timeout leaves only the
// ctx to bound calls, or for a client from NewClient.
func (c *Client) MaxCommandDuration() time.Duration { return c.bound }

// NewClient wraps an existing go-redis client (a *redis.Client,
// *redis.ClusterClient, a Sentinel failover client or a Ring). Close does
// not close rdb: its owner does. log may be nil; it receives the go-redis
// lines Config.Logger describes as unattributed (NewClient adds no hook to
// a client it does not own, so none of rdb's lines is attributed to it).
//
// go-redis honours a ctx deadline on a slow server only with
// ContextTimeoutEnabled set in its options (Connect sets it); without it a
// call waits up to the client's ReadTimeout whatever the ctx says.
func NewClient(rdb redis.UniversalClient, log *slog.Logger) *Client {
	return newClient(rdb, &logRoute{log: logger(log)})
}

func newClient(rdb redis.UniversalClient, r *logRoute) *Client {
	c := &Client{rdb: rdb, log: r.log, done: make(chan struct{})}
	redisLogs.register(c, r)
	return c
}

// closeRoute stops unattributed go-redis lines going to c's Logger.
func (c *Client) closeRoute() { redisLogs.unregister(c.route) }

// Redis returns the underlying go-redis client: the escape hatch for
// anything this package does not cover.
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// Close closes the go-redis client if Connect created it, ends the
// subscriptions of the PubSubs c handed out, and marks c closed: from then
// on c's methods and every call on the implementations it handed out fail
// with ErrClosed (on a client from NewClient, whose
// go-redis client its owner closes, c's own methods do; the
// implementations work until the owner closes it). It is idempotent: a
// second Close returns what the first returned.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.closed.Store(true)
		close(c.done)
		if c.owned {
			c.err = c.rdb.Close()
		}
		c.closeRoute()
	})
	return c.err
}

// Cache returns a Redis Cache on this client.
func (c *Client) Cache(opts CacheOptions) (Cache, error) {
	if err := c.open("cache"); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	r, err := NewRedisCache(c.rdb, opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Locker returns a Redis Locker on this client.
func (c *Client) Locker(opts LockerOptions) (Locker, error) {
	if err := c.open("locker"); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	r, err := NewRedisLocker(c.rdb, opts)
	if err != nil {
		return nil, err
	}
	r.m = c.m
	return r, nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Limiter returns a Redis Limiter on this client.
func (c *Client) Limiter(opts LimiterOptions) (Limiter, error) {
	if err := c.open("limiter"); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	r, err := NewRedisLimiter(c.rdb, opts)
	if err != nil {
		return nil, err
	}
	r.m = c.m
	return r, nil
}

// Sessions returns a Redis SessionStore of login sessions on this client.
func (c *Client) Sessions(opts SessionOptions) (SessionStore, error) {
	if err := c.open("sessions"); err != nil {
		return nil, err
	}
	r, err := NewRedisSessions(c.rdb, opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// PubSub returns a Redis PubSub on this client.
func (c *Client) PubSub(opts PubSubOptions) (PubSub, error) {
	if err := c.open("pubsub"); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	r, err := NewRedisPubSub(c.rdb, opts)
	if err != nil {
		return nil, err
	}
	r.clientDone = c.done
	return r, nil
}

// Stream returns the Redis Stream name on this client (see NewRedisStream).
func (c *Client) Stream(ctx context.Context, name string, opts StreamOptions) (Stream, error) {
	if err := c.open("stream"); err != nil {
		return nil, err
	}
	r, err := NewRedisStream(ctx, c.rdb, name, opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Ping checks that Redis answers (PING; on a Cluster, the node serving the
// command). It fails with ErrUnavailable when Redis does not, ErrClosed
// after Close, or ctx's error.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.open("ping"); err != nil {
		return err
	}
	return wrapErr(ctx, "ping", c.rdb.Ping(ctx).Err())
}

// open returns ErrClosed once Close was called.
func (c *Client) open(op string) error {
	if c.closed.Load() {
		return fmt.Errorf("cache: %s: %w", op, ErrClosed)
	}
	return nil
}

// Redis returns the underlying client.
func (l *RedisLocker) Redis() redis.UniversalClient { return l.rdb }

// Redis returns the underlying client.
func (l *RedisLimiter) Redis() redis.UniversalClient { return l.rdb }

// Redis returns the underlying client.
func (s *RedisSessions) Redis() redis.UniversalClient { return s.rdb }

// Redis returns the underlying client.
func (p *RedisPubSub) Redis() redis.UniversalClient { return p.rdb }

// Redis returns the underlying client.
func (s *RedisStream) Redis() redis.UniversalClient { return s.rdb }
