//go:build !lucidfuzz

package mongopart_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// lucidStore connects a mongostore.DB to a fresh database of the test
// server, dropped and closed when t ends.
func lucidStore(t *testing.T) *mongostore.DB {
	t.Helper()
	ctx := ctxT(t)
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(t), Database: testenv.Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Database().Drop(ctx)
		_ = db.Close(ctx)
	})
	return db
}

// seedLucid fills db as a Lucid deployment set up by Lucid's own scripts
// looks: users with email_1 (unique, Lucid's name), an index an operator
// added (users_nick), sessions, and a collection the registry does not
// know (custom, with an index).
func seedLucid(t *testing.T, db *mongo.Database) {
	ctx := ctxT(t)
	var users, sessions, custom []any
	for i := range 60 {
		users = append(users, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "user_id", Value: fmt.Sprintf("user-%03d", i)},
			{Key: "email", Value: fmt.Sprintf("u%d@lucid.test", i)}, {Key: "nickname", Value: fmt.Sprintf("n%d", i%7)},
			{Key: "status", Value: "active"}, {Key: "created_at", Value: bson.DateTime(1700000000000 + int64(i))}})
		sessions = append(sessions, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "session_id", Value: fmt.Sprintf("s-%03d", i)},
			{Key: "user_id", Value: fmt.Sprintf("user-%03d", i%10)}, {Key: "status", Value: "completed"}})
		custom = append(custom, bson.D{{Key: "_id", Value: i}, {Key: "a", Value: i % 3}})
	}
	for name, docs := range map[string][]any{"users": users, "sessions": sessions, "custom": custom} {
		if _, err := db.Collection(name).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Collection("users").Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_1")},
		{Keys: bson.D{{Key: "nickname", Value: 1}}, Options: options.Index().SetName("users_nick")},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("custom").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetName("custom_a")}); err != nil {
		t.Fatal(err)
	}
}

