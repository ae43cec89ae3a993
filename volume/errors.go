package volume

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/HamiGames/lucid-data/errkind"
)

// Sentinel errors. Every error returned by this package wraps at most one of
// them (plus, where there is one, the underlying cause such as an
// *os.PathError), so callers test with errors.Is and still reach the cause
// with errors.As. Messages start with "volume: ". Each sentinel belongs to
// an errkind.Kind, so errors.Is(err, errkind.NotFound) and errkind.Of(err)
// work across the SDK. A call stopped by its ctx returns an error matching
// context.Canceled or context.DeadlineExceeded (and so errkind.Canceled or
// errkind.DeadlineExceeded), never one of these sentinels.
var (
	// ErrNotFound (errkind.NotFound): the volume (or a file named in a
	// call) does not exist.
	ErrNotFound = errkind.New(errkind.NotFound, "volume: not found")
	// ErrExists (errkind.AlreadyExists): a volume with that name, or a
	// migration target, already exists.
	ErrExists = errkind.New(errkind.AlreadyExists, "volume: already exists")
	// ErrNotEmpty (errkind.FailedPrecondition): Delete without force on a
	// volume that holds data.
	ErrNotEmpty = errkind.New(errkind.FailedPrecondition, "volume: not empty")
	// ErrQuotaExceeded (errkind.ResourceExhausted): a reservation, check or
	// resize would take the volume past its quota, or a write hit the
	// kernel's quota (EDQUOT).
	ErrQuotaExceeded = errkind.New(errkind.ResourceExhausted, "volume: quota exceeded")
	// ErrNoSpace (errkind.ResourceExhausted): the filesystem holding the
	// volume has not enough available space (or no free inodes) for a
	// reservation, whatever the quota says, or a write failed with ENOSPC.
	ErrNoSpace = errkind.New(errkind.ResourceExhausted, "volume: no space left on filesystem")
	// ErrInvalid (errkind.InvalidArgument): bad input — a malformed name,
	// type, size or option. It also matches lucidkeys.ErrInvalid when the
	// name or type check failed there.
	ErrInvalid = errkind.New(errkind.InvalidArgument, "volume: invalid argument")
	// ErrUnsupported (errkind.Unimplemented): the operating system or
	// filesystem cannot do what was asked (hard quotas or quota accounting
	// without project quotas, defragment without a tool, disk statistics
	// for a device-less filesystem). The message says why.
	ErrUnsupported = errkind.New(errkind.Unimplemented, "volume: unsupported")
	// ErrUnsafePath (errkind.InvalidArgument): an archive entry or a path
	// would escape its target directory (absolute path, "..", a symlink or
	// hard link pointing outside, a symlink on the way), or is a device
	// file.
	ErrUnsafePath = errkind.New(errkind.InvalidArgument, "volume: unsafe path")
	// ErrCorrupt (errkind.DataLoss): stored data does not match what was
	// expected — unreadable metadata, a malformed archive, a checksum
	// mismatch after a copy.
	ErrCorrupt = errkind.New(errkind.DataLoss, "volume: corrupt data")
	// ErrClosed (errkind.Closed): a call on a Monitor after its Close.
	ErrClosed = errkind.New(errkind.Closed, "volume: closed")
)

// volErr is an error that matches a sentinel and keeps an optional cause.
type volErr struct {
	kind  error // one of the sentinels
	msg   string
	cause error
}

func (e *volErr) Error() string {
	if e.cause != nil {
		return "volume: " + e.msg + ": " + e.cause.Error()
	}
	return "volume: " + e.msg
}

// Unwrap returns the sentinel and the cause, so errors.Is matches both.
func (e *volErr) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// newErr builds an error of kind with a formatted message and no cause.
func newErr(kind error, format string, args ...any) error {
	return &volErr{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// wrapErr builds an error of kind with a formatted message and a cause.
func wrapErr(kind error, cause error, format string, args ...any) error {
	return &volErr{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

// ioErr wraps a plain I/O failure: the cause is kept and, when it is a
// not-exist error, ErrNotFound is matched too. Errors that already come from
// this package are returned unchanged so they are wrapped only once.
func ioErr(cause error, format string, args ...any) error {
	if cause == nil {
		return nil
	}
	var ve *volErr
	if errors.As(cause, &ve) {
		return cause
	}
	msg := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded):
		// The caller's ctx: reported as itself, never as a sentinel.
	case errors.Is(cause, errNotExist):
		return &volErr{kind: ErrNotFound, msg: msg, cause: cause}
	case errors.Is(cause, syscall.ENOSPC):
		return &volErr{kind: ErrNoSpace, msg: msg, cause: cause}
	case errors.Is(cause, syscall.EDQUOT):
		return &volErr{kind: ErrQuotaExceeded, msg: msg, cause: cause}
	}
	return &ioError{msg: msg, cause: cause}
}

// ioError is an I/O failure that matches no sentinel but keeps its cause
// (and so context.Canceled, fs.ErrPermission, syscall errnos...).
type ioError struct {
	msg   string
	cause error
}

func (e *ioError) Error() string { return "volume: " + e.msg + ": " + e.cause.Error() }
func (e *ioError) Unwrap() error { return e.cause }
