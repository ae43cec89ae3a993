package mongopart

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/HamiGames/lucid-data/backup"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Kind is the part kind this package writes ("mongodb"), the key of its
// Checker in backup.Config.Checkers.
const Kind = "mongodb"

// Format and FormatVersion describe the part: a mongodump archive.
const (
	Format        = "archive"
	FormatVersion = 1
)

// MetaNamespaces is the Meta key listing the namespaces a part was taken
// from, comma-separated, as Source.Namespaces named them.
const MetaNamespaces = "namespaces"

// ToolVersion is the prelude's tool_version this package writes.
const ToolVersion = "lucid-data/backup/mongopart"

// Source is a set of databases and collections of one server as a part in
// the mongodump archive format.
type Source struct {
	// Client is the server to read (mongostore's DB.Client, or any
	// driver client).
	Client *mongo.Client
	// Namespaces names what to back up: "db" for every collection of a
	// database (views and system collections left out), "db.coll" for
	// one collection. At least one.
	Namespaces []string
	// BatchSize is the cursor batch size (0: the server's default).
	BatchSize int32
}

var (
	_ backup.Source   = Source{}
	_ backup.Restorer = Restorer{}
	_ backup.Checker  = Checker{}
)

// Part returns a backup.Part named name for namespaces of c (see
// Source.Namespaces).
func Part(name string, c *mongo.Client, namespaces ...string) backup.Part {
	return backup.Part{Name: name, Source: Source{Client: c, Namespaces: namespaces}}
}

// Checkers returns the Config.Checkers entry of this kind, to merge with
// others' (or use as is).
func Checkers() map[string]backup.Checker { return map[string]backup.Checker{Kind: Checker{}} }

// Describe implements backup.Source.
func (s Source) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: Kind, Format: Format, FormatVersion: FormatVersion, Source: "MongoDB",
		Meta: map[string]string{MetaNamespaces: strings.Join(s.Namespaces, ",")}}
}

// collection is one namespace to dump.
type collection struct {
	db, name string
	meta     CollectionMetadata
}

// Stream implements backup.Source: the prelude holds every selected
// collection's options and indexes, read before the first document; then
// each collection's documents follow in natural order, copied from the
// cursor's batches as raw BSON without decoding. Stats count documents,
// by "db.coll" in Counts.
func (s Source) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	if s.Client == nil || len(s.Namespaces) == 0 {
		return backup.Stats{}, &backup.Error{Op: "mongodb part", Kind: backup.ErrInvalid, Msg: "no client or no namespaces"}
	}
	colls, err := s.resolve(ctx)
	if err != nil {
		return backup.Stats{}, err
	}
	hdr := Header{ConcurrentCollections: 1, Version: ArchiveVersion, ToolVersion: ToolVersion}
	var info bson.M
	if err := s.Client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return backup.Stats{}, fmt.Errorf("mongopart: buildInfo: %w", err)
	}
	hdr.ServerVersion, _ = info["version"].(string)
	metas := make([]CollectionMetadata, len(colls))
	for i, c := range colls {
		metas[i] = c.meta
	}
	aw, err := newArchiveWriter(w, hdr, metas)
	if err != nil {
		return backup.Stats{}, err
	}
	st := backup.Stats{Counts: make(map[string]int64, len(colls))}
	for _, c := range colls {
		n, err := s.dump(ctx, aw, c)
		if err != nil {
			return backup.Stats{}, fmt.Errorf("mongopart: %s.%s: %w", c.db, c.name, err)
		}
		st.Records += n
		st.Counts[c.db+"."+c.name] = n
	}
	return st, nil
}

func (s Source) dump(ctx context.Context, aw *archiveWriter, c collection) (int64, error) {
	opts := options.Find()
	if s.BatchSize > 0 {
		opts.SetBatchSize(s.BatchSize)
	}
	cur, err := s.Client.Database(c.db).Collection(c.name).Find(ctx, bson.D{}, opts)
	if err != nil {
		return 0, err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	if err := aw.begin(c.db, c.name); err != nil {
		return 0, err
	}
	var n int64
	for cur.Next(ctx) {
		if err := aw.write(cur.Current); err != nil {
			return n, err
		}
		n++
	}
	if err := cur.Err(); err != nil {
		return n, err
	}
	return n, aw.end(c.db, c.name)
}

// resolve lists the selected collections with their options and indexes.
func (s Source) resolve(ctx context.Context) ([]collection, error) {
	want := map[string][]string{} // db → collections (nil: all)
	var dbs []string
	for _, ns := range s.Namespaces {
		db, coll, _ := strings.Cut(ns, ".")
		if db == "" || strings.ContainsAny(db, "/\\. \"$") {
			return nil, &backup.Error{Op: "mongodb part", Kind: backup.ErrInvalid, Msg: "bad namespace " + ns}
		}
		cur, seen := want[db]
		if !seen {
			dbs = append(dbs, db)
		}
		switch {
		case coll == "":
			want[db] = nil
		case seen && cur == nil:
		default:
			want[db] = append(cur, coll)
		}
	}
	var out []collection
	for _, db := range dbs {
		specs, err := s.Client.Database(db).ListCollectionSpecifications(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("mongopart: list collections of %s: %w", db, err)
		}
		slices.SortFunc(specs, func(a, b mongo.CollectionSpecification) int { return strings.Compare(a.Name, b.Name) })
		for _, sp := range specs {
			if sp.Type != "" && sp.Type != "collection" {
				continue
			}
			if names := want[db]; names != nil && !slices.Contains(names, sp.Name) {
				continue
			}
			if names := want[db]; names == nil && strings.HasPrefix(sp.Name, "system.") {
				continue
			}
			c, err := s.describe(ctx, db, sp)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func (s Source) describe(ctx context.Context, db string, sp mongo.CollectionSpecification) (collection, error) {
	m := Metadata{Name: sp.Name, Type: "collection"}
	if sp.UUID != nil {
		m.UUID = fmt.Sprintf("%x", sp.UUID.Data)
	}
	if len(sp.Options) > 0 {
		if err := bson.Unmarshal(sp.Options, &m.Options); err != nil {
			return collection{}, fmt.Errorf("mongopart: %s.%s options: %w", db, sp.Name, err)
		}
	}
	cur, err := s.Client.Database(db).Collection(sp.Name).Indexes().List(ctx)
	if err != nil {
		return collection{}, fmt.Errorf("mongopart: %s.%s indexes: %w", db, sp.Name, err)
	}
	var idx []bson.D
	if err := cur.All(ctx, &idx); err != nil {
		return collection{}, fmt.Errorf("mongopart: %s.%s indexes: %w", db, sp.Name, err)
	}
	for _, d := range idx {
		m.Indexes = append(m.Indexes, without(d, "ns"))
	}
	js, err := MarshalMetadata(m)
	if err != nil {
		return collection{}, err
	}
	return collection{db: db, name: sp.Name, meta: CollectionMetadata{DB: db, Collection: sp.Name, Metadata: js, Type: "collection"}}, nil
}

// without returns d without the keys named.
func without(d bson.D, keys ...string) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		if !slices.Contains(keys, e.Key) {
			out = append(out, e)
		}
	}
	return out
}