func indexKeys(t *testing.T, c *mongo.Collection) []string {
	var out []string
	for name := range indexNames(t, c) {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// withValidator adds to users and custom the validator MongoDB would have
// listed in mongodump's metadata (FerretDB cannot hold one).
func withValidator(t *testing.T, arch []byte) []byte {
	t.Helper()
	out, err := mongopart.RewriteArchive(arch, func(_, coll string, m *mongopart.Metadata) {
		if coll == "users" || coll == "custom" {
			m.Options = append(m.Options,
				bson.E{Key: "validator", Value: bson.D{{Key: "$jsonSchema", Value: bson.D{{Key: "bsonType", Value: "object"}, {Key: "required", Value: bson.A{"legacy"}}}}}},
				bson.E{Key: "validationLevel", Value: "strict"}, bson.E{Key: "validationAction", Value: "error"})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestoreLucidCollections: Lucid collections restored into a Lucid
// store's database are set up by mongostore's registry, not the archive:
// the archive's validator is dropped (FerretDB refuses a validator at
// create, so the restore would fail if it were sent), the registry's
// indexes are created, the archive's index on registry keys (email_1) is
// not, the operator's extra index is; a collection the registry does not
// know keeps the archive's metadata.
func TestRestoreLucidCollections(t *testing.T) {
	ctx := ctxT(t)
	src := testenv.Mongo(t)
	c := src.Client()
	seedLucid(t, src)
	var buf bytes.Buffer
	if _, err := (mongopart.Source{Client: c, Namespaces: []string{src.Name()}}).Stream(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	arch := withValidator(t, buf.Bytes())

	t.Run("into-empty", func(t *testing.T) {
		store := lucidStore(t)
		dst := store.Database()
		var res mongopart.Result
		r := mongopart.Restorer{Lucid: store, Rename: map[string]string{src.Name(): dst.Name()}, Exclude: []string{src.Name() + ".custom"}, Result: &res}
		st, err := r.RestoreArchive(ctx, bytes.NewReader(arch))
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != 180 || res.Inserted != 120 {
			t.Fatalf("stats %+v result %+v", st, res)
		}
		sameDocs(t, src, dst, "users", "sessions")
		users := indexKeys(t, dst.Collection("users"))
		for _, want := range []string{"users_user_id_unique", "users_email_unique", "users_status_asc", "users_nick"} {
			if !slices.Contains(users, want) {
				t.Fatalf("users indexes %v lack %s", users, want)
			}
		}
		if slices.Contains(users, "email_1") {
			t.Fatalf("the archive's email_1 was created beside the registry's users_email_unique: %v", users)
		}
		if res.Indexes != 1 { // users_nick: the only archive index the registry does not cover
			t.Fatalf("archive indexes created %d, want 1", res.Indexes)
		}
		if res.Schema.Count(mongostore.ActionCreated) == 0 {
			t.Fatalf("schema report %+v", res.Schema)
		}
		// The restored collections now hold what a service's EnsureSchema
		// wants; the registry's others were not created by the restore.
		drift, err := store.SchemaDrift(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range drift.Items {
			restoredColl := it.Collection == "users" || it.Collection == "sessions"
			if restoredColl && (it.State == mongostore.DriftMissing || it.State == mongostore.DriftDifferent) {
				t.Fatalf("drift after restore: %+v", it)
			}
			if !restoredColl && it.Kind == mongostore.KindCollection && it.State != mongostore.DriftMissing {
				t.Fatalf("the restore set up %s, which it did not restore: %+v", it.Collection, it)
			}
		}
		if _, ok := drift.Find("users", mongostore.KindIndex, "users_nick"); !ok {
			t.Fatalf("users_nick not in the drift report as extra: %+v", drift)
		}
	})

	t.Run("into-scripted", func(t *testing.T) {
		// Merge into a database Lucid's scripts set up: email_1 is there and
		// the registry adopts it, so no second index on email appears.
		store := lucidStore(t)
		dst := store.Database()
		if _, err := dst.Collection("users").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_1")}); err != nil {
			t.Fatal(err)
		}
		var res mongopart.Result
		r := mongopart.Restorer{Client: store.Client(), Lucid: store, Rename: map[string]string{src.Name(): dst.Name()}, Include: []string{src.Name() + ".users"}, Result: &res}
		if _, err := r.RestoreArchive(ctx, bytes.NewReader(arch)); err != nil {
			t.Fatal(err)
		}
		sameDocs(t, src, dst, "users")
		users := indexKeys(t, dst.Collection("users"))
		if !slices.Contains(users, "email_1") || slices.Contains(users, "users_email_unique") {
			t.Fatalf("users indexes %v", users)
		}
		adopted := false
		for _, it := range res.Schema.Items {
			adopted = adopted || it.Name == "users_email_unique" && it.Action == mongostore.ActionAdopted && it.Existing == "email_1"
		}
		if !adopted {
			t.Fatalf("email_1 not adopted: %+v", res.Schema)
		}
	})

	t.Run("not-lucid", func(t *testing.T) {
		// Outside the store's database the archive's metadata is used as
		// it is: its validator goes to the server, which refuses it.
		store := lucidStore(t)
		scratch := testenv.Namespace(t)
		dropLater(t, c, scratch)
		r := mongopart.Restorer{Lucid: store, Rename: map[string]string{src.Name(): scratch}, Include: []string{src.Name() + ".users"}}
		_, err := r.RestoreArchive(ctx, bytes.NewReader(arch))
		if err == nil || !strings.Contains(err.Error(), "validator") {
			t.Fatalf("restore with the archive's validator on FerretDB: %v", err)
		}
		// And a collection the registry does not know, in the store's
		// database, keeps the archive's indexes.
		var res mongopart.Result
		r = mongopart.Restorer{Lucid: store, Rename: map[string]string{src.Name(): store.Database().Name()}, Include: []string{src.Name() + ".custom"}, Result: &res}
		if _, err := r.RestoreArchive(ctx, bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
		if got := indexKeys(t, store.Database().Collection("custom")); !slices.Equal(got, []string{"_id_", "custom_a"}) || len(res.Schema.Items) != 0 {
			t.Fatalf("custom indexes %v, schema %+v", got, res.Schema)
		}
	})

	t.Run("into-derived-scratch", func(t *testing.T) {
		// A scratch database reached through the store's own client
		// (WithDatabase, no second Connect) gets the registry: the
		// archive's validator, which FerretDB refuses, is not sent, and
		// the store's own database is left alone.
		store := lucidStore(t)
		name := testenv.Namespace(t)
		dropLater(t, c, name)
		scratch, err := store.WithDatabase(name)
		if err != nil {
			t.Fatal(err)
		}
		var res mongopart.Result
		r := mongopart.Restorer{Client: store.Client(), Lucid: scratch, Rename: map[string]string{src.Name(): name}, Include: []string{src.Name() + ".users"}, Drop: true, Result: &res}
		if _, err := r.RestoreArchive(ctx, bytes.NewReader(arch)); err != nil {
			t.Fatal(err)
		}
		dst := scratch.Database()
		sameDocs(t, src, dst, "users")
		users := indexKeys(t, dst.Collection("users"))
		if !slices.Contains(users, "users_email_unique") || !slices.Contains(users, "users_nick") || slices.Contains(users, "email_1") {
			t.Fatalf("scratch users indexes %v", users)
		}
		if res.Inserted != 60 || res.Schema.Count(mongostore.ActionCreated) == 0 {
			t.Fatalf("result %+v", res)
		}
		if names, err := store.Database().ListCollectionNames(ctx, bson.D{}); err != nil || len(names) != 0 {
			t.Fatalf("the store's database holds %v (%v)", names, err)
		}
		// Closing the derived DB leaves the store's client to the store.
		if err := scratch.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := store.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("client-mismatch", func(t *testing.T) {
		store := lucidStore(t)
		other := testenv.MongoClient(t, testenv.MongoURI(t))
		_, err := mongopart.Restorer{Client: other, Lucid: store}.RestoreArchive(ctx, bytes.NewReader(arch))
		if err == nil || !strings.Contains(err.Error(), "differ") {
			t.Fatalf("%v", err)
		}
	})
}
