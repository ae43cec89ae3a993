package cache

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config describes how New connects to Redis. The zero value connects to a
// single node at localhost:6379. Exactly one of URL and Addrs may be set.
type Config struct {
	// URL is a redis:// or rediss:// URL (user, password, db and options
	// as go-redis's ParseURL reads them). It is never logged.
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
	// DialTimeout, ReadTimeout and WriteTimeout default to go-redis's
	// defaults (5 s, 3 s, 3 s). A ctx deadline always applies as well.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	// PoolSize is the connection pool size per node (default: 10 per CPU).
	PoolSize int
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
}

// Client owns or borrows a go-redis UniversalClient and hands out the
// package's Redis implementations on it. It is safe for concurrent use.
type Client struct {
	rdb   redis.UniversalClient
	owned bool
	log   *slog.Logger
	once  sync.Once
	err   error
}

// New builds a go-redis client from cfg (single node, Sentinel or Cluster),
// checks it with PING under ctx, and returns a Client that closes it on
// Close. Errors never contain the URL or password.
func New(ctx context.Context, cfg Config) (*Client, error) {
	opts := &redis.UniversalOptions{Addrs: cfg.Addrs}
	if cfg.URL != "" {
		if len(cfg.Addrs) > 0 {
			return nil, invalidf("config: set URL or Addrs, not both")
		}
		o, err := redis.ParseURL(cfg.URL)
		if err != nil {
			// ParseURL's messages may quote the URL; keep them out.
			return nil, invalidf("config: URL does not parse as a redis:// URL")
		}
		opts.Addrs = []string{o.Addr}
		opts.Username, opts.Password, opts.DB, opts.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
	}
	if len(opts.Addrs) == 0 {
		opts.Addrs = []string{"localhost:6379"}
	}
	if cfg.DB < 0 {
		return nil, invalidf("config: negative DB %d", cfg.DB)
	}
	if cfg.MasterName != "" && cfg.Cluster {
		return nil, invalidf("config: MasterName (Sentinel) and Cluster are exclusive")
	}
	if cfg.Username != "" {
		opts.Username = cfg.Username
	}
	if cfg.Password != "" {
		opts.Password = cfg.Password
	}
	if cfg.DB != 0 {
		opts.DB = cfg.DB
	}
	if cfg.TLS != nil {
		opts.TLSConfig = cfg.TLS
	}
	opts.MasterName = cfg.MasterName
	opts.SentinelPassword = cfg.SentinelPassword
	opts.IsClusterMode = cfg.Cluster
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = cfg.DialTimeout, cfg.ReadTimeout, cfg.WriteTimeout
	opts.PoolSize = cfg.PoolSize
	opts.ContextTimeoutEnabled = true // ctx deadlines bound every read and write
	rdb := redis.NewUniversalClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, wrapErr(ctx, "connect", err)
	}
	c := NewClient(rdb, cfg.Logger)
	c.owned = true
	return c, nil
}

// NewClient wraps an existing go-redis client (a *redis.Client,
// *redis.ClusterClient, a Sentinel failover client or a Ring). Close does
// not close rdb: its owner does. log may be nil.
//
// go-redis honours a ctx deadline on a slow server only with
// ContextTimeoutEnabled set in its options (New sets it); without it a
// call waits up to the client's ReadTimeout whatever the ctx says.
func NewClient(rdb redis.UniversalClient, log *slog.Logger) *Client {
	return &Client{rdb: rdb, log: logger(log)}
}

// Redis returns the underlying go-redis client: the escape hatch for
// anything this package does not cover.
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// Close closes the go-redis client if New created it. It is idempotent.
func (c *Client) Close() error {
	c.once.Do(func() {
		if c.owned {
			c.err = c.rdb.Close()
		}
	})
	return c.err
}

// Cache returns a Redis Cache on this client.
func (c *Client) Cache(opts CacheOptions) (*RedisCache, error) {
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	return NewRedisCache(c.rdb, opts)
}

// Locker returns a Redis Locker on this client.
func (c *Client) Locker(opts LockerOptions) (*RedisLocker, error) {
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	return NewRedisLocker(c.rdb, opts)
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Limiter returns a Redis Limiter on this client.
func (c *Client) Limiter(opts LimiterOptions) (*RedisLimiter, error) {
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	return NewRedisLimiter(c.rdb, opts)
}

// Sessions returns a Redis SessionStore on this client.
func (c *Client) Sessions(opts SessionOptions) (*RedisSessions, error) {
	return NewRedisSessions(c.rdb, opts)
}

// PubSub returns a Redis PubSub on this client.
func (c *Client) PubSub(opts PubSubOptions) (*RedisPubSub, error) {
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	return NewRedisPubSub(c.rdb, opts)
}

// Stream returns the Redis Stream name on this client (see NewRedisStream).
func (c *Client) Stream(ctx context.Context, name string, opts StreamOptions) (*RedisStream, error) {
	return NewRedisStream(ctx, c.rdb, name, opts)
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
