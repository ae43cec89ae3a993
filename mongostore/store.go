package mongostore

import (
	"context"
	"errors"
	"iter"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Store is the document store Lucid services program against. *DB
// implements it. Collections are named by lucidkeys.Collection (an untyped
// string constant such as "users" converts implicitly). Filters and updates
// are trusted documents (bson.D, bson.M, structs, a *Filter); build filters
// from untrusted input with Filter (equality and comparisons on values that
// may not be operators) or, for query endpoints, AllowListedFilter. Writes
// to collections of the schema registry are validated client-side first.
//
// Every call that takes a filter, reads included, refuses a nil or empty
// one with ErrInvalid; All matches every document. One rule for all calls,
// so a filter lost on the way (nil, a forgotten field, the nil bson.D of an
// ignored Filter.Build error) never reads, updates or deletes a whole
// collection. Documents and updates over MaxDocumentSize are ErrInvalid.
type Store interface {
	// InsertOne inserts doc and returns its _id.
	InsertOne(ctx context.Context, coll lucidkeys.Collection, doc any) (any, error)
	// InsertMany inserts docs in order and returns their _ids.
	InsertMany(ctx context.Context, coll lucidkeys.Collection, docs []any) ([]any, error)
	// FindOne decodes the first match into out; ErrNotFound when none.
	FindOne(ctx context.Context, coll lucidkeys.Collection, filter any, out any, opts *FindOptions) error
	// Find decodes all matches into out, a pointer to a slice.
	Find(ctx context.Context, coll lucidkeys.Collection, filter any, out any, opts *FindOptions) error
	// Stream yields matches one at a time, for results too large to hold.
	Stream(ctx context.Context, coll lucidkeys.Collection, filter any, opts *FindOptions) iter.Seq2[bson.Raw, error]
	// UpdateOne applies an operator update to the first match.
	UpdateOne(ctx context.Context, coll lucidkeys.Collection, filter, update any) (UpdateResult, error)
	// UpdateMany applies an operator update to every match.
	UpdateMany(ctx context.Context, coll lucidkeys.Collection, filter, update any) (UpdateResult, error)
	// ReplaceOne replaces the first match with doc.
	ReplaceOne(ctx context.Context, coll lucidkeys.Collection, filter, doc any) (UpdateResult, error)
	// Upsert applies an operator update to the first match, inserting when none matches.
	Upsert(ctx context.Context, coll lucidkeys.Collection, filter, update any) (UpdateResult, error)
	// DeleteOne deletes the first match and returns the number deleted (0 or 1).
	DeleteOne(ctx context.Context, coll lucidkeys.Collection, filter any) (int64, error)
	// DeleteMany deletes every match and returns the number deleted.
	DeleteMany(ctx context.Context, coll lucidkeys.Collection, filter any) (int64, error)
	// Count counts matches.
	Count(ctx context.Context, coll lucidkeys.Collection, filter any) (int64, error)
	// BulkWrite runs several writes in one round trip.
	BulkWrite(ctx context.Context, coll lucidkeys.Collection, ops []WriteOp, ordered bool) (BulkResult, error)
	// Aggregate runs a pipeline and decodes all results into out, a pointer to a slice.
	Aggregate(ctx context.Context, coll lucidkeys.Collection, pipeline any, out any) error
	// Ping checks that the server answers.
	Ping(ctx context.Context) error
	// Check reports health in the SDK's shape (up, degraded, down).
	Check(ctx context.Context) health.Report
	// Health reports reachability, role and features.
	Health(ctx context.Context) (Health, error)
	// Close disconnects; it is idempotent.
	Close(ctx context.Context) error
}

// FindOptions shape a query. The zero value (or nil) returns whole
// documents in natural order, all of them.
type FindOptions struct {
	// Projection selects fields, e.g. bson.D{{"email", 1}, {"_id", 0}}.
	Projection any
	// Sort orders results, e.g. bson.D{{"created_at", -1}}.
	Sort any
	// Limit caps the number of results (0: no limit).
	Limit int64
	// Skip skips this many results first.
	Skip int64
	// BatchSize is the number of documents per server round trip when
	// streaming (0: the server's default).
	BatchSize int32
}

func (o *FindOptions) find() *options.FindOptionsBuilder {
	b := options.Find()
	if o == nil {
		return b
	}
	if o.Projection != nil {
		b.SetProjection(o.Projection)
	}
	if o.Sort != nil {
		b.SetSort(o.Sort)
	}
	if o.Limit > 0 {
		b.SetLimit(o.Limit)
	}
	if o.Skip > 0 {
		b.SetSkip(o.Skip)
	}
	if o.BatchSize > 0 {
		b.SetBatchSize(o.BatchSize)
	}
	return b
}

func (o *FindOptions) findOne() *options.FindOneOptionsBuilder {
	b := options.FindOne()
	if o == nil {
		return b
	}
	if o.Projection != nil {
		b.SetProjection(o.Projection)
	}
	if o.Sort != nil {
		b.SetSort(o.Sort)
	}
	if o.Skip > 0 {
		b.SetSkip(o.Skip)
	}
	return b
}

// UpdateResult reports what an update, replace or upsert did.
type UpdateResult struct {
	Matched    int64
	Modified   int64
	Upserted   int64
	UpsertedID any
}

// BulkResult reports what a BulkWrite did.
type BulkResult struct {
	Inserted    int64
	Matched     int64
	Modified    int64
	Deleted     int64
	Upserted    int64
	UpsertedIDs map[int64]any
}

func (d *DB) checkDoc(op string, coll lucidkeys.Collection, doc any) (bson.Raw, error) {
	raw, err := toRaw(op, doc)
	if err != nil {
		return nil, err
	}
	if err := checkSize(op, raw); err != nil {
		return nil, err
	}
	if !d.cfg.SkipValidation {
		if err := d.schema.validateRaw(coll, raw); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

func (d *DB) checkUpdate(op string, coll lucidkeys.Collection, update any) (any, error) {
	switch update.(type) {
	case bson.A, []any, []bson.D, []bson.M, mongo.Pipeline:
		return update, nil // pipeline update: the server checks it
	}
	raw, err := toRaw(op, update)
	if err != nil {
		return nil, err
	}
	// The update's size bounds its $set payload, and a document set whole
	// by $set larger than the limit can never be stored.
	if err := checkSize(op, raw); err != nil {
		return nil, err
	}
	if d.cfg.SkipValidation {
		return raw, nil
	}
	if err := d.schema.validateUpdateRaw(coll, raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// InsertOne validates doc against the collection's schema and inserts it.
// A duplicate key returns a *DuplicateError naming the index.
func (d *DB) InsertOne(ctx context.Context, coll lucidkeys.Collection, doc any) (any, error) {
	op := string(coll) + ".insertOne"
	c, err := d.collFor(op, coll)
	if err != nil {
		return nil, err
	}
	raw, err := d.checkDoc(op, coll, doc)
	if err != nil {
		return nil, err
	}
	var res *mongo.InsertOneResult
	err = d.do(ctx, isIdempotent(ctx), op, func(ctx context.Context) error {
		var err error
		res, err = c.InsertOne(ctx, raw)
		return err
	})
	if err != nil {
		return nil, d.writeErr(ctx, op, coll, err, []bson.Raw{raw})
	}
	return res.InsertedID, nil
}

// InsertMany validates every document, then inserts them in order. On a
// duplicate key the documents before the failing one are inserted.
func (d *DB) InsertMany(ctx context.Context, coll lucidkeys.Collection, docs []any) ([]any, error) {
	op := string(coll) + ".insertMany"
	c, err := d.collFor(op, coll)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, invalidf(op, "no documents")
	}
	raws := make([]bson.Raw, len(docs))
	batch := make([]any, len(docs))
	for i, doc := range docs {
		raw, err := d.checkDoc(op, coll, doc)
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Detail = strings.TrimSpace(ve.Detail + " (document " + itoa(i) + ")")
			}
			return nil, err
		}
		raws[i], batch[i] = raw, raw
	}
	var res *mongo.InsertManyResult
	err = d.do(ctx, isIdempotent(ctx), op, func(ctx context.Context) error {
		var err error
		res, err = c.InsertMany(ctx, batch)
		return err
	})
	if err != nil {
		return nil, d.writeErr(ctx, op, coll, err, raws)
	}
	return res.InsertedIDs, nil
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// writeErr maps a write error; for a duplicate key whose message does not
// name the index (FerretDB's does not) it looks the index up: the unique
// index of coll on which an existing document has the failing document's
// key.
func (d *DB) writeErr(ctx context.Context, op string, coll lucidkeys.Collection, err error, docs []bson.Raw) error {
	mapped := d.mapErr(ctx, op, string(coll), err)
	var de *DuplicateError
	if !errors.As(mapped, &de) || de.Index != "" || len(docs) == 0 || ctx.Err() != nil {
		return mapped
	}
	_, pos := dupMessage(err)
	doc := docs[0]
	if pos >= 0 && pos < len(docs) {
		doc = docs[pos]
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	de.Index = d.findDupIndex(lctx, coll, doc)
	return mapped
}

func (d *DB) findDupIndex(ctx context.Context, coll lucidkeys.Collection, doc bson.Raw) string {
	c := d.coll(string(coll))
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		return ""
	}
	var idx []struct {
		Name   string `bson:"name"`
		Key    bson.D `bson:"key"`
		Unique bool   `bson:"unique"`
		Sparse bool   `bson:"sparse"`
	}
	if err := cur.All(ctx, &idx); err != nil {
		return ""
	}
	// Indexes on which the document has every key field are tried first:
	// a missing field can collide only in a unique index that is not
	// sparse, and FerretDB does not list the sparse option, so an index
	// such as users.tron_address (unique, sparse) would otherwise be named
	// for any two documents without the field.
	type candidate struct {
		name    string
		filter  bson.D
		missing bool
	}
	var cands []candidate
	for _, ix := range idx {
		if !ix.Unique && ix.Name != "_id_" {
			continue
		}
		cd := candidate{name: ix.Name, filter: bson.D{}}
		skip := false
		for _, k := range ix.Key {
			v, err := doc.LookupErr(strings.Split(k.Key, ".")...)
			if err != nil {
				if ix.Sparse {
					skip = true
					break
				}
				cd.missing = true
				cd.filter = append(cd.filter, bson.E{Key: k.Key, Value: nil})
				continue
			}
			cd.filter = append(cd.filter, bson.E{Key: k.Key, Value: v})
		}
		if !skip {
			cands = append(cands, cd)
		}
	}
	for _, pass := range []bool{false, true} {
		for _, cd := range cands {
			if cd.missing != pass {
				continue
			}
			n, err := c.CountDocuments(ctx, cd.filter, options.Count().SetLimit(1))
			if err == nil && n > 0 {
				return cd.name
			}
		}
	}
	return ""
}

// FindOne decodes the first document matching filter into out (a pointer).
// No match returns ErrNotFound. Transient errors are retried.
func (d *DB) FindOne(ctx context.Context, coll lucidkeys.Collection, filter any, out any, opts *FindOptions) error {
	op := string(coll) + ".findOne"
	c, f, err := d.target(op, coll, filter)
	if err != nil {
		return err
	}
	var raw bson.Raw
	err = d.do(ctx, true, op, func(ctx context.Context) error {
		var err error
		raw, err = c.FindOne(ctx, f, opts.findOne()).Raw()
		return err
	})
	if err != nil {
		return d.mapErr(ctx, op, string(coll), err)
	}
	if err := bson.Unmarshal(raw, out); err != nil {
		return &Error{Kind: ErrInvalid, Op: op, Msg: "decode", Err: err}
	}
	return nil
}

// Find decodes every document matching filter into out, a pointer to a
// slice. Use Stream for results that should not be held in memory at once.
func (d *DB) Find(ctx context.Context, coll lucidkeys.Collection, filter any, out any, opts *FindOptions) error {
	op := string(coll) + ".find"
	c, f, err := d.target(op, coll, filter)
	if err != nil {
		return err
	}
	err = d.do(ctx, true, op, func(ctx context.Context) error {
		cur, err := c.Find(ctx, f, opts.find())
		if err != nil {
			return err
		}
		return cur.All(ctx, out)
	})
	return d.mapErr(ctx, op, string(coll), err)
}

// Stream returns an iterator over the documents matching filter, decoding
// one at a time from the server's batches, so memory stays bounded by the
// batch size whatever the result size. Each yielded bson.Raw is the
// caller's to keep. An error (including ctx cancellation) is yielded once,
// last. Breaking out of the loop closes the cursor.
func (d *DB) Stream(ctx context.Context, coll lucidkeys.Collection, filter any, opts *FindOptions) iter.Seq2[bson.Raw, error] {
	return func(yield func(bson.Raw, error) bool) {
		cur, err := d.cursor(ctx, coll, filter, opts)
		if err != nil {
			yield(nil, err)
			return
		}
		defer closeCursor(ctx, cur)
		for cur.Next(ctx) {
			if !yield(append(bson.Raw(nil), cur.Current...), nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(nil, d.mapErr(ctx, string(coll)+".stream", string(coll), err))
		}
	}
}

func (d *DB) cursor(ctx context.Context, coll lucidkeys.Collection, filter any, opts *FindOptions) (*mongo.Cursor, error) {
	op := string(coll) + ".stream"
	c, f, err := d.target(op, coll, filter)
	if err != nil {
		return nil, err
	}
	var cur *mongo.Cursor
	err = d.do(ctx, true, op, func(ctx context.Context) error {
		var err error
		cur, err = c.Find(ctx, f, opts.find())
		return err
	})
	if err != nil {
		return nil, d.mapErr(ctx, op, string(coll), err)
	}
	return cur, nil
}

// closeCursor kills a server cursor even when ctx is already done.
func closeCursor(ctx context.Context, cur *mongo.Cursor) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = cur.Close(cctx)
}

func updateResult(r *mongo.UpdateResult) UpdateResult {
	if r == nil {
		return UpdateResult{}
	}
	return UpdateResult{Matched: r.MatchedCount, Modified: r.ModifiedCount, Upserted: r.UpsertedCount, UpsertedID: r.UpsertedID}
}

// updateDocs returns the $set / $setOnInsert sub-documents of an update, to
// name the index of a duplicate key.
func updateDocs(u any) []bson.Raw {
	raw, ok := u.(bson.Raw)
	if !ok {
		return nil
	}
	var out []bson.Raw
	for _, k := range []string{"$set", "$setOnInsert"} {
		if v, err := raw.LookupErr(k); err == nil && v.Type == bson.TypeEmbeddedDocument {
			out = append(out, v.Document())
		}
	}
	return out
}

// UpdateOne applies update (an operator document such as {$set: ...}, or a
// pipeline) to the first document matching filter, after validating the
// operators against the schema.
func (d *DB) UpdateOne(ctx context.Context, coll lucidkeys.Collection, filter, update any) (UpdateResult, error) {
	return d.update(ctx, coll, "updateOne", filter, update, false, false)
}

// UpdateMany applies update to every document matching filter.
func (d *DB) UpdateMany(ctx context.Context, coll lucidkeys.Collection, filter, update any) (UpdateResult, error) {
	return d.update(ctx, coll, "updateMany", filter, update, true, false)
}

// Upsert applies update to the first document matching filter or, when
// none matches, inserts one built from the filter's equality fields and the
// update. Client-side validation checks the operators and that every
// required field of the collection is given by the filter (as an equality)
// or by $set / $setOnInsert, so an upsert can never insert a document
// missing one; put insert-only fields under $setOnInsert.
func (d *DB) Upsert(ctx context.Context, coll lucidkeys.Collection, filter, update any) (UpdateResult, error) {
	return d.update(ctx, coll, "upsert", filter, update, false, true)
}

func (d *DB) update(ctx context.Context, coll lucidkeys.Collection, name string, filter, update any, many, upsert bool) (UpdateResult, error) {
	op := string(coll) + "." + name
	c, f, err := d.target(op, coll, filter)
	if err != nil {
		return UpdateResult{}, err
	}
	u, err := d.checkUpdate(op, coll, update)
	if err != nil {
		return UpdateResult{}, err
	}
	if upsert && !d.cfg.SkipValidation {
		if err := d.checkUpsertRequired(op, coll, f, u); err != nil {
			return UpdateResult{}, err
		}
	}
	var res *mongo.UpdateResult
	err = d.do(ctx, isIdempotent(ctx), op, func(ctx context.Context) error {
		var err error
		switch {
		case many:
			res, err = c.UpdateMany(ctx, f, u)
		case upsert:
			res, err = c.UpdateOne(ctx, f, u, options.UpdateOne().SetUpsert(true))
		default:
			res, err = c.UpdateOne(ctx, f, u)
		}
		return err
	})
	if err != nil {
		return UpdateResult{}, d.writeErr(ctx, op, coll, err, updateDocs(u))
	}
	return updateResult(res), nil
}

// ReplaceOne validates doc as a whole document and replaces the first
// document matching filter with it.
func (d *DB) ReplaceOne(ctx context.Context, coll lucidkeys.Collection, filter, doc any) (UpdateResult, error) {
	op := string(coll) + ".replaceOne"
	c, f, err := d.target(op, coll, filter)
	if err != nil {
		return UpdateResult{}, err
	}
	raw, err := d.checkDoc(op, coll, doc)
	if err != nil {
		return UpdateResult{}, err
	}
	if first, err := raw.IndexErr(0); err == nil && strings.HasPrefix(first.Key(), "$") {
		return UpdateResult{}, invalidf(op, "replacement starts with operator %q: use UpdateOne", first.Key())
	}
	var res *mongo.UpdateResult
	err = d.do(ctx, isIdempotent(ctx), op, func(ctx context.Context) error {
		var err error
		res, err = c.ReplaceOne(ctx, f, raw)
		return err
	})
	if err != nil {
		return UpdateResult{}, d.writeErr(ctx, op, coll, err, []bson.Raw{raw})
	}
	return updateResult(res), nil
}

// DeleteOne deletes the first document matching filter.
func (d *DB) DeleteOne(ctx context.Context, coll lucidkeys.Collection, filter any) (int64, error) {
	return d.delete(ctx, coll, "deleteOne", filter, false)
}

// DeleteMany deletes every document matching filter. A nil or empty filter
// is refused (ErrInvalid) so a missing filter never empties a collection;
// pass All to mean every document.
func (d *DB) DeleteMany(ctx context.Context, coll lucidkeys.Collection, filter any) (int64, error) {
	return d.delete(ctx, coll, "deleteMany", filter, true)
}

func (d *DB) delete(ctx context.Context, coll lucidkeys.Collection, name string, filter any, many bool) (int64, error) {
	op := string(coll) + "." + name
	c, f, err := d.target(op, coll, filter)
	if err != nil {
		return 0, err
	}
	var res *mongo.DeleteResult
	err = d.do(ctx, isIdempotent(ctx), op, func(ctx context.Context) error {
		var err error
		if many {
			res, err = c.DeleteMany(ctx, f)
		} else {
			res, err = c.DeleteOne(ctx, f)
		}
		return err
	})
	if err != nil {
		return 0, d.mapErr(ctx, op, string(coll), err)
	}
	return res.DeletedCount, nil
}

// Count counts the documents matching filter (All: every document).
func (d *DB) Count(ctx context.Context, coll lucidkeys.Collection, filter any) (int64, error) {
	op := string(coll) + ".count"
	c, f, err := d.target(op, coll, filter)
	if err != nil {
		return 0, err
	}
	var n int64
	err = d.do(ctx, true, op, func(ctx context.Context) error {
		var err error
		n, err = c.CountDocuments(ctx, f)
		return err
	})
	return n, d.mapErr(ctx, op, string(coll), err)
}

// BulkWrite validates the inserts, replacements and updates among ops
// (InsertOp, UpdateOneOp, UpsertOp, ReplaceOneOp, DeleteManyOp, ...) as
// the single calls do, filters included, and runs them in one round trip,
// in order when ordered is set.
func (d *DB) BulkWrite(ctx context.Context, coll lucidkeys.Collection, ops []WriteOp, ordered bool) (BulkResult, error) {
	op := string(coll) + ".bulkWrite"
	c, err := d.collFor(op, coll)
	if err != nil {
		return BulkResult{}, err
	}
	if len(ops) == 0 {
		return BulkResult{}, invalidf(op, "no write ops")
	}
	models := make([]mongo.WriteModel, len(ops))
	inserted := make([]bson.Raw, len(ops)) // the insert documents by position, to name a duplicate's index
	var docs []bson.Raw
	for i, w := range ops {
		m, raw, err := d.writeModel(op, coll, w)
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Detail = strings.TrimSpace(ve.Detail + " (op " + itoa(i) + ")")
			}
			return BulkResult{}, err
		}
		models[i] = m
		if w.Kind == OpInsert {
			inserted[i] = raw
			docs = append(docs, raw)
		}
	}
	var res *mongo.BulkWriteResult
	err = d.do(ctx, isIdempotent(ctx), op, func(ctx context.Context) error {
		var err error
		res, err = c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(ordered))
		return err
	})
	if err != nil {
		_, pos := dupMessage(err)
		var pick []bson.Raw
		if pos >= 0 && pos < len(inserted) && inserted[pos] != nil {
			pick = []bson.Raw{inserted[pos]}
		}
		if pick == nil {
			pick = docs
		}
		return BulkResult{}, d.writeErr(ctx, op, coll, err, pick[:min(len(pick), 1)])
	}
	return BulkResult{
		Inserted: res.InsertedCount, Matched: res.MatchedCount, Modified: res.ModifiedCount,
		Deleted: res.DeletedCount, Upserted: res.UpsertedCount, UpsertedIDs: res.UpsertedIDs,
	}, nil
}

