package mongopart

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
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
//
// # Lucid collections: the registry wins
//
// With Lucid set, a collection restored into the Lucid store's database
// (Lucid.Database) under a name its schema registry holds (Lucid.Schema:
// mongostore.LucidSchema's 15 collections, Lucid's five verified ones
// among them, or the Config.Schema the store was connected with) is set up
// by mongostore's EnsureSchema rules, not by the archive's metadata:
//
//   - the archive's validator, validationLevel and validationAction are
//     dropped when the collection is created (its other options, such as
//     a collation, are kept) and the documents are inserted;
//   - after the last document of the restore, Lucid.EnsureSchemaWith runs
//     once: the registry's validator is set and the registry's indexes are
//     created, an index already there on the same keys and options
//     adopted, as EnsureSchema always does (Result.Schema is its report);
//   - then the archive's indexes on keys the registry does not list are
//     created, so an index an operator added survives, while one on keys
//     the registry lists is left to the registry's definition (Lucid's
//     email_1 is not created beside users_email_unique).
//
// The registry wins because it is the schema the SDK checks every write
// against and the one each service's EnsureSchema puts in place when it
// starts: an archive's validator is whatever an older release or Lucid's
// scripts had set, and restoring it would leave the collection in drift
// until the next start collMod-ed it. The validator comes after the
// documents so that a backup restores whole — documents written under an
// older or looser validator (validationLevel moderate) come back as they
// were instead of being refused one by one — and indexes are built after
// the data, which is faster, as mongorestore does. A unique index the
// restored data breaks fails the restore, naming the index.
//
// EnsureSchemaWith runs for the Lucid collections restored only
// (Ensure.Collections, when set, names others to set up too): restoring
// users does not create the registry's other collections; a service's
// EnsureSchema at start does. To give a scratch database the schema, pass
// the service's store derived for it, on the same client (no second
// Connect), and rename into it:
//
//	scratch, err := db.WithDatabase("scratch") // db: the service's *mongostore.DB
//	r := mongopart.Restorer{Lucid: scratch, Rename: map[string]string{"lucid": "scratch"}}
//
// In merge mode (no Drop) documents go into the collection as it is, an
// existing validator included.
type Restorer struct {
	// Client is the server to restore into. It may be nil when Lucid is
	// set (Lucid.Client is used); when both are set they must be the same
	// client (a DB from WithDatabase has its parent's).
	Client *mongo.Client
	// Lucid, when set, is the store whose registry governs the Lucid
	// collections of its database (see above).
	Lucid *mongostore.DB
	// Ensure is what Lucid.EnsureSchemaWith may change of what exists
	// (ReplaceConflicting) and, in Collections, which collections it sets
	// up (default: the Lucid collections restored).
	Ensure mongostore.EnsureOptions
	// Rename maps source namespaces to targets: a key "db" renames a
	// database ("lucid" → "scratch"), a key "db.coll" one collection
	// ("lucid.users" → "scratch.people", or "scratch" to keep the
	// collection's name); the collection's key wins.
	Rename map[string]string
	// Drop drops each target collection before restoring it. Without it
	// documents are merged into what is there: those a unique index
	// refuses (their _id, or another unique key, exists already) are left
	// out and counted in Result.Duplicates, as mongorestore goes on past
	// duplicate keys.
	// Collections the restore does not select are never touched.
	Drop bool
	// NoIndexes skips creating the archive's indexes (the registry's
	// indexes of Lucid collections are still created: they are the
	// schema).
	NoIndexes bool
	// Include, when not empty, restores only the source namespaces it
	// names ("db" or "db.coll"); the others are read and skipped. An entry
	// that matches nothing in the archive or dump is ErrNotFound, before
	// anything is written.
	Include []string
	// Exclude names source namespaces ("db" or "db.coll") not to restore,
	// even when Include selects them.
	Exclude []string
	// BatchDocs and BatchBytes bound one InsertMany (defaults
	// DefaultBatchDocs, DefaultBatchBytes).
	BatchDocs, BatchBytes int
	// Workers is how many InsertMany calls run at once while the archive
	// is read on (0: DefaultWorkers). Memory holds at most Workers+1
	// batches: Workers × BatchBytes in flight, one being filled. Inserts
	// are unordered, so batches of one collection may land in any order;
	// indexes are created once every document is in.
	Workers int
	// Result, when not nil, receives what was inserted.
	Result *Result
}

