// Package storetest is a conformance suite for mongostore.Store
// implementations: what every Store must do, run against the real one on
// a test server and usable for any other (a wrapper adding metrics, a
// caching layer, a test double).
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) mongostore.Store {
//			return openMyStore(t) // a fresh, empty database each call
//		})
//	}
//
// The suite uses the collection "storetest_items" (no schema) and
// lucidkeys.CollUsers (Lucid's users schema, which a Store validates
// client-side). Each subtest asks for its own Store.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Items is the schema-less collection the suite writes.
const Items lucidkeys.Collection = "storetest_items"

// NewStore returns a Store on a fresh, empty database. The suite may
// Close it; the factory's own cleanup must tolerate that (Close is
// idempotent).
type NewStore func(t *testing.T) mongostore.Store

// Run runs the whole suite.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s mongostore.Store)
	}{
		{"InsertFind", testInsertFind},
		{"Stream", testStream},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"EmptyFilter", testEmptyFilter},
		{"Errors", testErrors},
		{"BulkWrite", testBulkWrite},
		{"Aggregate", testAggregate},
		{"Typed", testTyped},
		{"Context", testContext},
		{"Health", testHealth},
		{"Close", testClose},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func id(i int) bson.D { return bson.D{{Key: "_id", Value: int64(i)}} }

func seed(t *testing.T, s mongostore.Store, n int) {
	t.Helper()
	docs := make([]any, n)
	for i := range n {
		docs[i] = bson.D{{Key: "_id", Value: int64(i)}, {Key: "n", Value: int64(i)}, {Key: "even", Value: i%2 == 0}}
	}
	if _, err := s.InsertMany(ctxT(t), Items, docs); err != nil {
		t.Fatalf("InsertMany: %v", err)
	}
}

func count(t *testing.T, s mongostore.Store, f any) int64 {
	t.Helper()
	n, err := s.Count(ctxT(t), Items, f)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

func user(i int) bson.D {
	u := "u_" + string(rune('a'+i))
	return bson.D{{Key: "user_id", Value: u}, {Key: "email", Value: u + "@example.com"}, {Key: "username", Value: "name_" + u},
		{Key: "roles", Value: bson.A{"User"}}, {Key: "status", Value: "active"},
		{Key: "created_at", Value: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}, {Key: "updated_at", Value: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}}
}

func testInsertFind(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	got, err := s.InsertOne(ctx, Items, bson.D{{Key: "_id", Value: "one"}, {Key: "v", Value: "x"}})
	if err != nil || got != "one" {
		t.Fatalf("InsertOne = %v, %v", got, err)
	}
	var one bson.M
	if err := s.FindOne(ctx, Items, bson.D{{Key: "_id", Value: "one"}}, &one, nil); err != nil || one["v"] != "x" {
		t.Fatalf("FindOne = %v, %v", one, err)
	}
	err = s.FindOne(ctx, Items, bson.D{{Key: "_id", Value: "none"}}, &one, nil)
	if !errors.Is(err, mongostore.ErrNotFound) || errkind.Of(err) != errkind.NotFound {
		t.Errorf("FindOne of nothing = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteOne(ctx, Items, bson.D{{Key: "_id", Value: "one"}}); err != nil {
		t.Fatal(err)
	}
	seed(t, s, 10)
	var page []bson.M
	err = s.Find(ctx, Items, bson.D{{Key: "even", Value: true}}, &page, &mongostore.FindOptions{
		Sort: bson.D{{Key: "n", Value: -1}}, Skip: 1, Limit: 2, Projection: bson.D{{Key: "even", Value: 0}}})
	if err != nil || len(page) != 2 || page[0]["n"] != int64(6) || page[1]["n"] != int64(4) {
		t.Fatalf("Find page = %v, %v", page, err)
	}
	if _, ok := page[0]["even"]; ok {
		t.Errorf("projection ignored: %v", page[0])
	}
	if n := count(t, s, mongostore.All); n != 10 {
		t.Errorf("Count(All) = %d", n)
	}
	if n := count(t, s, bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 7}}}}); n != 3 {
		t.Errorf("Count(n >= 7) = %d", n)
	}
}

