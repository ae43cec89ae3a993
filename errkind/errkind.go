// Package errkind is the one error vocabulary of lucid-data: a small set of
// kinds that every package's errors belong to, so a service using several
// packages asks one question of any error.
//
//	if errkind.Of(err) == errkind.NotFound { ... }
//	if errors.Is(err, errkind.Unavailable) { retryLater() }
//
// Every package keeps its own sentinels (cache.ErrNotFound,
// mongostore.ErrDuplicate, volume.ErrQuotaExceeded, ...) because they carry
// meaning a kind does not; each is made with [New], so errors.Is matches
// both the sentinel and its kind. A caller's own cancellation or deadline
// is always reported as context.Canceled or context.DeadlineExceeded (kinds
// [Canceled] and [DeadlineExceeded]), never as [Unavailable], even when the
// server was also unreachable: the caller stopped waiting, and retrying with
// the same context cannot help.
//
// The kinds follow gocloud.dev/gcerrors (itself after gRPC's codes), with
// [Unavailable], [DataLoss] and [Closed] added for what a data tier reports.
package errkind

import (
	"context"
	"errors"
)

// Kind classifies an error. The zero value, OK, is the kind of a nil error.
// A Kind is itself an error so that errors.Is(err, errkind.NotFound) works;
// it is never returned on its own.
type Kind int

// The kinds. Their order is not part of the API.
const (
	// OK: no error (the kind of nil).
	OK Kind = iota
	// Unknown: an error that belongs to no other kind (a driver error the
	// SDK has no mapping for). Inspect it with errors.As.
	Unknown
	// NotFound: the key, document, index, volume or backup does not exist.
	NotFound
	// AlreadyExists: creating something that exists (duplicate key,
	// existing volume or index).
	AlreadyExists
	// InvalidArgument: bad input, refused before or by the server
	// (malformed names, failed validation, operator injection, limits
	// exceeded). Retrying the same call never helps.
	InvalidArgument
	// FailedPrecondition: the system is not in the state the call needs
	// (a volume that is not empty, a lock no longer held, a feature the
	// operator must enable).
	FailedPrecondition
	// Aborted: the call lost a race (a version conflict, a lock held by
	// another owner); retrying the whole read-modify-write may succeed.
	Aborted
	// PermissionDenied: authentication or authorisation failed, or a
	// decryption key does not match.
	PermissionDenied
	// ResourceExhausted: a quota, rate limit, full disk or full server.
	ResourceExhausted
	// Unavailable: the server could not be reached or could not serve the
	// call now (refused, reset, network timeout, failover, overload).
	// Retrying later may succeed.
	Unavailable
	// Unimplemented: the server or platform does not support the
	// operation (FerretDB without validators, a kernel without project
	// quotas).
	Unimplemented
	// DataLoss: stored data is corrupt or truncated (a value that does not
	// decode, a backup whose checksum does not match).
	DataLoss
	// Closed: the client, store or subscription was closed.
	Closed
	// Canceled: the caller's context was cancelled.
	Canceled
	// DeadlineExceeded: the caller's context deadline passed.
	DeadlineExceeded
	// Internal: a bug in the SDK or an invariant a server broke.
	Internal
)

var names = [...]string{
	OK:                 "ok",
	Unknown:            "unknown",
	NotFound:           "not found",
	AlreadyExists:      "already exists",
	InvalidArgument:    "invalid argument",
	FailedPrecondition: "failed precondition",
	Aborted:            "aborted",
	PermissionDenied:   "permission denied",
	ResourceExhausted:  "resource exhausted",
	Unavailable:        "unavailable",
	Unimplemented:      "unimplemented",
	DataLoss:           "data loss",
	Closed:             "closed",
	Canceled:           "canceled",
	DeadlineExceeded:   "deadline exceeded",
	Internal:           "internal",
}

// String returns the kind's name in lower case ("not found").
func (k Kind) String() string {
	if k >= 0 && int(k) < len(names) {
		return names[k]
	}
	return "unknown"
}

// Error makes a Kind usable as the target of errors.Is.
func (k Kind) Error() string { return k.String() }

// Is reports whether target is k. A Kind only ever equals itself; the
// context kinds also match the context package's errors, so
// errors.Is(errkind.Canceled, context.Canceled) holds.
func (k Kind) Is(target error) bool {
	switch k {
	case Canceled:
		return target == context.Canceled
	case DeadlineExceeded:
		return target == context.DeadlineExceeded
	}
	return false
}

// Sentinel is a package's sentinel error with a kind: errors.Is(err, s)
// and errors.Is(err, s.Kind()) both hold for an err that wraps s.
type Sentinel struct {
	msg    string
	kind   Kind
	parent error
}

// New returns a sentinel error with message msg (by convention starting
// with the package name: "cache: not found") that belongs to kind.
func New(kind Kind, msg string) *Sentinel { return &Sentinel{msg: msg, kind: kind} }

// NewChild returns a sentinel that is also parent (errors.Is matches both,
// and their kind, which is parent's): cache.ErrLockTaken is a child of
// cache.ErrLockNotHeld.
func NewChild(parent *Sentinel, msg string) *Sentinel {
	return &Sentinel{msg: msg, kind: parent.kind, parent: parent}
}

// Error returns the sentinel's message.
func (s *Sentinel) Error() string { return s.msg }

// Kind returns the sentinel's kind.
func (s *Sentinel) Kind() Kind { return s.kind }

// Is matches the sentinel's kind.
func (s *Sentinel) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == s.kind
}

// Unwrap returns the parent of a child sentinel, or nil.
func (s *Sentinel) Unwrap() error { return s.parent }

// Of returns the kind of err: OK for nil; Canceled or DeadlineExceeded when
// err wraps a context error (whatever else it wraps); otherwise the kind of
// the first error in err's tree that has one (a [Sentinel], a Kind, or any
// error with a Kind() Kind method); Unknown when none has.
func Of(err error) Kind {
	if err == nil {
		return OK
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	var ke interface{ Kind() Kind }
	if errors.As(err, &ke) {
		return ke.Kind()
	}
	return Unknown
}