// writeModel checks one WriteOp and returns the driver's model (and, for
// an insert, the encoded document).
func (d *DB) writeModel(op string, coll lucidkeys.Collection, w WriteOp) (mongo.WriteModel, bson.Raw, error) {
	if w.Kind == OpInsert {
		raw, err := d.checkDoc(op, coll, w.Doc)
		if err != nil {
			return nil, nil, err
		}
		return mongo.NewInsertOneModel().SetDocument(raw), raw, nil
	}
	f, err := checkFilter(op, w.Filter)
	if err != nil {
		return nil, nil, err
	}
	switch w.Kind {
	case OpReplaceOne:
		raw, err := d.checkDoc(op, coll, w.Doc)
		if err != nil {
			return nil, nil, err
		}
		return mongo.NewReplaceOneModel().SetFilter(f).SetReplacement(raw), nil, nil
	case OpUpdateOne, OpUpdateMany, OpUpsert:
		u, err := d.checkUpdate(op, coll, w.Doc)
		if err != nil {
			return nil, nil, err
		}
		switch w.Kind {
		case OpUpdateMany:
			return mongo.NewUpdateManyModel().SetFilter(f).SetUpdate(u), nil, nil
		case OpUpsert:
			if !d.cfg.SkipValidation {
				if err := d.checkUpsertRequired(op, coll, f, u); err != nil {
					return nil, nil, err
				}
			}
			return mongo.NewUpdateOneModel().SetFilter(f).SetUpdate(u).SetUpsert(true), nil, nil
		}
		return mongo.NewUpdateOneModel().SetFilter(f).SetUpdate(u), nil, nil
	case OpDeleteOne:
		return mongo.NewDeleteOneModel().SetFilter(f), nil, nil
	case OpDeleteMany:
		return mongo.NewDeleteManyModel().SetFilter(f), nil, nil
	}
	return nil, nil, invalidf(op, "write op kind %d is unknown", int(w.Kind))
}

