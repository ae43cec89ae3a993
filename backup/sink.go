package backup

import (
	"context"
	"io"
	"strings"
)

// Sink stores a backup's objects. Names are "<backup ID>/<object>", both
// halves checked by the caller ([ValidID], [ValidName]-like object names),
// or a record's "_records/<kind>/<name>" ([CheckName] accepts both), so a
// sink never sees a path separator beyond those.
//
// Objects are written once: Create starts an object that nobody sees until
// its writer's Commit returns, and Commit fails with ErrExists when the name
// is taken. A sink that cannot make an object appear atomically cannot
// implement Sink: the manifest's atomicity rests on it.
type Sink interface {
	// Create starts writing the object name. ctx bounds the whole write,
	// up to Commit or Abort.
	Create(ctx context.Context, name string) (ObjectWriter, error)
	// Open reads the object name; ErrNotFound when it does not exist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Size returns the stored size of the object name (ErrNotFound when
	// it does not exist).
	Size(ctx context.Context, name string) (int64, error)
	// List returns the names of the committed objects that start with
	// prefix, in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object name; deleting a missing object is not an
	// error.
	Delete(ctx context.Context, name string) error
}

// ObjectWriter is an object being written. Exactly one of Commit and Abort
// ends it; Abort after Commit does nothing.
type ObjectWriter interface {
	io.Writer
	// Commit makes the object durable and visible under its name, or
	// fails and leaves nothing behind.
	Commit() error
	// Abort discards what was written (partial files, multipart uploads).
	Abort() error
}

func joinName(id, object string) string { return id + "/" + object }

func splitName(name string) (id, object string, ok bool) {
	id, object, ok = strings.Cut(name, "/")
	return id, object, ok && ValidID(id) && objRE.MatchString(object) && !strings.Contains(object, "/")
}

// CheckName reports whether name is a valid sink object name: "<backup
// ID>/<object>", or a record's "_records/<kind>/<name>" (see
// [Manager.PutRecord]); sinks call it before touching storage.
func CheckName(name string) error {
	_, _, okb := splitName(name)
	_, _, okr := splitRecord(name)
	if !okb && !okr {
		return newErr(ErrInvalid, "sink", "", "", "bad object name %.60q", name)
	}
	return nil
}
