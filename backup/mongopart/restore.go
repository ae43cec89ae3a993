package mongopart

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/HamiGames/lucid-data/backup"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Default batch bounds of the Restorer's inserts.
const (
	DefaultBatchDocs  = 1000
	DefaultBatchBytes = 8 << 20
)

// Decompress returns r itself, or a gzip reader over it when it starts with
// gzip's magic bytes (what `mongodump --archive --gzip` writes). The
// caller closes nothing: the gzip reader needs no release.
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	b, err := br.Peek(2)
	if err != nil && len(b) < 2 {
		return br, nil // too short for gzip; the archive reader reports it
	}
	if b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", errFormat, err)
		}
		return zr, nil
	}
	return br, nil
}

// Restorer restores a mongodump archive — a part of this kind, or what
// `mongodump --archive` writes, plain or gzipped — into a server: each
// collection is created with its options, its documents inserted in
// unordered batches, then its indexes (but _id_) created.
type Restorer struct {
	// Client is the server to restore into.
	Client *mongo.Client
	// Rename maps source namespaces to targets: a key "db" renames a
	// database ("lucid" → "scratch"), a key "db.coll" one collection
	// ("lucid.users" → "scratch.people"); the collection's key wins.
	Rename map[string]string
	// Drop drops each target collection before restoring it. Without it
	// documents are merged into what is there: those whose _id exists
	// already are left as they are (counted in Result.Duplicates).
	Drop bool
	// NoIndexes skips index creation.
	NoIndexes bool
	// Include, when not empty, restores only the source namespaces it
	// names ("db" or "db.coll"); the others are read and skipped.
	Include []string
	// BatchDocs and BatchBytes bound one InsertMany (defaults
	// DefaultBatchDocs, DefaultBatchBytes).
	BatchDocs, BatchBytes int
	// Result, when not nil, receives what was inserted.
	Result *Result
}

// Result is what a Restorer wrote.
type Result struct {
	Inserted   int64 // documents inserted
	Duplicates int64 // documents skipped in merge mode: their _id existed
	Indexes    int   // indexes created
}

// Restore implements backup.Restorer. It returns the documents read by
// source namespace, as the part's manifest counts them. A stream that does
// not parse or fails a CRC is backup.ErrCorrupt.
func (r Restorer) Restore(ctx context.Context, p backup.PartManifest, rd io.Reader) (backup.Stats, error) {
	if p.Kind != "" && (p.Kind != Kind || p.Format != Format) {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "not a mongodb part: " + p.Kind + "/" + p.Format}
	}
	if p.FormatVersion > FormatVersion {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrUnsupported, Msg: "mongodb part format version too new"}
	}
	st, err := r.RestoreArchive(ctx, rd)
	if err != nil {
		if errors.Is(err, errFormat) {
			return st, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Err: err}
		}
		return st, err
	}
	return st, nil
}

// RestoreArchive restores an archive read from rd (plain or gzip) outside
// a backup, e.g. a file `mongodump --archive[=FILE] [--gzip]` wrote.
func (r Restorer) RestoreArchive(ctx context.Context, rd io.Reader) (backup.Stats, error) {
	if r.Client == nil {
		return backup.Stats{}, &backup.Error{Op: "restore", Kind: backup.ErrInvalid, Msg: "mongopart: no client"}
	}
	in, err := Decompress(rd)
	if err != nil {
		return backup.Stats{}, err
	}
	res := r.Result
	if res == nil {
		res = &Result{}
	}
	st := backup.Stats{Counts: map[string]int64{}}
	metas := map[string]Metadata{}
	batches := map[string]*batch{}
	h := ArchiveHandler{
		Prelude: func(_ Header, colls []CollectionMetadata) error {
			for _, c := range colls {
				m, err := ParseMetadata([]byte(c.Metadata))
				if err != nil {
					return fmt.Errorf("%w: %s.%s: %v", errFormat, c.DB, c.Collection, err)
				}
				metas[c.DB+"."+c.Collection] = m
			}
			return nil
		},
		Doc: func(db, coll string, doc bson.Raw) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			ns := db + "." + coll
			st.Records++
			st.Counts[ns]++
			if !r.included(db, coll) {
				return nil
			}
			b := batches[ns]
			if b == nil {
				var err error
				if b, err = r.open(ctx, db, coll, metas[ns]); err != nil {
					return err
				}
				batches[ns] = b
			}
			return b.add(ctx, doc, res)
		},
		End: func(db, coll string, _ int64) error {
			ns := db + "." + coll
			if _, ok := st.Counts[ns]; !ok {
				st.Counts[ns] = 0
			}
			if !r.included(db, coll) {
				return nil
			}
			b := batches[ns]
			if b == nil {
				var err error
				if b, err = r.open(ctx, db, coll, metas[ns]); err != nil {
					return err
				}
			}
			delete(batches, ns)
			if err := b.flush(ctx, res); err != nil {
				return err
			}
			if r.NoIndexes {
				return nil
			}
			n, err := createIndexes(ctx, b.coll, metas[ns].Indexes)
			res.Indexes += n
			return err
		},
	}
	if err := ReadArchive(in, h); err != nil {
		return st, err
	}
	return st, nil
}

func (r Restorer) included(db, coll string) bool {
	if len(r.Include) == 0 {
		return true
	}
	for _, ns := range r.Include {
		if ns == db || ns == db+"."+coll {
			return true
		}
	}
	return false
}

// target applies Rename.
func (r Restorer) target(db, coll string) (string, string) {
	if t, ok := r.Rename[db+"."+coll]; ok {
		if d, c, ok := strings.Cut(t, "."); ok {
			return d, c
		}
		return t, coll
	}
	if t, ok := r.Rename[db]; ok {
		return t, coll
	}
	return db, coll
}