// Aggregate runs pipeline (mongo.Pipeline, []bson.D or bson.A) and decodes
// every result into out, a pointer to a slice. Pipelines without $out or
// $merge are retried on transient errors.
func (d *DB) Aggregate(ctx context.Context, coll lucidkeys.Collection, pipeline any, out any) error {
	op := string(coll) + ".aggregate"
	c, err := d.collFor(op, coll)
	if err != nil {
		return err
	}
	if pipeline == nil {
		return invalidf(op, "pipeline is nil")
	}
	err = d.do(ctx, readOnlyPipeline(pipeline), op, func(ctx context.Context) error {
		cur, err := c.Aggregate(ctx, pipeline)
		if err != nil {
			return err
		}
		return cur.All(ctx, out)
	})
	return d.mapErr(ctx, op, string(coll), err)
}

// readOnlyPipeline reports whether a pipeline has no $out or $merge stage.
func readOnlyPipeline(p any) bool {
	b, err := bson.Marshal(bson.D{{Key: "p", Value: p}})
	if err != nil {
		return false
	}
	v, err := bson.Raw(b).LookupErr("p")
	if err != nil || v.Type != bson.TypeArray {
		return false
	}
	stages, err := v.Array().Values()
	if err != nil {
		return false
	}
	for _, s := range stages {
		doc, ok := s.DocumentOK()
		if !ok {
			return false
		}
		if _, err := doc.LookupErr("$out"); err == nil {
			return false
		}
		if _, err := doc.LookupErr("$merge"); err == nil {
			return false
		}
	}
	return true
}

