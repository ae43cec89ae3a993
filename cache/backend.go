package cache

import (
	"context"
	"io"

	"github.com/HamiGames/lucid-data/health"
)

// Backend is what a Redis Client and an in-process Memory have in common:
// it hands out every implementation of the package and can be checked and
// closed. Code that takes a Backend runs on Redis in production and on
// memory in unit tests or a single-process deployment; the swap is one
// line:
//
//	var b cache.Backend = cache.NewMemory()
//	// var b cache.Backend, err = cache.Connect(ctx, cfg)
//
// After Close every method fails with ErrClosed (Check reports Down).
type Backend interface {
	// Cache returns a Cache (see CacheOptions).
	Cache(opts CacheOptions) (Cache, error)
	// Locker returns a Locker (see LockerOptions).
	Locker(opts LockerOptions) (Locker, error)
	// Limiter returns a Limiter (see LimiterOptions).
	Limiter(opts LimiterOptions) (Limiter, error)
	// Sessions returns a SessionStore of login sessions.
	Sessions(opts SessionOptions) (SessionStore, error)
	// PubSub returns a PubSub (see PubSubOptions).
	PubSub(opts PubSubOptions) (PubSub, error)
	// Stream returns the durable Stream name, creating its group.
	Stream(ctx context.Context, name string, opts StreamOptions) (Stream, error)
	// Ping reports whether the backend serves: nil, ErrUnavailable,
	// ErrClosed or ctx's error.
	Ping(ctx context.Context) error
	// Check reports the backend's health (see Client.Check).
	health.Checker
	// Close releases the backend; it is idempotent.
	io.Closer
}

var (
	_ Backend = (*Client)(nil)
	_ Backend = (*Memory)(nil)
)
