//go:build !lucidfuzz

package mongostore_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestEmptyFilterRefused: a nil or empty filter never means "every
// document": every call taking a filter refuses it with ErrInvalid before
// the server sees it, and All is the one way to say "all". On the old code
// UpdateMany(ctx, users, nil, $set) set the field on every user.
func TestEmptyFilterRefused(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	users := lucidkeys.CollUsers
	for i := 1; i <= 3; i++ {
		if _, err := db.InsertOne(ctx, users, goodDocs(i)[users]); err != nil {
			t.Fatal(err)
		}
	}
	ignoredBuild, _ := mongostore.NewFilter().Eq("$where", "1").Build() // error ignored: nil bson.D
	failing := mongostore.NewFilter().Eq("email", bson.D{{Key: "$ne", Value: ""}})
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "suspended"}}}}
	empties := map[string]any{
		"nil": nil, "bson.D{}": bson.D{}, "bson.M{}": bson.M{}, "map{}": map[string]any{},
		"nil bson.D": bson.D(nil), "nil bson.M": bson.M(nil), "ignored Build error": ignoredBuild,
		"empty struct": struct{}{}, "omitempty struct": struct {
			Email string `bson:"email,omitempty"`
		}{},
	}
	empties["empty bson.Raw"] = mustRaw(t, bson.D{})
	coll, err := mongostore.NewCollection[bson.M](db, users)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(f any) error{
		"UpdateOne":  func(f any) error { _, err := db.UpdateOne(ctx, users, f, set); return err },
		"UpdateMany": func(f any) error { _, err := db.UpdateMany(ctx, users, f, set); return err },
		"Upsert":     func(f any) error { _, err := db.Upsert(ctx, users, f, set); return err },
		"ReplaceOne": func(f any) error { _, err := db.ReplaceOne(ctx, users, f, goodDocs(9)[users]); return err },
		"DeleteOne":  func(f any) error { _, err := db.DeleteOne(ctx, users, f); return err },
		"DeleteMany": func(f any) error { _, err := db.DeleteMany(ctx, users, f); return err },
		"FindOne":    func(f any) error { var out bson.M; return db.FindOne(ctx, users, f, &out, nil) },
		"Find":       func(f any) error { var out []bson.M; return db.Find(ctx, users, f, &out, nil) },
		"Count":      func(f any) error { _, err := db.Count(ctx, users, f); return err },
		"Stream": func(f any) error {
			for _, err := range db.Stream(ctx, users, f, nil) {
				return err
			}
			return nil
		},
		"Collection.All": func(f any) error {
			for _, err := range coll.All(ctx, f, nil) {
				return err
			}
			return nil
		},
		"BulkWrite/update": func(f any) error {
			_, err := db.BulkWrite(ctx, users, []mongostore.WriteOp{mongostore.UpdateManyOp(f, set)}, true)
			return err
		},
		"BulkWrite/delete": func(f any) error {
			_, err := db.BulkWrite(ctx, users, []mongostore.WriteOp{mongostore.DeleteManyOp(f)}, true)
			return err
		},
	}
	for name, call := range calls {
		for ename, f := range empties {
			if err := call(f); !errors.Is(err, mongostore.ErrInvalid) {
				t.Errorf("%s(%s filter) = %v, want ErrInvalid", name, ename, err)
			}
		}
		if err := call(failing); !errors.Is(err, mongostore.ErrInjection) {
			t.Errorf("%s(*Filter with an error) = %v, want its ErrInjection", name, err)
		}
	}
	if n, err := db.Count(ctx, users, bson.D{{Key: "status", Value: "suspended"}}); err != nil || n != 0 {
		t.Fatalf("after the refused calls %d users are suspended (%v): an empty filter reached the server", n, err)
	}
	if n, err := db.Count(ctx, users, mongostore.All); err != nil || n != 3 {
		t.Fatalf("Count(All) = %d, %v; want 3", n, err)
	}
	// All is explicit and works everywhere; a *Filter is taken as built.
	if r, err := db.UpdateMany(ctx, users, mongostore.All, set); err != nil || r.Matched != 3 {
		t.Fatalf("UpdateMany(All) = %+v, %v", r, err)
	}
	if n, err := db.Count(ctx, users, mongostore.NewFilter().Eq("status", "suspended")); err != nil || n != 3 {
		t.Fatalf("Count(*Filter) = %d, %v", n, err)
	}
	var all []bson.M
	if err := db.Find(ctx, users, mongostore.All, &all, nil); err != nil || len(all) != 3 {
		t.Fatalf("Find(All) = %d, %v", len(all), err)
	}
	if n, err := db.DeleteMany(ctx, users, mongostore.All); err != nil || n != 3 {
		t.Fatalf("DeleteMany(All) = %d, %v", n, err)
	}
}