func testStream(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	seed(t, s, 50)
	var next int64
	for raw, err := range s.Stream(ctx, Items, mongostore.All, &mongostore.FindOptions{Sort: bson.D{{Key: "n", Value: 1}}, BatchSize: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		if v := raw.Lookup("n").Int64(); v != next {
			t.Fatalf("Stream yielded n=%d, want %d", v, next)
		}
		next++
	}
	if next != 50 {
		t.Errorf("Stream yielded %d documents, want 50", next)
	}
	got := 0
	for _, err := range s.Stream(ctx, Items, mongostore.All, &mongostore.FindOptions{BatchSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		if got++; got == 3 {
			break
		}
	}
	if got != 3 {
		t.Errorf("break after 3: got %d", got)
	}
}

func testUpdate(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	seed(t, s, 6)
	set := func(k string, v any) bson.D { return bson.D{{Key: "$set", Value: bson.D{{Key: k, Value: v}}}} }
	r, err := s.UpdateOne(ctx, Items, bson.D{{Key: "even", Value: true}}, set("tag", "a"))
	if err != nil || r.Matched != 1 || r.Modified != 1 {
		t.Fatalf("UpdateOne = %+v, %v", r, err)
	}
	r, err = s.UpdateMany(ctx, Items, bson.D{{Key: "even", Value: false}}, set("tag", "b"))
	if err != nil || r.Matched != 3 || r.Modified != 3 {
		t.Fatalf("UpdateMany = %+v, %v", r, err)
	}
	if n := count(t, s, bson.D{{Key: "tag", Value: "b"}}); n != 3 {
		t.Errorf("tagged b = %d", n)
	}
	r, err = s.Upsert(ctx, Items, bson.D{{Key: "_id", Value: int64(100)}}, set("tag", "c"))
	if err != nil || r.Upserted != 1 || r.UpsertedID != int64(100) {
		t.Fatalf("Upsert new = %+v, %v", r, err)
	}
	r, err = s.Upsert(ctx, Items, bson.D{{Key: "_id", Value: int64(100)}}, set("tag", "d"))
	if err != nil || r.Upserted != 0 || r.Matched != 1 {
		t.Fatalf("Upsert existing = %+v, %v", r, err)
	}
	r, err = s.ReplaceOne(ctx, Items, id(1), bson.D{{Key: "replaced", Value: true}})
	if err != nil || r.Matched != 1 {
		t.Fatalf("ReplaceOne = %+v, %v", r, err)
	}
	var got bson.M
	if err := s.FindOne(ctx, Items, id(1), &got, nil); err != nil || got["replaced"] != true || got["n"] != nil {
		t.Errorf("after ReplaceOne = %v, %v", got, err)
	}
	if _, err := s.UpdateOne(ctx, Items, id(2), bson.D{{Key: "tag", Value: "no operator"}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("UpdateOne without an operator = %v, want ErrInvalid", err)
	}
	if _, err := s.ReplaceOne(ctx, Items, id(2), set("tag", "x")); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("ReplaceOne with an operator = %v, want ErrInvalid", err)
	}
}

func testDelete(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	seed(t, s, 6)
	if n, err := s.DeleteOne(ctx, Items, bson.D{{Key: "even", Value: true}}); err != nil || n != 1 {
		t.Fatalf("DeleteOne = %d, %v", n, err)
	}
	if n, err := s.DeleteMany(ctx, Items, bson.D{{Key: "even", Value: false}}); err != nil || n != 3 {
		t.Fatalf("DeleteMany = %d, %v", n, err)
	}
	if n, err := s.DeleteMany(ctx, Items, mongostore.All); err != nil || n != 2 {
		t.Fatalf("DeleteMany(All) = %d, %v", n, err)
	}
}

func testEmptyFilter(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	seed(t, s, 4)
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "hit", Value: true}}}}
	ignored, _ := mongostore.NewFilter().Eq("$where", "1").Build()
	calls := map[string]func(f any) error{
		"UpdateOne":  func(f any) error { _, err := s.UpdateOne(ctx, Items, f, set); return err },
		"UpdateMany": func(f any) error { _, err := s.UpdateMany(ctx, Items, f, set); return err },
		"Upsert":     func(f any) error { _, err := s.Upsert(ctx, Items, f, set); return err },
		"ReplaceOne": func(f any) error {
			_, err := s.ReplaceOne(ctx, Items, f, bson.D{{Key: "hit", Value: true}})
			return err
		},
		"DeleteOne":  func(f any) error { _, err := s.DeleteOne(ctx, Items, f); return err },
		"DeleteMany": func(f any) error { _, err := s.DeleteMany(ctx, Items, f); return err },
		"FindOne":    func(f any) error { var v bson.M; return s.FindOne(ctx, Items, f, &v, nil) },
		"Find":       func(f any) error { var v []bson.M; return s.Find(ctx, Items, f, &v, nil) },
		"Count":      func(f any) error { _, err := s.Count(ctx, Items, f); return err },
		"Stream": func(f any) error {
			for _, err := range s.Stream(ctx, Items, f, nil) {
				return err
			}
			return nil
		},
		"BulkWrite": func(f any) error {
			_, err := s.BulkWrite(ctx, Items, []mongostore.WriteOp{mongostore.UpdateManyOp(f, set)}, true)
			return err
		},
	}
	for name, call := range calls {
		for fname, f := range map[string]any{"nil": nil, "bson.D{}": bson.D{}, "bson.M{}": bson.M{}, "ignored Build error": ignored} {
			if err := call(f); !errors.Is(err, mongostore.ErrInvalid) || errkind.Of(err) != errkind.InvalidArgument {
				t.Errorf("%s(%s) = %v, want ErrInvalid", name, fname, err)
			}
		}
	}
	if n := count(t, s, mongostore.All); n != 4 {
		t.Errorf("documents after refused calls = %d, want 4", n)
	}
	if n := count(t, s, bson.D{{Key: "hit", Value: true}}); n != 0 {
		t.Errorf("an empty filter reached the server: %d documents hit", n)
	}
}