// open prepares the target collection: dropped in Drop mode, created with
// the source's options when missing.
func (r Restorer) open(ctx context.Context, db, coll string, m Metadata) (*batch, error) {
	tdb, tcoll := r.target(db, coll)
	d := r.Client.Database(tdb)
	c := d.Collection(tcoll)
	if r.Drop {
		if err := c.Drop(ctx); err != nil {
			return nil, fmt.Errorf("mongopart: drop %s.%s: %w", tdb, tcoll, err)
		}
	}
	cmd := append(bson.D{{Key: "create", Value: tcoll}}, without(m.Options, "uuid")...)
	if err := d.RunCommand(ctx, cmd).Err(); err != nil {
		var ce mongo.CommandError
		if !errors.As(err, &ce) || ce.Code != 48 { // NamespaceExists: merge into it
			return nil, fmt.Errorf("mongopart: create %s.%s: %w", tdb, tcoll, err)
		}
	}
	maxDocs, maxBytes := r.BatchDocs, r.BatchBytes
	if maxDocs <= 0 {
		maxDocs = DefaultBatchDocs
	}
	if maxBytes <= 0 {
		maxBytes = DefaultBatchBytes
	}
	return &batch{coll: c, maxDocs: maxDocs, maxBytes: maxBytes}, nil
}

// batch gathers one collection's documents for InsertMany.
type batch struct {
	coll              *mongo.Collection
	docs              []any
	bytes             int
	maxDocs, maxBytes int
}

func (b *batch) add(ctx context.Context, doc bson.Raw, res *Result) error {
	if len(b.docs) > 0 && (len(b.docs) >= b.maxDocs || b.bytes+len(doc) > b.maxBytes) {
		if err := b.flush(ctx, res); err != nil {
			return err
		}
	}
	// The reader reuses its buffer: the batch keeps a copy.
	b.docs = append(b.docs, bson.Raw(append([]byte(nil), doc...)))
	b.bytes += len(doc)
	return nil
}

func (b *batch) flush(ctx context.Context, res *Result) error {
	if len(b.docs) == 0 {
		return nil
	}
	n := len(b.docs)
	_, err := b.coll.InsertMany(ctx, b.docs, options.InsertMany().SetOrdered(false))
	b.docs, b.bytes = b.docs[:0], 0
	if err == nil {
		res.Inserted += int64(n)
		return nil
	}
	var bw mongo.BulkWriteException
	if errors.As(err, &bw) && bw.WriteConcernError == nil {
		dups := 0
		for _, we := range bw.WriteErrors {
			if we.Code != 11000 {
				return fmt.Errorf("mongopart: insert into %s: %w", b.coll.Name(), err)
			}
			dups++
		}
		res.Duplicates += int64(dups)
		res.Inserted += int64(n - dups)
		return nil
	}
	return fmt.Errorf("mongopart: insert into %s: %w", b.coll.Name(), err)
}

// createIndexes creates the collection's indexes from the specs mongodump
// recorded, but _id_ (every collection has it) and those whose name the
// collection has already (merge mode; FerretDB v1 drops the connection on
// a createIndexes of an existing index), less "ns" and "v", which FerretDB
// v1 refuses and the server fills in.
func createIndexes(ctx context.Context, c *mongo.Collection, specs []bson.D) (int, error) {
	if len(specs) == 0 {
		return 0, nil
	}
	have := map[string]bool{"_id_": true}
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		return 0, fmt.Errorf("mongopart: list indexes of %s: %w", c.Name(), err)
	}
	var existing []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &existing); err != nil {
		return 0, fmt.Errorf("mongopart: list indexes of %s: %w", c.Name(), err)
	}
	for _, e := range existing {
		have[e.Name] = true
	}
	var idx bson.A
	for _, s := range specs {
		name := ""
		for _, e := range s {
			if e.Key == "name" {
				name, _ = e.Value.(string)
			}
		}
		if have[name] {
			continue
		}
		idx = append(idx, without(s, "ns", "v"))
	}
	if len(idx) == 0 {
		return 0, nil
	}
	cmd := bson.D{{Key: "createIndexes", Value: c.Name()}, {Key: "indexes", Value: idx}}
	if err := c.Database().RunCommand(ctx, cmd).Err(); err != nil {
		return 0, fmt.Errorf("mongopart: create indexes of %s: %w", c.Name(), err)
	}
	return len(idx), nil
}

// Checker parses a mongodb part for backup.Manager.Verify: the archive's
// structure and every namespace's CRC-64 are checked and its documents
// counted by namespace; nothing is written.
type Checker struct{}

// Check implements backup.Checker.
func (Checker) Check(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	st, err := CheckArchive(ctx, r)
	if err != nil && errors.Is(err, errFormat) {
		return st, &backup.Error{Op: "check", Part: p.Name, Kind: backup.ErrCorrupt, Err: err}
	}
	return st, err
}

// CheckArchive parses an archive (plain or gzip) and counts its documents,
// by "db.coll" in Counts, every namespace of the prelude included.
func CheckArchive(ctx context.Context, r io.Reader) (backup.Stats, error) {
	in, err := Decompress(r)
	if err != nil {
		return backup.Stats{}, err
	}
	st := backup.Stats{Counts: map[string]int64{}}
	err = ReadArchive(in, ArchiveHandler{
		Doc: func(db, coll string, _ bson.Raw) error {
			st.Records++
			if st.Records%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			return nil
		},
		End: func(db, coll string, n int64) error {
			st.Counts[db+"."+coll] = n
			return ctx.Err()
		},
	})
	return st, err
}
