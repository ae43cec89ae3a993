package mongostore

import (
	"context"
	"iter"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Collection is a typed view of one collection: documents go in and come
// out as T (a struct with bson tags, usually). It shares the DB's
// validation, error mapping and retries.
type Collection[T any] struct {
	db   *DB
	name lucidkeys.Collection
}

// NewCollection returns the typed collection name of db.
func NewCollection[T any](db *DB, name lucidkeys.Collection) *Collection[T] {
	return &Collection[T]{db: db, name: name}
}

// Name returns the collection name.
func (c *Collection[T]) Name() lucidkeys.Collection { return c.name }

// Raw returns the driver's collection: the escape hatch.
func (c *Collection[T]) Raw() *mongo.Collection { return c.db.db.Collection(string(c.name)) }

// InsertOne validates and inserts v, returning its _id.
func (c *Collection[T]) InsertOne(ctx context.Context, v T) (any, error) {
	return c.db.InsertOne(ctx, c.name, v)
}

// InsertMany validates and inserts vs in order.
func (c *Collection[T]) InsertMany(ctx context.Context, vs []T) ([]any, error) {
	docs := make([]any, len(vs))
	for i := range vs {
		docs[i] = vs[i]
	}
	return c.db.InsertMany(ctx, c.name, docs)
}

// FindOne returns the first match; ErrNotFound when none.
func (c *Collection[T]) FindOne(ctx context.Context, filter any, opts *FindOptions) (T, error) {
	var v T
	err := c.db.FindOne(ctx, c.name, filter, &v, opts)
	return v, err
}

// Find returns every match.
func (c *Collection[T]) Find(ctx context.Context, filter any, opts *FindOptions) ([]T, error) {
	var out []T
	if err := c.db.Find(ctx, c.name, filter, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// All yields the matches one at a time, decoding each into a new T, with
// memory bounded by the server's batch size. An error is yielded once, last.
func (c *Collection[T]) All(ctx context.Context, filter any, opts *FindOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cur, err := c.db.cursor(ctx, c.name, filter, opts)
		if err != nil {
			yield(zero, err)
			return
		}
		defer closeCursor(ctx, cur)
		for cur.Next(ctx) {
			var v T
			if err := bson.Unmarshal(cur.Current, &v); err != nil {
				yield(zero, &Error{Kind: ErrInvalid, Op: string(c.name) + ".all", Msg: "decode", Err: err})
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(zero, c.db.mapErr(string(c.name)+".all", string(c.name), err))
		}
	}
}

// UpdateOne applies an operator update to the first match.
func (c *Collection[T]) UpdateOne(ctx context.Context, filter, update any) (UpdateResult, error) {
	return c.db.UpdateOne(ctx, c.name, filter, update)
}

// UpdateMany applies an operator update to every match.
func (c *Collection[T]) UpdateMany(ctx context.Context, filter, update any) (UpdateResult, error) {
	return c.db.UpdateMany(ctx, c.name, filter, update)
}

// Upsert applies an operator update to the first match or inserts.
func (c *Collection[T]) Upsert(ctx context.Context, filter, update any) (UpdateResult, error) {
	return c.db.Upsert(ctx, c.name, filter, update)
}

// ReplaceOne validates v and replaces the first match with it.
func (c *Collection[T]) ReplaceOne(ctx context.Context, filter any, v T) (UpdateResult, error) {
	return c.db.ReplaceOne(ctx, c.name, filter, v)
}

// DeleteOne deletes the first match.
func (c *Collection[T]) DeleteOne(ctx context.Context, filter any) (int64, error) {
	return c.db.DeleteOne(ctx, c.name, filter)
}

// DeleteMany deletes every match (a nil filter is rejected).
func (c *Collection[T]) DeleteMany(ctx context.Context, filter any) (int64, error) {
	return c.db.DeleteMany(ctx, c.name, filter)
}

// Count counts matches.
func (c *Collection[T]) Count(ctx context.Context, filter any) (int64, error) {
	return c.db.Count(ctx, c.name, filter)
}