func testErrors(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	users := lucidkeys.CollUsers
	if _, err := s.InsertOne(ctx, users, user(0)); err != nil {
		t.Fatalf("InsertOne valid user: %v", err)
	}
	bad := append(bson.D{}, user(1)...)
	bad[1].Value = "not-an-email"
	var ve *mongostore.ValidationError
	if _, err := s.InsertOne(ctx, users, bad); !errors.Is(err, mongostore.ErrValidation) || !errors.As(err, &ve) || ve.Field != "email" {
		t.Errorf("InsertOne bad email = %v, want a ValidationError on email", err)
	}
	if _, err := s.InsertOne(ctx, Items, bson.D{{Key: "_id", Value: "d"}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.InsertOne(ctx, Items, bson.D{{Key: "_id", Value: "d"}})
	if !errors.Is(err, mongostore.ErrDuplicate) || errkind.Of(err) != errkind.AlreadyExists {
		t.Errorf("duplicate _id = %v (kind %v), want ErrDuplicate", err, errkind.Of(err))
	}
	if _, err := s.InsertOne(ctx, "", bson.D{{Key: "a", Value: 1}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("InsertOne into \"\" = %v, want ErrInvalid", err)
	}
	if _, err := s.InsertOne(ctx, Items, nil); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("InsertOne(nil) = %v, want ErrInvalid", err)
	}
	big := bson.D{{Key: "blob", Value: make([]byte, mongostore.MaxDocumentSize)}}
	if _, err := s.InsertOne(ctx, Items, big); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("InsertOne over 16 MiB = %v, want ErrInvalid", err)
	}
	if _, err := s.Count(ctx, Items, bson.D{{Key: "n", Value: bson.D{{Key: "$nosuchop", Value: 1}}}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("Count with an unknown operator = %v, want ErrInvalid", err)
	}
}

func testBulkWrite(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	seed(t, s, 4)
	r, err := s.BulkWrite(ctx, Items, []mongostore.WriteOp{
		mongostore.InsertOp(bson.D{{Key: "_id", Value: int64(10)}}),
		mongostore.UpdateOneOp(id(0), bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}),
		mongostore.UpsertOp(id(11), bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 2}}}}),
		mongostore.ReplaceOneOp(id(1), bson.D{{Key: "x", Value: 3}}),
		mongostore.DeleteOneOp(id(2)),
		mongostore.DeleteManyOp(bson.D{{Key: "_id", Value: int64(3)}}),
	}, true)
	if err != nil || r.Inserted != 1 || r.Matched != 2 || r.Upserted != 1 || r.Deleted != 2 {
		t.Fatalf("BulkWrite = %+v, %v", r, err)
	}
	if n := count(t, s, mongostore.All); n != 4 {
		t.Errorf("after BulkWrite %d documents, want 4", n)
	}
	_, err = s.BulkWrite(ctx, lucidkeys.CollUsers, []mongostore.WriteOp{mongostore.InsertOp(bson.D{{Key: "user_id", Value: "x"}})}, true)
	if !errors.Is(err, mongostore.ErrValidation) {
		t.Errorf("BulkWrite invalid user = %v, want ErrValidation", err)
	}
	if _, err := s.BulkWrite(ctx, Items, nil, true); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("BulkWrite(nil) = %v, want ErrInvalid", err)
	}
}