// checkUpsertRequired checks that the document an upsert may insert has
// every required top-level field: from the filter's equality fields or the
// update's $set / $setOnInsert paths.
func (d *DB) checkUpsertRequired(op string, coll lucidkeys.Collection, filter, update any) error {
	spec, ok := d.schema.byName[coll]
	if !ok || spec.Validator == nil || len(spec.Validator.Required) == 0 {
		return nil
	}
	u, ok := update.(bson.Raw)
	if !ok {
		return nil // pipeline update: the server checks it
	}
	have := map[string]bool{"_id": true}
	if filter != nil {
		fr, err := toRaw(op, filter)
		if err != nil {
			return err
		}
		elems, _ := fr.Elements()
		for _, e := range elems {
			k := e.Key()
			if strings.HasPrefix(k, "$") {
				continue
			}
			if doc, ok := e.Value().DocumentOK(); ok {
				if first, err := doc.IndexErr(0); err == nil && strings.HasPrefix(first.Key(), "$") {
					if v, err := doc.LookupErr("$eq"); err != nil || v.Type == 0 {
						continue // an operator other than $eq sets nothing
					}
				}
			}
			have[strings.SplitN(k, ".", 2)[0]] = true
		}
	}
	for _, opName := range []string{"$set", "$setOnInsert"} {
		v, err := u.LookupErr(opName)
		if err != nil {
			continue
		}
		doc, ok := v.DocumentOK()
		if !ok {
			continue
		}
		elems, _ := doc.Elements()
		for _, e := range elems {
			have[strings.SplitN(e.Key(), ".", 2)[0]] = true
		}
	}
	for _, r := range spec.Validator.Required {
		if !have[r] {
			return &ValidationError{Collection: string(coll), Field: r, Rule: "required",
				Detail: "an upsert could insert a document without it: give it in the filter or under $setOnInsert"}
		}
	}
	return nil
}
