package mongostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/HamiGames/lucid-data/errkind"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Sentinel errors. Every error this package returns starts with
// "mongostore:" and wraps at most one of these together with the driver's
// error, so errors.Is(err, ErrDuplicate) and errors.As(err, &mongo.WriteException{})
// both work. Each sentinel has an errkind kind (errkind.Of(err), or
// errors.Is(err, errkind.NotFound)), shared with the SDK's other packages.
// A caller can always tell bad input (ErrInvalid, ErrValidation) from
// missing data (ErrNotFound) from a server it cannot reach
// (ErrUnavailable). A caller's own cancelled or expired ctx is reported as
// that ctx's error (context.Canceled, context.DeadlineExceeded; errkind
// Canceled, DeadlineExceeded), never as ErrUnavailable; Config.Timeout and
// ServerSelectionTimeout running out while ctx is live are ErrUnavailable.
var (
	// ErrNotFound: no document matched (FindOne, a typed FindOne, ...).
	// Kind NotFound.
	ErrNotFound = errkind.New(errkind.NotFound, "mongostore: not found")
	// ErrDuplicate: a unique index rejected the write. The error is a
	// *DuplicateError naming the index. Kind AlreadyExists.
	ErrDuplicate = errkind.New(errkind.AlreadyExists, "mongostore: duplicate key")
	// ErrValidation: a document broke the collection's schema, checked
	// client-side or by the server's validator. The error is a
	// *ValidationError naming the field and the rule. Kind InvalidArgument.
	ErrValidation = errkind.New(errkind.InvalidArgument, "mongostore: validation failed")
	// ErrUnavailable: the server could not be reached or did not answer in
	// time (server selection, network errors, Config.Timeout, not primary,
	// shutting down). Such errors are transient; see Config.Retry. Kind
	// Unavailable.
	ErrUnavailable = errkind.New(errkind.Unavailable, "mongostore: server unavailable")
	// ErrUnsupported: the server lacks a feature (validators, TTL or text
	// indexes, transactions, change streams, sharding on a non-mongos, ...).
	// Kind Unimplemented.
	ErrUnsupported = errkind.New(errkind.Unimplemented, "mongostore: unsupported by the server")
	// ErrInvalid: the caller's input is malformed (bad or empty filter, bad
	// update, bad option, a document over MaxDocumentSize, unknown
	// collection for a helper that needs a known one). Kind InvalidArgument.
	ErrInvalid = errkind.New(errkind.InvalidArgument, "mongostore: invalid input")
	// ErrInjection: untrusted input carried a MongoDB operator ($-prefixed
	// key, $where, $function, $accumulator, $expr, ...). It wraps
	// ErrInvalid, so errors.Is(err, ErrInvalid) holds too. Kind
	// InvalidArgument.
	ErrInjection = errkind.NewChild(ErrInvalid, "mongostore: operator injection")
	// ErrClosed: the DB was closed; every call after Close returns it. Kind
	// Closed.
	ErrClosed = errkind.New(errkind.Closed, "mongostore: closed")
)

// Error is the error type for failures that map to a sentinel: Kind is one
// of the sentinels above, the caller's ctx error (context.Canceled or
// context.DeadlineExceeded) or nil; Op names the operation (for example
// "users.insertOne"), Err is the driver's error.
type Error struct {
	Kind error
	Op   string
	Msg  string
	Err  error
}