// Result is what a Restorer wrote.
type Result struct {
	Inserted   int64 // documents inserted
	Duplicates int64 // documents a unique index refused (merge mode): their _id or key existed
	Indexes    int   // indexes of the archive created (the registry's are in Schema)
	// Schema is Lucid.EnsureSchemaWith's report, when the restore held
	// Lucid collections.
	Schema mongostore.SchemaReport
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
	r, err := r.prepare()
	if err != nil {
		return backup.Stats{}, err
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
	var done []restored
	ins := newInserter(ctx, r.Workers, res)
	defer ins.wait()
	ictx := ins.ctx // cancelled when an insert fails: the read stops
	h := ArchiveHandler{
		Prelude: func(_ Header, colls []CollectionMetadata) error {
			nss := make([][2]string, 0, len(colls))
			for _, c := range colls {
				m, err := ParseMetadata([]byte(c.Metadata))
				if err != nil {
					return fmt.Errorf("%w: %s.%s: %v", errFormat, c.DB, c.Collection, err)
				}
				metas[c.DB+"."+c.Collection] = m
				nss = append(nss, [2]string{c.DB, c.Collection})
			}
			return r.checkIncluded(nss)
		},
		Doc: func(db, coll string, doc bson.Raw) error {
			if err := ictx.Err(); err != nil {
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
				if b, err = r.open(ictx, ins, db, coll, metas[ns]); err != nil {
					return err
				}
				batches[ns] = b
			}
			return b.add(doc)
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
				if b, err = r.open(ictx, ins, db, coll, metas[ns]); err != nil {
					return err
				}
			}
			delete(batches, ns)
			return b.finish(metas[ns].Indexes, &done)
		},
	}
	if err := ReadArchive(in, h); err != nil {
		if ierr := ins.wait(); ierr != nil {
			return st, ierr // the read stopped because an insert failed
		}
		return st, err
	}
	return st, r.complete(ctx, ins, done, res)
}

// prepare checks r's settings and resolves its client.
func (r Restorer) prepare() (Restorer, error) {
	if r.Lucid != nil {
		if r.Client != nil && r.Client != r.Lucid.Client() {
			return r, &backup.Error{Op: "restore", Kind: backup.ErrInvalid, Msg: "mongopart: Client and Lucid.Client differ"}
		}
		r.Client = r.Lucid.Client()
	}
	if r.Client == nil {
		return r, &backup.Error{Op: "restore", Kind: backup.ErrInvalid, Msg: "mongopart: no client"}
	}
	for _, list := range [][]string{r.Include, r.Exclude} {
		for _, ns := range list {
			if !validNamespace(ns) {
				return r, &backup.Error{Op: "restore", Kind: backup.ErrInvalid, Msg: fmt.Sprintf("mongopart: bad namespace %q", ns)}
			}
		}
	}
	for from, to := range r.Rename {
		if !validNamespace(from) || !validNamespace(to) {
			return r, &backup.Error{Op: "restore", Kind: backup.ErrInvalid, Msg: fmt.Sprintf("mongopart: bad rename %q → %q", from, to)}
		}
	}
	return r, nil
}

// validNamespace accepts "db" and "db.coll" with a database name the
// server takes (collection names may hold dots).
func validNamespace(ns string) bool {
	db, coll, dot := strings.Cut(ns, ".")
	return db != "" && len(db) < 64 && !strings.ContainsAny(db, "/\\ \"$\x00") && (!dot || coll != "" && !strings.ContainsAny(coll, "$\x00"))
}

func (r Restorer) included(db, coll string) bool {
	match := func(list []string) bool {
		for _, ns := range list {
			if ns == db || ns == db+"."+coll {
				return true
			}
		}
		return false
	}
	return (len(r.Include) == 0 || match(r.Include)) && !match(r.Exclude)
}