func testAggregate(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	seed(t, s, 10)
	var out []struct {
		Even bool  `bson:"_id"`
		N    int64 `bson:"count"`
	}
	err := s.Aggregate(ctx, Items, []bson.D{
		{{Key: "$match", Value: bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: 9}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$even"}, {Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	}, &out)
	if err != nil || len(out) != 2 || out[0].Even || out[0].N != 4 || !out[1].Even || out[1].N != 5 {
		t.Fatalf("Aggregate = %+v, %v", out, err)
	}
}

func testTyped(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	type item struct {
		ID   int64  `bson:"_id"`
		Name string `bson:"name"`
	}
	c, err := mongostore.NewCollection[item](s, Items)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertMany(ctx, []item{{1, "a"}, {2, "b"}, {3, "c"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.FindOne(ctx, mongostore.NewFilter().Eq("name", "b"), nil)
	if err != nil || got.ID != 2 {
		t.Fatalf("typed FindOne = %+v, %v", got, err)
	}
	var ids []int64
	for v, err := range c.All(ctx, mongostore.All, &mongostore.FindOptions{Sort: bson.D{{Key: "_id", Value: -1}}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	if len(ids) != 3 || ids[0] != 3 {
		t.Errorf("typed All = %v", ids)
	}
}

func testContext(t *testing.T, s mongostore.Store) {
	seed(t, s, 2)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		ctx  context.Context
		kind errkind.Kind
	}{{cancelled, errkind.Canceled}, {expired, errkind.DeadlineExceeded}} {
		for name, err := range map[string]error{
			"InsertOne": func() error { _, err := s.InsertOne(c.ctx, Items, bson.D{{Key: "x", Value: 1}}); return err }(),
			"FindOne":   func() error { var v bson.M; return s.FindOne(c.ctx, Items, id(0), &v, nil) }(),
			"Count":     func() error { _, err := s.Count(c.ctx, Items, mongostore.All); return err }(),
			"UpdateMany": func() error {
				_, err := s.UpdateMany(c.ctx, Items, mongostore.All, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}})
				return err
			}(),
			"Ping": s.Ping(c.ctx),
		} {
			if errkind.Of(err) != c.kind || errors.Is(err, mongostore.ErrUnavailable) {
				t.Errorf("%s with a %v ctx = %v (kind %v)", name, c.kind, err, errkind.Of(err))
			}
		}
	}
	if n := count(t, s, bson.D{{Key: "x", Value: 1}}); n != 0 {
		t.Errorf("a call with a done ctx wrote %d documents", n)
	}
}

func testHealth(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if r := s.Check(ctx); r.Status != health.Up || r.Version == "" {
		t.Errorf("Check = %+v, want Up with a version", r)
	}
	if _, err := s.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func testClose(t *testing.T, s mongostore.Store) {
	ctx := ctxT(t)
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var v bson.M
	for name, err := range map[string]error{
		"InsertOne": func() error { _, err := s.InsertOne(ctx, Items, bson.D{{Key: "x", Value: 1}}); return err }(),
		"FindOne":   s.FindOne(ctx, Items, id(0), &v, nil),
		"Count":     func() error { _, err := s.Count(ctx, Items, mongostore.All); return err }(),
		"Ping":      s.Ping(ctx),
	} {
		if !errors.Is(err, mongostore.ErrClosed) || errkind.Of(err) != errkind.Closed {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if r := s.Check(ctx); r.Status != health.Down {
		t.Errorf("Check after Close = %+v, want Down", r)
	}
}
