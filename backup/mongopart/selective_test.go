//go:build !lucidfuzz

package mongopart_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestSelectiveRestore: chosen databases and collections of an archive
// holding two databases (and of a dump directory), restored into the
// original place or renamed, the rest untouched; a selection the archive
// does not hold fails before anything is written.
func TestSelectiveRestore(t *testing.T) {
	ctx := ctxT(t)
	a, b := testenv.Mongo(t), testenv.Mongo(t)
	c := a.Client()
	seedLucid(t, a)
	seedLucid(t, b)
	var buf bytes.Buffer
	if _, err := (mongopart.Source{Client: c, Namespaces: []string{a.Name(), b.Name() + ".users", b.Name() + ".custom"}}).Stream(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	arch := buf.Bytes()
	restore := func(t *testing.T, r mongopart.Restorer) (backup.Stats, error) {
		t.Helper()
		r.Client = c
		return r.RestoreArchive(ctx, bytes.NewReader(arch))
	}
	collections := func(t *testing.T, db string) []string {
		t.Helper()
		names, err := c.Database(db).ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		return names
	}

	t.Run("one-database-renamed", func(t *testing.T) {
		scratch := testenv.Namespace(t)
		dropLater(t, c, scratch)
		var res mongopart.Result
		st, err := restore(t, mongopart.Restorer{Include: []string{b.Name()}, Rename: map[string]string{b.Name(): scratch}, Result: &res})
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != 300 || res.Inserted != 120 {
			t.Fatalf("stats %+v result %+v", st, res)
		}
		sameDocs(t, b, c.Database(scratch), "users", "custom")
		if got := collections(t, scratch); !slices.Equal(got, []string{"custom", "users"}) {
			t.Fatalf("scratch holds %v", got)
		}
	})

	t.Run("collections-renamed-apart", func(t *testing.T) {
		s1, s2 := testenv.Namespace(t), testenv.Namespace(t)
		dropLater(t, c, s1)
		dropLater(t, c, s2)
		_, err := restore(t, mongopart.Restorer{
			Include: []string{a.Name() + ".users", a.Name() + ".sessions", b.Name() + ".users"},
			Exclude: []string{a.Name() + ".sessions"},
			Rename:  map[string]string{a.Name(): s1, b.Name() + ".users": s2 + ".people"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := collections(t, s1); !slices.Equal(got, []string{"users"}) {
			t.Fatalf("%s holds %v", s1, got)
		}
		if got := collections(t, s2); !slices.Equal(got, []string{"people"}) {
			t.Fatalf("%s holds %v", s2, got)
		}
		sameDocs(t, a, c.Database(s1), "users")
		w, g := docs(t, b.Collection("users")), docs(t, c.Database(s2).Collection("people"))
		if len(w) != len(g) || !bytes.Equal(w[0], g[0]) {
			t.Fatalf("people: %d documents, want %d", len(g), len(w))
		}
	})

	t.Run("original-place", func(t *testing.T) {
		// Both users and sessions change; only users is restored (Drop),
		// sessions stays as changed.
		if _, err := a.Collection("users").UpdateMany(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "changed"}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Collection("sessions").DeleteMany(ctx, bson.D{{Key: "status", Value: "completed"}}); err != nil {
			t.Fatal(err)
		}
		var res mongopart.Result
		if _, err := restore(t, mongopart.Restorer{Include: []string{a.Name() + ".users"}, Drop: true, Result: &res}); err != nil {
			t.Fatal(err)
		}
		got := docs(t, a.Collection("users"))
		if res.Inserted != 60 || len(got) != 60 {
			t.Fatalf("users: %d documents, %+v", len(got), res)
		}
		for _, d := range got {
			if d.Lookup("status").StringValue() != "active" {
				t.Fatalf("users not restored: %s", d)
			}
		}
		if n, _ := a.Collection("sessions").CountDocuments(ctx, bson.D{}); n != 0 {
			t.Fatalf("sessions, not selected, was restored: %d documents", n)
		}
		if names := indexNames(t, a.Collection("users")); len(names) != 3 {
			t.Fatalf("users indexes %v", names)
		}
	})

	t.Run("missing", func(t *testing.T) {
		scratch := testenv.Namespace(t)
		dropLater(t, c, scratch)
		_, err := restore(t, mongopart.Restorer{Include: []string{a.Name() + ".users", b.Name() + ".sessions", "nodb"}, Rename: map[string]string{a.Name(): scratch, b.Name(): scratch}})
		if !errors.Is(err, backup.ErrNotFound) {
			t.Fatalf("missing selection: %v", err)
		}
		for _, ns := range []string{b.Name() + ".sessions", "nodb"} {
			if !bytes.Contains([]byte(err.Error()), []byte(ns)) {
				t.Fatalf("error does not name %s: %v", ns, err)
			}
		}
		if got := collections(t, scratch); len(got) != 0 {
			t.Fatalf("written before the check: %v", got)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, r := range []mongopart.Restorer{
			{Include: []string{""}},
			{Include: []string{".users"}},
			{Exclude: []string{"a b.c"}},
			{Rename: map[string]string{"lucid": "scr$atch"}},
			{Rename: map[string]string{"lucid.users": "scratch."}},
		} {
			if _, err := restore(t, r); !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("%+v: %v", r, err)
			}
		}
	})

	t.Run("dump-dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "dump")
		runTool(t, "mongodump", "--uri", testenv.MongoURI(t), "--db", b.Name(), "--out", dir, "--gzip")
		if _, err := os.Stat(filepath.Join(dir, b.Name(), "users.bson.gz")); err != nil {
			t.Fatal(err)
		}
		scratch := testenv.Namespace(t)
		dropLater(t, c, scratch)
		r := mongopart.Restorer{Client: c, Include: []string{b.Name() + ".users", b.Name() + ".nothing"}, Rename: map[string]string{b.Name(): scratch}}
		if _, err := r.RestoreDumpDir(ctx, dir); !errors.Is(err, backup.ErrNotFound) {
			t.Fatalf("missing selection: %v", err)
		}
		if got := collections(t, scratch); len(got) != 0 {
			t.Fatalf("written before the check: %v", got)
		}
		r.Include = []string{b.Name()}
		r.Exclude = []string{b.Name() + ".sessions", b.Name() + ".custom"}
		st, err := r.RestoreDumpDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := collections(t, scratch); !slices.Equal(got, []string{"users"}) || st.Counts[b.Name()+".users"] != 60 {
			t.Fatalf("scratch holds %v, stats %+v", got, st)
		}
		sameDocs(t, b, c.Database(scratch), "users")
	})
}