// checkIncluded reports the Include entries none of nss matches.
func (r Restorer) checkIncluded(nss [][2]string) error {
	var missing []string
	for _, want := range r.Include {
		found := false
		for _, ns := range nss {
			if want == ns[0] || want == ns[0]+"."+ns[1] {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return &backup.Error{Op: "restore", Kind: backup.ErrNotFound, Msg: "mongopart: nothing to restore for " + strings.Join(missing, ", ")}
	}
	return nil
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

// lucidSpec returns the registry's spec of target tdb.tcoll when it is a
// Lucid collection (see Restorer).
func (r Restorer) lucidSpec(tdb, tcoll string) *mongostore.CollectionSpec {
	if r.Lucid == nil || tdb != r.Lucid.Database().Name() {
		return nil
	}
	spec, ok := r.Lucid.Schema().Collection(lucidkeys.Collection(tcoll))
	if !ok {
		return nil
	}
	return spec
}

// open prepares the target collection: dropped in Drop mode, created with
// the source's options when missing (less the validator of a Lucid
// collection, which the registry sets afterwards).
func (r Restorer) open(ctx context.Context, ins *inserter, db, coll string, m Metadata) (*batch, error) {
	tdb, tcoll := r.target(db, coll)
	d := r.Client.Database(tdb)
	c := d.Collection(tcoll)
	if r.Drop {
		if err := c.Drop(ctx); err != nil {
			return nil, fmt.Errorf("mongopart: drop %s.%s: %w", tdb, tcoll, err)
		}
	}
	spec := r.lucidSpec(tdb, tcoll)
	opts := without(m.Options, "uuid")
	if spec != nil {
		opts = without(opts, "validator", "validationLevel", "validationAction")
	}
	cmd := append(bson.D{{Key: "create", Value: tcoll}}, opts...)
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
	return &batch{ins: ins, coll: c, lucid: spec, maxDocs: maxDocs, maxBytes: maxBytes}, nil
}

// restored is a collection whose documents are all submitted; its
// indexes (and a Lucid collection's schema) are created once every insert
// is done.
type restored struct {
	coll    *mongo.Collection
	lucid   *mongostore.CollectionSpec // the registry's, for a Lucid collection
	indexes []bson.D                   // the archive's
}

// complete waits for the inserts, then creates the archive's indexes of
// the collections that are not Lucid ones and sets up the Lucid ones.
func (r Restorer) complete(ctx context.Context, ins *inserter, done []restored, res *Result) error {
	if err := ins.wait(); err != nil {
		return err
	}
	var lucid []restored
	for _, d := range done {
		if d.lucid != nil {
			lucid = append(lucid, d)
			continue
		}
		if r.NoIndexes {
			continue
		}
		n, err := createIndexes(ctx, d.coll, d.indexes)
		res.Indexes += n
		if err != nil {
			return err
		}
	}
	return r.ensure(ctx, lucid, res)
}

// ensure runs Lucid.EnsureSchemaWith once the restored Lucid collections
// hold their documents, then creates their archive indexes the registry
// does not cover.
func (r Restorer) ensure(ctx context.Context, lucid []restored, res *Result) error {
	if len(lucid) == 0 {
		return nil
	}
	// Only the collections restored: a selective restore of users sets
	// up users, not the registry's other 14 (unless Ensure names more).
	o := r.Ensure
	if len(o.Collections) == 0 {
		for _, l := range lucid {
			o.Collections = append(o.Collections, l.lucid.Name)
		}
	}
	rep, err := r.Lucid.EnsureSchemaWith(ctx, o)
	res.Schema.Items = append(res.Schema.Items, rep.Items...)
	if err != nil {
		return fmt.Errorf("mongopart: schema of %s: %w", r.Lucid.Database().Name(), err)
	}
	if r.NoIndexes {
		return nil
	}
	for _, l := range lucid {
		n, err := createIndexes(ctx, l.coll, notInRegistry(l.indexes, l.lucid))
		res.Indexes += n
		if err != nil {
			return err
		}
	}
	return nil
}

// notInRegistry returns the index specs whose key pattern spec does not
// list (a text index counts as listed when the registry has one: the
// server allows one per collection and lists it by _fts, not its fields).
func notInRegistry(specs []bson.D, spec *mongostore.CollectionSpec) []bson.D {
	var out []bson.D
	for _, s := range specs {
		var key any
		for _, e := range s {
			if e.Key == "key" {
				key = e.Value
			}
		}
		pattern := keyPattern(key)
		listed := false
		for _, ix := range spec.Indexes {
			if keyPattern(ix.Keys) == pattern || ix.Text() && strings.Contains(pattern, "_fts=") {
				listed = true
				break
			}
		}
		if !listed {
			out = append(out, s)
		}
	}
	return out
}

// keyPattern renders an index key document with numbers normalised (1,
// int64(1) and 1.0 are the same direction).
func keyPattern(key any) string {
	var d bson.D
	switch k := key.(type) {
	case bson.D:
		d = k
	case bson.Raw:
		if err := bson.Unmarshal(k, &d); err != nil {
			return ""
		}
	default:
		return fmt.Sprint(key)
	}
	var sb strings.Builder
	for _, e := range d {
		sb.WriteString(e.Key)
		sb.WriteByte('=')
		switch v := e.Value.(type) {
		case int32:
			sb.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 64))
		case int64:
			sb.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 64))
		case int:
			sb.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 64))
		case float64:
			sb.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		default:
			fmt.Fprintf(&sb, "%q", fmt.Sprint(v))
		}
		sb.WriteByte(',')
	}
	return sb.String()
}

// batch gathers one collection's documents for InsertMany.
type batch struct {
	ins               *inserter
	coll              *mongo.Collection
	lucid             *mongostore.CollectionSpec // the registry's, for a Lucid collection
	docs              []any
	bytes             int
	maxDocs, maxBytes int
}

func (b *batch) add(doc bson.Raw) error {
	if len(b.docs) > 0 && (len(b.docs) >= b.maxDocs || b.bytes+len(doc) > b.maxBytes) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if b.docs == nil {
		b.docs = make([]any, 0, min(b.maxDocs, 1024))
	}
	// The reader reuses its buffer: the batch keeps a copy.
	b.docs = append(b.docs, bson.Raw(append([]byte(nil), doc...)))
	b.bytes += len(doc)
	return nil
}

// flush hands the batch to the inserter, which owns it from then on.
func (b *batch) flush() error {
	if len(b.docs) == 0 {
		return nil
	}
	docs := b.docs
	b.docs, b.bytes = nil, 0
	return b.ins.submit(b.coll, docs)
}

// finish submits the collection's last batch and records it in done for
// its indexes.
func (b *batch) finish(indexes []bson.D, done *[]restored) error {
	if err := b.flush(); err != nil {
		return err
	}
	*done = append(*done, restored{coll: b.coll, lucid: b.lucid, indexes: indexes})
	return nil
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
