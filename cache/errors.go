package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/errkind"
)

// Sentinel errors. Every error the package returns wraps at most one of
// them (plus, where there is one, the underlying cause), so callers test
// with errors.Is and can still reach the go-redis error with errors.As.
// Each belongs to a kind of package errkind, so errors.Is(err,
// errkind.NotFound) and errkind.Of(err) work across the SDK.
var (
	// ErrNotFound (kind NotFound): the key, session or message does not
	// exist (a cache miss, an expired session).
	ErrNotFound = errkind.New(errkind.NotFound, "cache: not found")
	// ErrUnavailable (kind Unavailable): Redis could not be reached or
	// could not serve the request (connection refused or reset, network
	// timeout, pool exhausted, LOADING, CLUSTERDOWN, TRYAGAIN, MASTERDOWN,
	// READONLY). Retrying later may succeed. A call whose ctx ended is
	// never ErrUnavailable: it returns ctx's error.
	ErrUnavailable = errkind.New(errkind.Unavailable, "cache: redis unavailable")
	// ErrInvalid (kind InvalidArgument): bad input (an empty or oversized
	// key or value, a negative or too long TTL, a nil codec or loader,
	// ...). Retrying never helps.
	ErrInvalid = errkind.New(errkind.InvalidArgument, "cache: invalid argument")
	// ErrCorrupt (kind DataLoss): a stored value could not be decoded
	// (unknown codec version, malformed payload).
	ErrCorrupt = errkind.New(errkind.DataLoss, "cache: corrupt value")
	// ErrClosed (kind Closed): the Client, Memory or subscription was
	// closed.
	ErrClosed = errkind.New(errkind.Closed, "cache: closed")

	// ErrLockNotObtained (kind Aborted): Obtain gave up because another
	// owner holds the lock (after the retries its options allow).
	ErrLockNotObtained = errkind.New(errkind.Aborted, "cache: lock not obtained")
	// ErrLockNotHeld (kind FailedPrecondition): Release or Refresh was
	// called by a holder that no longer owns the lock. ErrLockExpired and
	// ErrLockTaken are its children, so errors.Is(err, ErrLockNotHeld)
	// covers both.
	ErrLockNotHeld = errkind.New(errkind.FailedPrecondition, "cache: lock not held")
	// ErrLockExpired: the lease ran out and nobody holds the lock now.
	ErrLockExpired = errkind.NewChild(ErrLockNotHeld, "cache: lock expired")
	// ErrLockTaken: the lease ran out and another owner holds the lock.
	ErrLockTaken = errkind.NewChild(ErrLockNotHeld, "cache: lock taken by another owner")
)

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
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("cache: %s: %w", op, ErrNotFound)
	}
	// The caller's ctx comes before the server's state: a call whose ctx
	// ended reports that (and never ErrUnavailable), whatever the socket
	// said meanwhile. The cause stays reachable with errors.As.
	if ctx != nil {
		cerr := ctx.Err()
		if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
			// go-redis sets the socket deadline from ctx's, and the socket
			// may time out a moment before ctx's own timer marks it done:
			// that timeout is still the caller's deadline.
			cerr = context.DeadlineExceeded
		}
		if cerr != nil {
			if errors.Is(err, cerr) {
				return fmt.Errorf("cache: %s: %w", op, err)
			}
			return fmt.Errorf("cache: %s: %w (%w)", op, cerr, err)
		}
	}
	if errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("cache: %s: %w", op, ErrClosed)
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
