package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// Sentinel errors. Every error the package returns wraps at most one of
// them (plus, where there is one, the underlying cause), so callers test
// with errors.Is and can still reach the go-redis error with errors.As.
var (
	// ErrNotFound: the key, session or message does not exist (a cache
	// miss, an expired session).
	ErrNotFound = errors.New("cache: not found")
	// ErrUnavailable: Redis could not be reached or could not serve the
	// request (connection refused or reset, network timeout, pool
	// exhausted, LOADING, CLUSTERDOWN, TRYAGAIN, MASTERDOWN, READONLY).
	// Retrying later may succeed.
	ErrUnavailable = errors.New("cache: redis unavailable")
	// ErrInvalid: bad input (an empty or oversized key or value, a
	// negative TTL, a nil codec or loader, ...). Retrying never helps.
	ErrInvalid = errors.New("cache: invalid argument")
	// ErrCorrupt: a stored value could not be decoded (unknown codec
	// version, malformed payload).
	ErrCorrupt = errors.New("cache: corrupt value")
	// ErrClosed: the client or subscription was closed.
	ErrClosed = errors.New("cache: closed")

	// ErrLockNotObtained: Obtain gave up because another owner holds
	// the lock (after the retries its options allow).
	ErrLockNotObtained = errors.New("cache: lock not obtained")
	// ErrLockNotHeld: Release or Refresh was called by a holder that no
	// longer owns the lock. ErrLockExpired and ErrLockTaken wrap it, so
	// errors.Is(err, ErrLockNotHeld) covers both.
	ErrLockNotHeld = errors.New("cache: lock not held")
	// ErrLockExpired: the lease ran out and nobody holds the lock now.
	ErrLockExpired error = &childError{"cache: lock expired", ErrLockNotHeld}
	// ErrLockTaken: the lease ran out and another owner holds the lock.
	ErrLockTaken error = &childError{"cache: lock taken by another owner", ErrLockNotHeld}
)

// childError is a sentinel that is also another sentinel.
type childError struct {
	msg    string
	parent error
}

func (e *childError) Error() string { return e.msg }
func (e *childError) Unwrap() error { return e.parent }

// invalidf returns an error wrapping ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("cache: "+format+": %w", append(args, ErrInvalid)...)
}

// wrapErr is the one place where go-redis errors become package errors.
// op names the operation ("get", "lock obtain"); it never holds secrets.
//   - redis.Nil becomes ErrNotFound;
//   - a done ctx is reported as ctx's error (with the cause kept);
//   - connection-level failures and server states that mean "not now"
//     become ErrUnavailable;
//   - a closed client becomes ErrClosed;
//   - anything else (WRONGTYPE, script errors) is wrapped as is.
func wrapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("cache: %s: %w", op, ErrNotFound)
	case errors.Is(err, redis.ErrClosed):
		return fmt.Errorf("cache: %s: %w", op, ErrClosed)
	}
	if ctx != nil {
		if cerr := ctx.Err(); cerr != nil {
			if errors.Is(err, cerr) {
				return fmt.Errorf("cache: %s: %w", op, err)
			}
			return fmt.Errorf("cache: %s: %w (%w)", op, cerr, err)
		}
	}
	if isUnavailable(err) {
		return fmt.Errorf("cache: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("cache: %s: %w", op, err)
}

// isUnavailable reports whether err means Redis cannot serve right now.
func isUnavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, context.DeadlineExceeded),
		redis.IsLoadingError(err), redis.IsClusterDownError(err), redis.IsTryAgainError(err),
		redis.IsMasterDownError(err), redis.IsReadOnlyError(err):
		return true
	}
	return false
}
