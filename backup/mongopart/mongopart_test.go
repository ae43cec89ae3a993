//go:build !lucidfuzz

package mongopart_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// tools returns the folder of mongodump/mongorestore, skipping (or failing
// under LUCID_REQUIRE_SERVERS=1) when LUCID_MONGO_TOOLS is unset.
func tools(t *testing.T) string {
	t.Helper()
	d := os.Getenv("LUCID_MONGO_TOOLS")
	if d == "" {
		if testenv.Required() {
			t.Fatal("LUCID_MONGO_TOOLS is unset and LUCID_REQUIRE_SERVERS=1: the mongo tools are needed")
		}
		t.Skip("LUCID_MONGO_TOOLS is unset")
	}
	return d
}

func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(tools(t), name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// dropLater drops database name when t ends.
func dropLater(t *testing.T, c *mongo.Client, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Database(name).Drop(ctx)
	})
}

// seed fills db with documents of the BSON types FerretDB stores, a large
// document and an empty collection, and indexes (unique, TTL, compound).
func seed(t *testing.T, db *mongo.Database) {
	ctx := ctxT(t)
	big := strings.Repeat("x", 15<<20)
	users := []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "email", Value: "a@lucid.test"}, {Key: "age", Value: int32(30)}, {Key: "n64", Value: int64(1) << 40},
			{Key: "f", Value: 2.5}, {Key: "ok", Value: true}, {Key: "nil", Value: nil}, {Key: "at", Value: bson.DateTime(1700000000123)}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "email", Value: "b@lucid.test"},
			{Key: "bin0", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 255}}},
			{Key: "bin4", Value: bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{7}, 16)}},
			{Key: "bin80", Value: bson.Binary{Subtype: 0x80, Data: []byte("user")}},
			{Key: "re", Value: bson.Regex{Pattern: "^a.*z$", Options: "i"}},
			{Key: "ts", Value: bson.Timestamp{T: 1700000000, I: 7}},
			// FerretDB v1 refuses arrays directly inside arrays ("nested
			// arrays are not supported"): arrays nest through documents here,
			// directly in the format tests.
			{Key: "nested", Value: bson.A{bson.D{{Key: "a", Value: bson.A{1, 2, bson.D{{Key: "b", Value: bson.A{"deep", bson.D{{Key: "k", Value: "v"}}}}}}}}, bson.D{}}},
			{Key: "sub", Value: bson.D{{Key: "z", Value: 1}, {Key: "a", Value: bson.D{{Key: "b", Value: "c"}}}}}},
		bson.D{{Key: "_id", Value: "big"}, {Key: "email", Value: "big@lucid.test"}, {Key: "blob", Value: big}},
	}
	if _, err := db.Collection("users").InsertMany(ctx, users); err != nil {
		t.Fatal(err)
	}
	var events []any
	for i := range 2500 {
		events = append(events, bson.D{{Key: "_id", Value: i}, {Key: "kind", Value: "login"}, {Key: "created_at", Value: bson.DateTime(1700000000000 + int64(i))}})
	}
	if _, err := db.Collection("events").InsertMany(ctx, events); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("users").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("users_email_unique")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("events").Indexes().CreateMany(ctx, []mongo.IndexModel{
		// FerretDB v1 has no TTL indexes (expireAfterSeconds is NotImplemented).
		{Keys: bson.D{{Key: "created_at", Value: 1}}, Options: options.Index().SetSparse(true)},
		{Keys: bson.D{{Key: "kind", Value: 1}, {Key: "created_at", Value: -1}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
}

// docs returns every document of db.coll, by _id, as raw BSON.
func docs(t *testing.T, c *mongo.Collection) []bson.Raw {
	t.Helper()
	ctx := ctxT(t)
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameDocs compares two databases' collections document by document.
func sameDocs(t *testing.T, want, got *mongo.Database, colls ...string) {
	t.Helper()
	for _, c := range colls {
		w, g := docs(t, want.Collection(c)), docs(t, got.Collection(c))
		if len(w) != len(g) {
			t.Fatalf("%s: %d documents restored, %d in the source", c, len(g), len(w))
		}
		for i := range w {
			if !bytes.Equal(w[i], g[i]) {
				t.Fatalf("%s: document %d differs:\n got %.300s\nwant %.300s", c, i, g[i].String(), w[i].String())
			}
		}
	}
}

// indexNames lists a collection's index names and their expireAfterSeconds.
func indexNames(t *testing.T, c *mongo.Collection) map[string]any {
	t.Helper()
	ctx := ctxT(t)
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var specs []bson.M
	if err := cur.All(ctx, &specs); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for _, s := range specs {
		out[s["name"].(string)] = [2]any{s["unique"], s["expireAfterSeconds"]}
	}
	return out
}

func newManager(t *testing.T, comp backup.Compression) *backup.Manager {
	m, err := backup.NewLocal(t.TempDir(), backup.Config{Compression: comp, Plaintext: true, Checkers: mongopart.Checkers()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPartRoundTripAndMongorestore(t *testing.T) {
	ctx := ctxT(t)
	src := testenv.Mongo(t)
	c := src.Client()
	seed(t, src)
	m := newManager(t, backup.Gzip)
	man, err := m.Backup(ctx, []backup.Part{{Name: "mongodb", Source: mongopart.Source{Client: c, Namespaces: []string{src.Name()}, BatchSize: 100}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := man.Parts[0]
	ns := src.Name() + "."
	if p.Kind != "mongodb" || p.Format != "archive" || p.Records != 2503 || p.Counts[ns+"users"] != 3 || p.Counts[ns+"events"] != 2500 || p.Counts[ns+"empty"] != 0 || len(p.Counts) != 3 {
		t.Fatalf("part %+v", p)
	}
	rep, err := m.Verify(ctx, man.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Parts[0].Parsed || rep.Parts[0].Stats.Records != 2503 {
		t.Fatalf("verify %+v", rep.Parts[0])
	}

	t.Run("mongorestore", func(t *testing.T) {
		scratch := testenv.Namespace(t)
		dropLater(t, c, scratch)
		file := filepath.Join(m.Sink().(*backup.LocalSink).Dir(), man.ID, p.Object)
		runTool(t, "mongorestore", "--uri", testenv.MongoURI(t), "--archive="+file, "--gzip", "--noIndexRestore",
			"--nsFrom", src.Name()+".*", "--nsTo", scratch+".*")
		sameDocs(t, src, c.Database(scratch), "users", "events", "empty")
	})

	t.Run("sdk", func(t *testing.T) {
		scratch := testenv.Namespace(t)
		dropLater(t, c, scratch)
		var res mongopart.Result
		r := mongopart.Restorer{Client: c, Rename: map[string]string{src.Name(): scratch}, BatchDocs: 700, Result: &res}
		st, err := m.Restore(ctx, man.ID, "mongodb", r)
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != 2503 || res.Inserted != 2503 || res.Duplicates != 0 || res.Indexes != 3 {
			t.Fatalf("stats %+v result %+v", st, res)
		}
		dst := c.Database(scratch)
		sameDocs(t, src, dst, "users", "events", "empty")
		for _, coll := range []string{"users", "events"} {
			w, g := indexNames(t, src.Collection(coll)), indexNames(t, dst.Collection(coll))
			if len(w) != len(g) {
				t.Fatalf("%s indexes %v, want %v", coll, g, w)
			}
			for k, v := range w {
				if g[k] != v {
					t.Fatalf("%s index %s: %v, want %v", coll, k, g[k], v)
				}
			}
		}
		// Merge: every document exists, so all are duplicates and the
		// data stays as it is.
		res = mongopart.Result{}
		if _, err := m.Restore(ctx, man.ID, "mongodb", r); err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 0 || res.Duplicates != 2503 {
			t.Fatalf("merge %+v", res)
		}
		// Drop: a changed document comes back as it was.
		if _, err := dst.Collection("users").UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "age", Value: 99}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Collection("extra").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			t.Fatal(err)
		}
		r.Drop = true
		res = mongopart.Result{}
		if _, err := m.Restore(ctx, man.ID, "mongodb", r); err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 2503 {
			t.Fatalf("drop %+v", res)
		}
		sameDocs(t, src, dst, "users", "events", "empty")
		if n, _ := dst.Collection("extra").CountDocuments(ctx, bson.D{}); n != 1 {
			t.Fatalf("a collection the part does not hold was touched: %d", n)
		}
	})

	t.Run("rename-one-collection", func(t *testing.T) {
		scratch := testenv.Namespace(t)
		dropLater(t, c, scratch)
		r := mongopart.Restorer{Client: c, Include: []string{ns + "users"}, Rename: map[string]string{ns + "users": scratch + ".people"}}
		if _, err := m.Restore(ctx, man.ID, "mongodb", r); err != nil {
			t.Fatal(err)
		}
		w, g := docs(t, src.Collection("users")), docs(t, c.Database(scratch).Collection("people"))
		if len(w) != len(g) || !bytes.Equal(w[0], g[0]) {
			t.Fatalf("people: %d docs", len(g))
		}
		names, _ := c.Database(scratch).ListCollectionNames(ctx, bson.D{})
		if len(names) != 1 {
			t.Fatalf("collections %v", names)
		}
	})
}

func TestRestoreMongodumpArchive(t *testing.T) {
	src := testenv.Mongo(t)
	c := src.Client()
	seed(t, src)
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			ctx := ctxT(t)
			file := filepath.Join(t.TempDir(), "dump.archive")
			args := []string{"--uri", testenv.MongoURI(t), "--db", src.Name(), "--archive=" + file}
			if gz {
				args = append(args, "--gzip")
			}
			runTool(t, "mongodump", args...)
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := mongopart.CheckArchive(ctx, f)
			if err != nil || st.Records != 2503 {
				t.Fatalf("check %+v %v", st, err)
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			scratch := testenv.Namespace(t)
			dropLater(t, c, scratch)
			var res mongopart.Result
			st, err = mongopart.Restorer{Client: c, Rename: map[string]string{src.Name(): scratch}, Result: &res}.RestoreArchive(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != 2503 || res.Inserted != 2503 || res.Indexes != 3 {
				t.Fatalf("stats %+v result %+v", st, res)
			}
			sameDocs(t, src, c.Database(scratch), "users", "events", "empty")
		})
	}
}

// stopAfter stops the server once n bytes of the part were written.
type stopAfter struct {
	inner mongopart.Source
	n     int
	stop  func()
}

func (s stopAfter) Describe() backup.SourceInfo { return s.inner.Describe() }

func (s stopAfter) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	return s.inner.Stream(ctx, &stopWriter{w: w, n: s.n, stop: s.stop})
}

type stopWriter struct {
	w    io.Writer
	n    int
	stop func()
}

func (s *stopWriter) Write(p []byte) (int, error) {
	s.n -= len(p)
	if s.n < 0 && s.stop != nil {
		s.stop()
		s.stop = nil
	}
	return s.w.Write(p)
}

func TestServerStoppedMidBackup(t *testing.T) {
	ctx := ctxT(t)
	srv := testenv.StartMongo(t)
	c := testenv.MongoClient(t, srv.URI())
	db := c.Database("lucid")
	var docs []any
	for i := range 3000 {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "pad", Value: strings.Repeat("p", 100)}})
	}
	if _, err := db.Collection("events").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, backup.Zstd)
	src := stopAfter{inner: mongopart.Source{Client: c, Namespaces: []string{"lucid"}, BatchSize: 50}, n: 20 << 10, stop: srv.Stop}
	_, err := m.Backup(ctx, []backup.Part{{Name: "mongodb", Source: src}}, nil)
	if err == nil {
		t.Fatal("backup succeeded with the server stopped")
	}
	list, lerr := m.List(ctx)
	if lerr != nil || len(list) != 0 {
		t.Fatalf("listed %v %v", list, lerr)
	}
	if inc, _ := m.Incomplete(ctx); len(inc) != 0 {
		t.Fatalf("left behind %v", inc)
	}
	var be *backup.Error
	if !errors.As(err, &be) || be.Part != "mongodb" {
		t.Fatalf("error %v", err)
	}
}

func TestRestoreMongodumpDir(t *testing.T) {
	src := testenv.Mongo(t)
	c := src.Client()
	seed(t, src)
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			ctx := ctxT(t)
			dir := filepath.Join(t.TempDir(), "mongodb_backup_20260102_030405")
			args := []string{"--uri", testenv.MongoURI(t), "--db", src.Name(), "--out", dir}
			if gz {
				args = append(args, "--gzip")
			}
			runTool(t, "mongodump", args...)
			scratch := testenv.Namespace(t)
			dropLater(t, c, scratch)
			var res mongopart.Result
			st, err := mongopart.Restorer{Client: c, Rename: map[string]string{src.Name(): scratch}, Result: &res, BatchBytes: 1 << 20}.RestoreDumpDir(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != 2503 || res.Inserted != 2503 || res.Indexes != 3 || st.Counts[src.Name()+".empty"] != 0 || len(st.Counts) != 3 {
				t.Fatalf("stats %+v result %+v", st, res)
			}
			sameDocs(t, src, c.Database(scratch), "users", "events", "empty")
			if n := len(indexNames(t, c.Database(scratch).Collection("events"))); n != 3 {
				t.Fatalf("events has %d indexes", n)
			}
		})
	}
	if _, err := (mongopart.Restorer{Client: c}).RestoreDumpDir(ctxT(t), t.TempDir()); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("empty directory: %v", err)
	}
}

