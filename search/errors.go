package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/HamiGames/lucid-data/errkind"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (test with errors.Is) or, when the caller's ctx ended, the ctx error
// (context.Canceled or context.DeadlineExceeded, never ErrUnavailable), and
// where there is one, the underlying cause: an *Error carries the engine's
// HTTP status, error type and reason. Each sentinel belongs to an
// errkind.Kind, so errors.Is(err, errkind.NotFound) and errkind.Of(err)
// work across the SDK's packages.
var (
	// ErrNotFound (errkind.NotFound): the index, alias or document does not
	// exist.
	ErrNotFound = errkind.New(errkind.NotFound, "search: not found")
	// ErrConflict (errkind.Aborted): a version conflict (if_seq_no /
	// if_primary_term did not match, or a create found the document
	// already there); re-read the document and retry the write.
	ErrConflict = errkind.New(errkind.Aborted, "search: version conflict")
	// ErrExists (errkind.AlreadyExists): creating an index (or other named
	// resource) that already exists (resource_already_exists_exception).
	ErrExists = errkind.New(errkind.AlreadyExists, "search: already exists")
	// ErrInvalid (errkind.InvalidArgument): bad input, rejected by the SDK
	// before any request (invalid index name, empty id, unencodable
	// document) or by the engine (400).
	ErrInvalid = errkind.New(errkind.InvalidArgument, "search: invalid request")
	// ErrUnavailable (errkind.Unavailable): the engine could not be
	// reached, answered 5xx, or gave no answer within Config.RequestTimeout.
	ErrUnavailable = errkind.New(errkind.Unavailable, "search: engine unavailable")
	// ErrUnsupported (errkind.Unimplemented): the connected engine does not
	// offer the feature.
	ErrUnsupported = errkind.New(errkind.Unimplemented, "search: not supported by the engine")
	// ErrRejected (errkind.ResourceExhausted): the engine rejected the
	// request for load (429).
	ErrRejected = errkind.New(errkind.ResourceExhausted, "search: rejected (too many requests)")
	// ErrClosed (errkind.Closed): the Client or BulkIndexer was closed.
	ErrClosed = errkind.New(errkind.Closed, "search: closed")
)

// errRequestTimeout is the cause of a request cut by Config.RequestTimeout
// while the caller's ctx was still live: the engine was too slow, which is
// ErrUnavailable, not the caller's deadline.
var errRequestTimeout = errors.New("no answer within the request timeout")

// Error is an error answered by the engine, or a failed round trip. It
// unwraps to one of the package's sentinels and, for round-trip failures,
// to the transport error.
type Error struct {
	Op     string // the SDK operation, e.g. "index", "bulk", "search"
	Index  string // the index or alias, if any
	Status int    // HTTP status; 0 when no response was received
	Type   string // the engine's error type, e.g. "version_conflict_engine_exception"
	Reason string // the engine's reason

	kind  error // the sentinel, or the caller's ctx error
	cause error // the transport or decoding error, if any
}

// Error returns "search: <op> <index>: <status> <type>: <reason>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("search: ")
	b.WriteString(e.Op)
	if e.Index != "" {
		b.WriteString(" ")
		b.WriteString(e.Index)
	}
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d ", e.Status)
	}
	if e.Type != "" {
		b.WriteString(e.Type)
		b.WriteString(": ")
	}
	switch {
	case e.Reason != "":
		b.WriteString(e.Reason)
	case e.cause != nil:
		b.WriteString(e.cause.Error())
	default:
		b.WriteString(strings.TrimPrefix(e.kind.Error(), "search: "))
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause, if any.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// invalidf returns an ErrInvalid error raised before any request.
func invalidf(op, format string, args ...any) error {
	return &Error{Op: op, Reason: fmt.Sprintf(format, args...), kind: ErrInvalid}
}

// wrapInvalid marks a lucidkeys or encoding error as bad input, keeping it.
func wrapInvalid(op, index string, err error) error {
	return &Error{Op: op, Index: index, Reason: err.Error(), kind: ErrInvalid, cause: err}
}

// ctxErr reports the caller's done ctx: the error is the ctx error itself
// (context.Canceled or context.DeadlineExceeded) and nothing else, so it
// never matches ErrUnavailable.
func ctxErr(op, index string, err error) error {
	return &Error{Op: op, Index: index, kind: err}
}

// transportErr wraps a failed round trip made under rctx, derived from the
// caller's ctx. The caller's done ctx wins (ctxErr); a round trip cut by
// the SDK's own request timeout (rctx done, ctx live) is ErrUnavailable
// with errRequestTimeout as its cause; anything else is ErrUnavailable with
// the transport error, unless that error claims a ctx error that is not the
// caller's (then only its text is kept, so errkind.Of does not report the
// caller's deadline).
func transportErr(ctx, rctx context.Context, op, index string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return ctxErr(op, index, cerr)
	}
	if rctx.Err() != nil {
		return &Error{Op: op, Index: index, kind: ErrUnavailable, cause: context.Cause(rctx)}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = errors.New(err.Error())
	}
	return &Error{Op: op, Index: index, kind: ErrUnavailable, cause: err}
}

// engineError is the "error" member of an engine's error answer, which is
// either an object or, for some endpoints, a bare string.
type engineError struct {
	Type      string `json:"type"`
	Reason    string `json:"reason"`
	RootCause []struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"root_cause"`
}

func (e *engineError) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		e.Reason = s
		return nil
	}
	type plain engineError
	return json.Unmarshal(b, (*plain)(e))
}

// statusErr builds the error for a non-2xx answer with body b.
func statusErr(op, index string, status int, b []byte) error {
	var body struct {
		Error  *engineError `json:"error"`
		Result string       `json:"result"`
	}
	e := &Error{Op: op, Index: index, Status: status}
	if json.Unmarshal(b, &body) == nil && body.Error != nil {
		e.Type, e.Reason = body.Error.Type, body.Error.Reason
		if e.Reason == "" && len(body.Error.RootCause) > 0 {
			e.Type, e.Reason = body.Error.RootCause[0].Type, body.Error.RootCause[0].Reason
		}
	} else if status == http.StatusNotFound && body.Result != "" {
		e.Type = body.Result // "not_found" for a missing document
	}
	e.kind = kindFor(status, e.Type, e.Reason)
	return e
}

// itemErr builds the error for one failed bulk item.
func itemErr(index string, status int, ee *engineError) error {
	e := &Error{Op: "bulk", Index: index, Status: status}
	if ee != nil {
		e.Type, e.Reason = ee.Type, ee.Reason
	}
	e.kind = kindFor(status, e.Type, e.Reason)
	return e
}

// kindFor maps a status and the engine's error type to a sentinel.
func kindFor(status int, typ, reason string) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRejected
	case status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented,
		status == http.StatusBadRequest && strings.HasPrefix(reason, "no handler found"):
		return ErrUnsupported
	case status >= 500:
		return ErrUnavailable
	case status == http.StatusBadRequest && strings.Contains(typ, "already_exists"):
		return ErrExists
	case status >= 400:
		return ErrInvalid
	}
	return ErrUnavailable
}
