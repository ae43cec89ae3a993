package volume

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps at most one of
// them (plus, where there is one, the underlying cause such as an
// *os.PathError), so callers test with errors.Is and still reach the cause
// with errors.As. Messages start with "volume: ".
var (
	// ErrNotFound: the volume (or a file named in a call) does not exist.
	ErrNotFound = errors.New("volume: not found")
	// ErrExists: a volume with that name, or a migration target, already exists.
	ErrExists = errors.New("volume: already exists")
	// ErrNotEmpty: Delete without force on a volume that holds data.
	ErrNotEmpty = errors.New("volume: not empty")
	// ErrQuotaExceeded: a reservation or check would take the volume past its
	// quota, or the filesystem has not enough space left for it.
	ErrQuotaExceeded = errors.New("volume: quota exceeded")
	// ErrNoSpace: the filesystem holding the volume has not enough available
	// space (or no free inodes) for a reservation, whatever the quota says.
	ErrNoSpace = errors.New("volume: no space left on filesystem")
	// ErrInvalid: bad input — a malformed name, type, size or option. It also
	// matches lucidkeys.ErrInvalid when the name or type check failed there.
	ErrInvalid = errors.New("volume: invalid argument")
	// ErrUnsupported: the operating system or filesystem cannot do what was
	// asked (hard quotas without project quotas, defragment without a tool,
	// disk statistics for a device-less filesystem). The message says why.
	ErrUnsupported = errors.New("volume: unsupported")
	// ErrUnsafePath: an archive entry or a path would escape its target
	// directory (absolute path, "..", a symlink or hard link pointing outside,
	// a symlink on the way), or is a device file.
	ErrUnsafePath = errors.New("volume: unsafe path")
	// ErrCorrupt: stored data does not match what was expected — unreadable
	// metadata, a malformed archive, a checksum mismatch after a copy.
	ErrCorrupt = errors.New("volume: corrupt data")
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
	if errors.Is(cause, errNotExist) {
		return &volErr{kind: ErrNotFound, msg: msg, cause: cause}
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