func mustRaw(t *testing.T, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLimits: documents over 16 MiB, an empty collection name and a nil
// Store are ErrInvalid before anything is sent. On the old code FerretDB
// stored the 17 MiB document, InsertOne(ctx, "", doc) was the server's raw
// InvalidNamespace and NewCollection(nil, ...) panicked on first use.
func TestLimits(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	big := bytes.Repeat([]byte{'x'}, 17<<20)
	bigDoc := bson.D{{Key: "_id", Value: "big"}, {Key: "blob", Value: big}}
	if _, err := db.InsertOne(ctx, "things", bigDoc); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("InsertOne 17 MiB = %v, want ErrInvalid", err)
	}
	if _, err := db.InsertMany(ctx, "things", []any{bson.D{{Key: "_id", Value: "s"}}, bigDoc}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("InsertMany with 17 MiB = %v, want ErrInvalid", err)
	}
	if _, err := db.InsertOne(ctx, "things", bson.D{{Key: "_id", Value: "small"}}); err != nil {
		t.Fatal(err)
	}
	small := bson.D{{Key: "_id", Value: "small"}}
	if _, err := db.ReplaceOne(ctx, "things", small, bson.D{{Key: "blob", Value: big}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("ReplaceOne 17 MiB = %v, want ErrInvalid", err)
	}
	if _, err := db.UpdateOne(ctx, "things", small, bson.D{{Key: "$set", Value: bson.D{{Key: "blob", Value: big}}}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("UpdateOne $set 17 MiB = %v, want ErrInvalid", err)
	}
	if _, err := db.BulkWrite(ctx, "things", []mongostore.WriteOp{mongostore.InsertOp(bigDoc)}, true); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("BulkWrite insert 17 MiB = %v, want ErrInvalid", err)
	}
	if n, err := db.Count(ctx, "things", mongostore.All); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want only the small document", n, err)
	}
	// Just under the limit is stored.
	under := bson.D{{Key: "_id", Value: "under"}, {Key: "blob", Value: bytes.Repeat([]byte{'y'}, 15<<20)}}
	if _, err := db.InsertOne(ctx, "things", under); err != nil {
		t.Errorf("InsertOne 15 MiB = %v", err)
	}

	for _, name := range []lucidkeys.Collection{"", "a\x00b", "a$b"} {
		if _, err := db.InsertOne(ctx, name, bson.D{{Key: "a", Value: 1}}); !errors.Is(err, mongostore.ErrInvalid) {
			t.Errorf("InsertOne(%q) = %v, want ErrInvalid", name, err)
		}
		if _, err := db.Count(ctx, name, mongostore.All); !errors.Is(err, mongostore.ErrInvalid) {
			t.Errorf("Count(%q) = %v, want ErrInvalid", name, err)
		}
		if _, err := mongostore.NewCollection[bson.M](db, name); !errors.Is(err, mongostore.ErrInvalid) {
			t.Errorf("NewCollection(%q) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := mongostore.NewCollection[bson.M](nil, "users"); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("NewCollection(nil) = %v, want ErrInvalid", err)
	}
	var nilDB *mongostore.DB
	if _, err := mongostore.NewCollection[bson.M](nilDB, "users"); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("NewCollection((*DB)(nil)) = %v, want ErrInvalid", err)
	}
}
