package mongostore

import (
	"context"
	"iter"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Collection is a typed view of one collection of a Store: documents go in
// and come out as T (a struct with bson tags, usually). It adds encoding and
// decoding only; validation, error mapping and retries are the Store's, so
// typed code runs unchanged on any Store (a *DB, a test double, a wrapper
// that adds metrics).
type Collection[T any] struct {
	s    Store
	name lucidkeys.Collection
}

// NewCollection returns the typed collection name of s. A nil Store or an
// invalid name is ErrInvalid here rather than a panic on first use.
func NewCollection[T any](s Store, name lucidkeys.Collection) (*Collection[T], error) {
	if s == nil {
		return nil, invalidf("newCollection", "store is nil")
	}
	if db, ok := s.(*DB); ok && db == nil {
		return nil, invalidf("newCollection", "store is a nil *DB")
	}
	if err := checkCollName("newCollection", name); err != nil {
		return nil, err
	}
	return &Collection[T]{s: s, name: name}, nil
}

// Name returns the collection name.
func (c *Collection[T]) Name() lucidkeys.Collection { return c.name }

// Raw returns the driver's collection when the Store is a *DB, nil
// otherwise: the escape hatch.
func (c *Collection[T]) Raw() *mongo.Collection {
	if db, ok := c.s.(*DB); ok {
		return db.coll(string(c.name))
	}
	return nil
}

// InsertOne validates and inserts v, returning its _id.
func (c *Collection[T]) InsertOne(ctx context.Context, v T) (any, error) {
	return c.s.InsertOne(ctx, c.name, v)
}

// InsertMany validates and inserts vs in order.
func (c *Collection[T]) InsertMany(ctx context.Context, vs []T) ([]any, error) {
	docs := make([]any, len(vs))
	for i := range vs {
		docs[i] = vs[i]
	}
	return c.s.InsertMany(ctx, c.name, docs)
}

// FindOne returns the first match; ErrNotFound when none.
func (c *Collection[T]) FindOne(ctx context.Context, filter any, opts *FindOptions) (T, error) {
	var v T
	err := c.s.FindOne(ctx, c.name, filter, &v, opts)
	return v, err
}

// Find returns every match (All: every document).
func (c *Collection[T]) Find(ctx context.Context, filter any, opts *FindOptions) ([]T, error) {
	var out []T
	if err := c.s.Find(ctx, c.name, filter, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// All yields the matches one at a time, decoding each into a new T, with
// memory bounded by the server's batch size. An error is yielded once, last.
func (c *Collection[T]) All(ctx context.Context, filter any, opts *FindOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for raw, err := range c.s.Stream(ctx, c.name, filter, opts) {
			if err != nil {
				yield(zero, err)
				return
			}
			var v T
			if err := bson.Unmarshal(raw, &v); err != nil {
				yield(zero, &Error{Kind: ErrInvalid, Op: string(c.name) + ".all", Msg: "decode", Err: err})
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// UpdateOne applies an operator update to the first match.
func (c *Collection[T]) UpdateOne(ctx context.Context, filter, update any) (UpdateResult, error) {
	return c.s.UpdateOne(ctx, c.name, filter, update)
}

// UpdateMany applies an operator update to every match.
func (c *Collection[T]) UpdateMany(ctx context.Context, filter, update any) (UpdateResult, error) {
	return c.s.UpdateMany(ctx, c.name, filter, update)
}

// Upsert applies an operator update to the first match or inserts.
func (c *Collection[T]) Upsert(ctx context.Context, filter, update any) (UpdateResult, error) {
	return c.s.Upsert(ctx, c.name, filter, update)
}

// ReplaceOne validates v and replaces the first match with it.
func (c *Collection[T]) ReplaceOne(ctx context.Context, filter any, v T) (UpdateResult, error) {
	return c.s.ReplaceOne(ctx, c.name, filter, v)
}

// DeleteOne deletes the first match.
func (c *Collection[T]) DeleteOne(ctx context.Context, filter any) (int64, error) {
	return c.s.DeleteOne(ctx, c.name, filter)
}

// DeleteMany deletes every match (a nil or empty filter is refused; All
// deletes every document).
func (c *Collection[T]) DeleteMany(ctx context.Context, filter any) (int64, error) {
	return c.s.DeleteMany(ctx, c.name, filter)
}

// Count counts matches.
func (c *Collection[T]) Count(ctx context.Context, filter any) (int64, error) {
	return c.s.Count(ctx, c.name, filter)
}