// Error returns "mongostore: op: kind: msg: cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mongostore: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "mongostore: "))
	}
	if e.Msg != "" {
		if e.Kind != nil {
			b.WriteString(": ")
		}
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		if e.Kind != nil || e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// DuplicateError is returned when a unique index rejects a write. It
// matches ErrDuplicate with errors.Is.
type DuplicateError struct {
	Collection string
	// Index names the unique index, e.g. "users_email_unique". It is empty
	// only when neither the server's message nor a lookup of the
	// collection's unique indexes could tell which index it was.
	Index string
	// Key is the duplicate key as the server reported it, when it did.
	Key string
	Err error
}

// Error names the collection, the index and the key.
func (e *DuplicateError) Error() string {
	idx := e.Index
	if idx == "" {
		idx = "(unknown index)"
	}
	s := fmt.Sprintf("mongostore: %s: duplicate key in index %s", e.Collection, idx)
	if e.Key != "" {
		s += " " + e.Key
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports ErrDuplicate and its kind, errkind.AlreadyExists.
func (e *DuplicateError) Is(target error) bool {
	return target == ErrDuplicate || target == errkind.AlreadyExists
}

// Kind returns errkind.AlreadyExists.
func (e *DuplicateError) Kind() errkind.Kind { return errkind.AlreadyExists }

// Unwrap returns the driver's error.
func (e *DuplicateError) Unwrap() error { return e.Err }

// ValidationError is returned when a document breaks a collection's
// schema. It matches ErrValidation with errors.Is.
type ValidationError struct {
	Collection string
	// Field is the dotted path of the offending field ("" for the document
	// itself).
	Field string
	// Rule is the JSON-schema keyword that failed: "required", "bsonType",
	// "pattern", "enum", "minLength", "maxLength", "minimum", "maximum",
	// "additionalProperties", "items", "minItems", "maxItems", "update".
	Rule string
	// Detail says what was expected.
	Detail string
	// Server is set when the server's validator (rather than the client)
	// rejected the document; Err then holds the driver's error.
	Server bool
	Err    error
}

// Error names the collection, the field and the rule.
func (e *ValidationError) Error() string {
	field := e.Field
	if field == "" {
		field = "(document)"
	}
	s := fmt.Sprintf("mongostore: %s: validation failed: field %s: rule %s", e.Collection, field, e.Rule)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports ErrValidation and its kind, errkind.InvalidArgument.
func (e *ValidationError) Is(target error) bool {
	return target == ErrValidation || target == errkind.InvalidArgument
}

// Kind returns errkind.InvalidArgument.
func (e *ValidationError) Kind() errkind.Kind { return errkind.InvalidArgument }

// Unwrap returns the driver's error, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

// Server error codes this package classifies.
const (
	codeBadValue                  = 2
	codeFailedToParse             = 9
	codeTypeMismatch              = 14
	codeIllegalOperation          = 20
	codeNamespaceNotFound         = 26
	codeIndexNotFound             = 27
	codeConflictingUpdateOps      = 40
	codeNamespaceExists           = 48
	codeDollarPrefixedField       = 52
	codeCommandNotFound           = 59
	codeCannotCreateIndex         = 67
	codeInvalidOptions            = 72
	codeIndexOptionsConflict      = 85
	codeIndexKeySpecsConflict     = 86
	codeCommandNotSupported       = 115
	codeDocumentValidation        = 121
	codeInvalidIndexSpecOption    = 197
	codeNotImplemented            = 238
	codeChangeStreamNotSupported  = 40573
	codeHostUnreachable           = 6
	codeHostNotFound              = 7
	codeNetworkTimeout            = 89
	codeShutdownInProgress        = 91
	codePrimarySteppedDown        = 189
	codeExceededTimeLimit         = 262
	codeSocketException           = 9001
	codeNotWritablePrimary        = 10107
	codeInterruptedAtShutdown     = 11600
	codeInterruptedReplChange     = 11602
	codeNotPrimaryNoSecondaryOk   = 13435
	codeNotPrimaryOrSecondary     = 13436
	codeStaleConfig               = 13388
	codeRetryChangeStream         = 234
	codeFailedToSatisfyReadPref   = 133
	codeWriteConcernFailed        = 64
	codeUnknownReplWriteConcern   = 79
	codeUnsatisfiableWriteConcern = 100
)

// transientCodes are the server codes that mean "try again, maybe on
// another member": the retryable-error list of the MongoDB driver specs.
var transientCodes = [...]int{
	codeHostUnreachable, codeHostNotFound, codeNetworkTimeout, codeShutdownInProgress,
	codePrimarySteppedDown, codeExceededTimeLimit, codeSocketException,
	codeNotWritablePrimary, codeInterruptedAtShutdown, codeInterruptedReplChange,
	codeNotPrimaryNoSecondaryOk, codeNotPrimaryOrSecondary, codeStaleConfig,
	codeFailedToSatisfyReadPref,
}

var unsupportedCodes = [...]int{codeCommandNotFound, codeCommandNotSupported, codeNotImplemented, codeChangeStreamNotSupported}

var invalidCodes = [...]int{codeBadValue, codeFailedToParse, codeTypeMismatch, codeConflictingUpdateOps,
	codeDollarPrefixedField, codeInvalidOptions, codeIndexOptionsConflict, codeIndexKeySpecsConflict}

func hasCode(err error, codes []int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}

func hasLabel(err error, labels ...string) bool {
	var le mongo.LabeledError
	if !errors.As(err, &le) {
		return false
	}
	for _, l := range labels {
		if le.HasErrorLabel(l) {
			return true
		}
	}
	return false
}

// isTransient reports whether err is worth retrying: network errors,
// server selection failures, a cleared pool, not-primary and shutdown
// codes, and errors labelled RetryableWriteError. Caller cancellation is
// never transient.
func isTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if mongo.IsNetworkError(err) || hasLabel(err, "RetryableWriteError", "NetworkError") {
		return true
	}
	var pe interface{ Retryable() bool }
	if errors.As(err, &pe) && pe.Retryable() {
		return true
	}
	if errors.As(err, new(topology.ServerSelectionError)) || errors.As(err, new(topology.ConnectionError)) {
		return true
	}
	if hasCode(err, transientCodes[:]) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// isUnavailable reports whether err means the server could not be reached or
// did not answer in time.
func isUnavailable(err error) bool {
	return isTransient(err) || mongo.IsTimeout(err)
}

// isUnsupportedErr reports whether err says the server does not implement
// a command, option or stage.
func isUnsupportedErr(err error) bool { return hasCode(err, unsupportedCodes[:]) }

var sqliteUniqueRe = regexp.MustCompile(`UNIQUE constraint failed: index '([^']+)'`)

var dupIndexRe = regexp.MustCompile(`index: (\S+)(?: dup key: (.*))?`)

// parseDupIndex extracts the index name and key from an E11000 message:
// "E11000 duplicate key error collection: db.users index: users_email_unique dup key: { email: \"a@b\" }".
func parseDupIndex(msg string) (index, key string) {
	m := dupIndexRe.FindStringSubmatch(msg)
	if m == nil {
		return "", ""
	}
	return m[1], strings.TrimSpace(m[2])
}

// dupMessage returns the first duplicate-key write error's message and the
// position of the failing write, or -1.
func dupMessage(err error) (string, int) {
	var we mongo.WriteException
	if errors.As(err, &we) {
		for _, e := range we.WriteErrors {
			if e.Code == 11000 || e.Code == 11001 {
				return e.Message, e.Index
			}
		}
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		for _, e := range bwe.WriteErrors {
			if e.Code == 11000 || e.Code == 11001 {
				return e.Message, e.Index
			}
		}
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Message, -1
	}
	return err.Error(), -1
}

// validationFromServer turns a DocumentValidationFailure (code 121) into a
// *ValidationError, naming the property and rule from errInfo.details when
// the server sends them (MongoDB 5.0+).
func validationFromServer(coll string, err error) *ValidationError {
	ve := &ValidationError{Collection: coll, Rule: "$jsonSchema", Server: true, Err: err}
	var details bson.Raw
	var we mongo.WriteException
	var bwe mongo.BulkWriteException
	switch {
	case errors.As(err, &we):
		for _, e := range we.WriteErrors {
			if e.Code == codeDocumentValidation {
				details = e.Details
				break
			}
		}
	case errors.As(err, &bwe):
		for _, e := range bwe.WriteErrors {
			if e.Code == codeDocumentValidation {
				details = e.Details
				break
			}
		}
	}
	if details != nil {
		var m bson.M
		if bson.Unmarshal(details, &m) == nil {
			field, rule := findFailure(m["details"], "")
			if field != "" {
				ve.Field = field
			}
			if rule != "" {
				ve.Rule = rule
			}
		}
	}
	return ve
}

// findFailure walks a server validation report (schemaRulesNotSatisfied,
// propertiesNotSatisfied, missingProperties) to the first failing property
// and operator.
func findFailure(v any, prefix string) (field, rule string) {
	if d, ok := v.(bson.D); ok {
		m := bson.M{}
		for _, e := range d {
			m[e.Key] = e.Value
		}
		v = m
	}
	switch x := v.(type) {
	case bson.M:
		if mp, ok := x["missingProperties"].(bson.A); ok && len(mp) > 0 {
			if s, ok := mp[0].(string); ok {
				return join(prefix, s), "required"
			}
		}
		if p, ok := x["propertyName"].(string); ok {
			f, r := findFailure(x["details"], join(prefix, p))
			if f == "" {
				f = join(prefix, p)
			}
			return f, r
		}
		for _, k := range []string{"schemaRulesNotSatisfied", "propertiesNotSatisfied", "details"} {
			if sub, ok := x[k]; ok {
				if f, r := findFailure(sub, prefix); f != "" || r != "" {
					if r == "" {
						r, _ = x["operatorName"].(string)
					}
					return f, r
				}
			}
		}
		if op, ok := x["operatorName"].(string); ok {
			return prefix, op
		}
	case bson.A:
		for _, e := range x {
			if f, r := findFailure(e, prefix); f != "" || r != "" {
				return f, r
			}
		}
	}
	return "", ""
}

func join(prefix, s string) string {
	if prefix == "" {
		return s
	}
	return prefix + "." + s
}

// mapErr is the one place driver errors become this package's errors. op
// names the operation ("users.insertOne"); coll the collection, if any. It
// never re-wraps an error that is already ours.
//
// The caller's ctx decides first: once ctx is done, any failure is ctx's
// error (the driver may report it as a network error, a server selection
// timeout or a timeout-labelled command error, all of which would otherwise
// read as ErrUnavailable). A context deadline while ctx is live is the
// driver's own (Config.Timeout): ErrUnavailable, with the context error cut
// from the chain so that errkind.Of says Unavailable, not DeadlineExceeded.
func (d *DB) mapErr(ctx context.Context, op, coll string, err error) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil {
		var me *Error
		if errors.As(err, &me) && (me.Kind == context.Canceled || me.Kind == context.DeadlineExceeded) {
			return err
		}
		if d != nil {
			err = d.redactErr(err)
		}
		return &Error{Kind: ctx.Err(), Op: op, Err: err}
	}
	var me *Error
	var de *DuplicateError
	var ve *ValidationError
	if errors.As(err, &me) || errors.As(err, &de) || errors.As(err, &ve) {
		return err
	}
	if d != nil {
		err = d.redactErr(err)
	}
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return &Error{Kind: ErrNotFound, Op: op, Err: err}
	case errors.Is(err, context.Canceled):
		// A ctx the driver derived (not the caller's) was cancelled.
		return &Error{Kind: ErrUnavailable, Op: op, Err: errors.New(err.Error())}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: ErrUnavailable, Op: op, Msg: "operation timed out", Err: errors.New(err.Error())}
	case errors.Is(err, mongo.ErrClientDisconnected):
		return &Error{Kind: ErrClosed, Op: op, Err: err}
	case sqliteUniqueRe.MatchString(err.Error()):
		// FerretDB's SQLite backend reports a unique violation on update as
		// an InternalError naming its own index "<coll>_<hash8>_<index>".
		m := sqliteUniqueRe.FindStringSubmatch(err.Error())
		idx := m[1]
		if p := regexp.MustCompile(`^` + regexp.QuoteMeta(coll) + `_[0-9a-f]{8}_`); coll != "" {
			idx = p.ReplaceAllString(idx, "")
		}
		return &DuplicateError{Collection: coll, Index: idx, Err: err}
	case mongo.IsDuplicateKeyError(err):
		msg, _ := dupMessage(err)
		idx, key := parseDupIndex(msg)
		return &DuplicateError{Collection: coll, Index: idx, Key: key, Err: err}
	case hasCode(err, []int{codeDocumentValidation}):
		return validationFromServer(coll, err)
	case isUnavailable(err):
		return &Error{Kind: ErrUnavailable, Op: op, Err: err}
	case isUnsupportedErr(err):
		return &Error{Kind: ErrUnsupported, Op: op, Err: err}
	case hasCode(err, invalidCodes[:]):
		return &Error{Kind: ErrInvalid, Op: op, Err: err}
	case hasCode(err, []int{codeNamespaceNotFound}):
		return &Error{Kind: ErrNotFound, Op: op, Err: err}
	}
	var ia mongo.InvalidArgumentError
	var ma mongo.MarshalError
	if errors.As(err, &ia) || errors.As(err, &ma) || errors.Is(err, mongo.ErrNilDocument) || errors.Is(err, mongo.ErrEmptySlice) {
		return &Error{Kind: ErrInvalid, Op: op, Err: err}
	}
	return &Error{Op: op, Err: err}
}

// redactedError keeps the driver's error reachable for errors.As/Is while
// its message has credentials removed.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

func invalidf(op, format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Op: op, Msg: fmt.Sprintf(format, args...)}
}

func injectionf(format string, args ...any) error {
	return &Error{Kind: ErrInjection, Msg: fmt.Sprintf(format, args...)}
}