// The package doc's recipe: an age-encrypted zstd part restores with
// `age -d -i key.txt part | zstd -d | mongorestore --archive`.
func TestAgeZstdMongorestoreRecipe(t *testing.T) {
	mr := filepath.Join(tools(t), "mongorestore")
	for _, tool := range []string{"age", "zstd", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testenv.Required() {
				t.Fatalf("%s not installed (LUCID_REQUIRE_SERVERS=1)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	ctx := ctxT(t)
	src := testenv.Mongo(t)
	c := src.Client()
	seed(t, src)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := backup.NewLocal(dir, backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}, Checkers: mongopart.Checkers()})
	if err != nil {
		t.Fatal(err)
	}
	man, err := m.Backup(ctx, []backup.Part{mongopart.Part("mongodb", c, src.Name()+".users", src.Name()+".events")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(ctx, man.ID); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(key, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	scratch := testenv.Namespace(t)
	dropLater(t, c, scratch)
	obj := filepath.Join(dir, man.ID, man.Parts[0].Object)
	cmd := exec.Command("sh", "-c", `age -d -i "$1" "$2" | zstd -q -d | "$3" --uri "$4" --archive --noIndexRestore --nsFrom "$5.*" --nsTo "$6.*"`,
		"sh", key, obj, mr, testenv.MongoURI(t), src.Name(), scratch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sameDocs(t, src, c.Database(scratch), "users", "events")
	if names, _ := c.Database(scratch).ListCollectionNames(ctx, bson.D{}); len(names) != 2 {
		t.Fatalf("collections %v (empty was not selected)", names)
	}
}
