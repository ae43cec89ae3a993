package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/HamiGames/lucid-data/errkind"
)

// Sentinel errors. Every error of this package wraps at most one of them
// (and keeps its cause, so errors.As still reaches an *fs.PathError or an
// S3 API error); each matches its errkind kind with errors.Is, and
// errkind.Of tells them apart. A caller's cancellation or deadline is
// reported as ctx's own error. Messages start with "backup: " and name the
// backup and part they concern; they never hold a passphrase, an identity,
// a credential or a URI's password.
var (
	// ErrNotFound: no such backup, part or object (kind NotFound). A backup
	// whose manifest was never written does not exist.
	ErrNotFound = errkind.New(errkind.NotFound, "backup: not found")
	// ErrExists: an object or backup of that name exists; objects are
	// written once (kind AlreadyExists). Also a restore target that is not
	// empty without Overwrite.
	ErrExists = errkind.New(errkind.AlreadyExists, "backup: already exists")
	// ErrInvalid: bad input — a malformed part name or ID, an unknown
	// compression, conflicting encryption settings (kind InvalidArgument).
	ErrInvalid = errkind.New(errkind.InvalidArgument, "backup: invalid argument")
	// ErrCorrupt: stored data does not match its manifest — a checksum, a
	// size or a record count differs, a part is missing, truncated or does
	// not decrypt, decompress or parse, or the manifest itself was edited
	// (kind DataLoss).
	ErrCorrupt = errkind.New(errkind.DataLoss, "backup: corrupt backup")
	// ErrKey: none of the identities (or the passphrase) given opens the
	// part: the data may be intact, the key is wrong (kind
	// PermissionDenied). Also a backup that is encrypted when no identity
	// was configured.
	ErrKey = errkind.New(errkind.PermissionDenied, "backup: wrong decryption key")
	// ErrNoSpace: the sink's filesystem is full (kind ResourceExhausted).
	ErrNoSpace = errkind.New(errkind.ResourceExhausted, "backup: no space left")
	// ErrClosed: the Manager or sink was closed (kind Closed).
	ErrClosed = errkind.New(errkind.Closed, "backup: closed")
	// ErrInUse: the backup cannot be deleted because another complete
	// backup has a part incremental on it (kind FailedPrecondition):
	// delete the dependent backups first.
	ErrInUse = errkind.New(errkind.FailedPrecondition, "backup: in use")
	// ErrUnsupported: a manifest or part of a format version this code
	// cannot read (kind Unimplemented).
	ErrUnsupported = errkind.New(errkind.Unimplemented, "backup: unsupported")
)

// Error is an error of this package: what was being done (Op), to which
// backup and part, the sentinel it matches (nil when only the cause
// classifies it) and the cause.
type Error struct {
	Op     string // "backup", "verify", "restore", "list", "delete", "open", "write", ...
	Backup string // backup ID, when known
	Part   string // part name, when the error concerns one
	Kind   error  // one of the sentinels, or nil
	Msg    string // detail, no secrets
	Err    error  // the cause, or nil
}

func (e *Error) Error() string {
	s := "backup: " + e.Op
	if e.Backup != "" {
		s += " " + e.Backup
	}
	if e.Part != "" {
		s += fmt.Sprintf(" part %q", e.Part)
	}
	if e.Kind != nil {
		s += ": " + trimPkg(e.Kind.Error())
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + trimPkg(e.Err.Error())
	}
	return s
}

// Unwrap returns the sentinel and the cause, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func trimPkg(s string) string {
	if len(s) > 8 && s[:8] == "backup: " {
		return s[8:]
	}
	return s
}

// wrap returns err as an *Error for op, classifying it once: an *Error
// already made keeps its own classification (only filling in the backup
// and part), ctx's error wins over everything else, a full disk becomes
// ErrNoSpace and a missing file ErrNotFound.
func wrap(ctx context.Context, err error, op, id, part string) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		if be.Backup == "" {
			be.Backup = id
		}
		if be.Part == "" {
			be.Part = part
		}
		if ctx != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return &Error{Op: op, Backup: id, Part: part, Err: ctx.Err(), Msg: trimPkg(err.Error())}
		}
		return err
	}
	e := &Error{Op: op, Backup: id, Part: part, Err: err}
	switch {
	case ctx != nil && ctx.Err() != nil:
		if !errors.Is(err, ctx.Err()) {
			e.Err, e.Msg = ctx.Err(), err.Error()
		}
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		e.Kind = ErrNoSpace
	case errors.Is(err, fs.ErrNotExist):
		e.Kind = ErrNotFound
	}
	return e
}

// newErr returns an *Error of kind with a message.
func newErr(kind error, op, id, part, format string, args ...any) *Error {
	return &Error{Op: op, Backup: id, Part: part, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
