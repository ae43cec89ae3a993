//go:build !lucidfuzz

package mongostore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestConnectConfigErrors(t *testing.T) {
	ctx := ctxT(t)
	cases := []mongostore.Config{
		{URI: "http://example.com"},
		{URI: "mongodb://127.0.0.1:1/", ReadPreference: "sometimes"},
		{URI: "mongodb://127.0.0.1:1/", WriteConcern: "most"},
		{URI: "mongodb://127.0.0.1:1/", Database: "bad.name"},
	}
	for _, cfg := range cases {
		_, err := mongostore.Connect(ctx, cfg)
		if !errors.Is(err, mongostore.ErrInvalid) {
			t.Errorf("Connect(%+v) = %v, want ErrInvalid", cfg, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "mongostore: ") {
			t.Errorf("error %q does not start with the package name", err)
		}
	}
}

func TestConnectUnreachableRedactsSecrets(t *testing.T) {
	ctx := ctxT(t)
	const secret = "s3cr3t-pa55"
	for _, cfg := range []mongostore.Config{
		{URI: "mongodb://lucid:" + secret + "@127.0.0.1:1/lucid", ServerSelectionTimeout: 300 * time.Millisecond},
		{URI: "mongodb://127.0.0.1:1/", Username: "lucid", Password: secret, ServerSelectionTimeout: 300 * time.Millisecond,
			ReadPreference: "secondaryPreferred", WriteConcern: "majority", Journal: true, MaxPoolSize: 5, MinPoolSize: 1,
			Timeout: time.Second, AppName: "test", DisableRetryReads: true},
	} {
		db, err := mongostore.Connect(ctx, cfg)
		if err == nil {
			_ = db.Close(ctx)
			t.Fatal("Connect to a closed port succeeded")
		}
		if !errors.Is(err, mongostore.ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	if got := mongostore.RedactURI("mongodb://u:" + secret + "@h:27017/db"); strings.Contains(got, secret) || !strings.Contains(got, "u:***@h") {
		t.Errorf("RedactURI = %q", got)
	}
}

func TestCloseIdempotent(t *testing.T) {
	ctx := ctxT(t)
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(t), Database: testenv.Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := db.Count(ctx, "users", mongostore.All); !errors.Is(err, mongostore.ErrClosed) {
		t.Errorf("Count after Close = %v, want ErrClosed", err)
	}
}

func TestCRUD(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	users := lucidkeys.CollUsers
	var ids []any
	for i := 1; i <= 5; i++ {
		id, err := db.InsertOne(ctx, users, goodDocs(i)[users])
		if err != nil {
			t.Fatalf("InsertOne %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	if _, err := db.InsertMany(ctx, users, []any{goodDocs(6)[users], goodDocs(7)[users]}); err != nil {
		t.Fatalf("InsertMany: %v", err)
	}
	n, err := db.Count(ctx, users, mongostore.All)
	if err != nil || n != 7 {
		t.Fatalf("Count = %d, %v; want 7", n, err)
	}

	var one bson.M
	if err := db.FindOne(ctx, users, bson.D{{Key: "_id", Value: ids[0]}}, &one, nil); err != nil {
		t.Fatalf("FindOne: %v", err)
	}
	if one["email"] != "user_1@example.com" {
		t.Errorf("FindOne email = %v", one["email"])
	}
	err = db.FindOne(ctx, users, bson.D{{Key: "email", Value: "nobody@example.com"}}, &one, nil)
	if !errors.Is(err, mongostore.ErrNotFound) || !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("FindOne missing = %v, want ErrNotFound wrapping mongo.ErrNoDocuments", err)
	}

	// Projection, sort, skip, limit.
	var page []struct {
		UserID string `bson:"user_id"`
		Email  string `bson:"email"`
	}
	err = db.Find(ctx, users, mongostore.All, &page, &mongostore.FindOptions{
		Projection: bson.D{{Key: "user_id", Value: 1}, {Key: "_id", Value: 0}},
		Sort:       bson.D{{Key: "user_id", Value: -1}}, Skip: 1, Limit: 3,
	})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	if len(page) != 3 || page[0].UserID != "u_6" || page[2].UserID != "u_4" || page[0].Email != "" {
		t.Errorf("Find page = %+v, want u_6,u_5,u_4 without email", page)
	}

	// Updates.
	r, err := db.UpdateOne(ctx, users, bson.D{{Key: "user_id", Value: "u_1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "roles", Value: bson.A{"Admin"}}}}})
	if err != nil || r.Matched != 1 || r.Modified != 1 {
		t.Fatalf("UpdateOne = %+v, %v", r, err)
	}
	r, err = db.UpdateMany(ctx, users, bson.D{{Key: "roles", Value: "User"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "suspended"}}}})
	if err != nil || r.Modified != 6 {
		t.Fatalf("UpdateMany = %+v, %v; want 6 modified", r, err)
	}
	repl := set(goodDocs(1)[users], "display_name", "Alice")
	r, err = db.ReplaceOne(ctx, users, bson.D{{Key: "user_id", Value: "u_1"}}, repl)
	if err != nil || r.Modified != 1 {
		t.Fatalf("ReplaceOne = %+v, %v", r, err)
	}
	r, err = db.Upsert(ctx, users, bson.D{{Key: "user_id", Value: "u_99"}}, bson.D{
		{Key: "$setOnInsert", Value: bson.D{{Key: "email", Value: "u99@example.com"}, {Key: "roles", Value: bson.A{"User"}}, {Key: "created_at", Value: t0}, {Key: "updated_at", Value: t0}}},
		{Key: "$set", Value: bson.D{{Key: "status", Value: "active"}}},
	})
	if err != nil || r.Upserted != 1 || r.UpsertedID == nil {
		t.Fatalf("Upsert insert = %+v, %v", r, err)
	}
	r, err = db.Upsert(ctx, users, bson.D{{Key: "user_id", Value: "u_99"}}, bson.D{
		{Key: "$setOnInsert", Value: bson.D{{Key: "email", Value: "u99@example.com"}, {Key: "roles", Value: bson.A{"User"}}, {Key: "created_at", Value: t0}, {Key: "updated_at", Value: t0}}},
		{Key: "$set", Value: bson.D{{Key: "status", Value: "inactive"}}},
	})
	if err != nil || r.Matched != 1 || r.Upserted != 0 {
		t.Fatalf("Upsert update = %+v, %v", r, err)
	}

	// Aggregate.
	var groups []struct {
		ID    string `bson:"_id"`
		Count int32  `bson:"n"`
	}
	err = db.Aggregate(ctx, users, mongo.Pipeline{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	}, &groups)
	if err != nil {
		t.Fatalf("Aggregate: %v", err)
	}
	if len(groups) != 2 || groups[0].ID != "active" || groups[0].Count != 1 || groups[1].ID != "inactive" {
		// u_1 replaced -> active; u_2..u_7 suspended; u_99 pending
		if len(groups) != 3 {
			t.Errorf("Aggregate groups = %+v", groups)
		}
	}

	// Bulk write.
	br, err := db.BulkWrite(ctx, users, []mongostore.WriteOp{
		mongostore.InsertOp(goodDocs(8)[users]),
		mongostore.UpdateOneOp(bson.D{{Key: "user_id", Value: "u_8"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "mfa_enabled", Value: true}}}}),
		mongostore.DeleteOneOp(bson.D{{Key: "user_id", Value: "u_2"}}),
	}, true)
	if err != nil || br.Inserted != 1 || br.Modified != 1 || br.Deleted != 1 {
		t.Fatalf("BulkWrite = %+v, %v", br, err)
	}
	_, err = db.BulkWrite(ctx, users, []mongostore.WriteOp{
		mongostore.InsertOp(without(goodDocs(9)[users], "email")),
	}, true)
	if !errors.Is(err, mongostore.ErrValidation) {
		t.Errorf("BulkWrite invalid insert = %v, want ErrValidation", err)
	}

	// Deletes.
	if _, err := db.DeleteMany(ctx, users, nil); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("DeleteMany(nil) = %v, want ErrInvalid", err)
	}
	if n, err := db.DeleteOne(ctx, users, bson.D{{Key: "user_id", Value: "u_3"}}); err != nil || n != 1 {
		t.Fatalf("DeleteOne = %d, %v", n, err)
	}
	if n, err := db.DeleteMany(ctx, users, bson.D{{Key: "status", Value: "suspended"}}); err != nil || n != 4 {
		t.Fatalf("DeleteMany = %d, %v; want 4", n, err)
	}
	if n, _ := db.Count(ctx, users, mongostore.All); n != 3 {
		t.Errorf("Count after deletes = %d, want 3", n)
	}

	// Updates without operators are rejected before the server sees them.
	if _, err := db.UpdateOne(ctx, users, bson.D{{Key: "user_id", Value: "u_1"}}, bson.D{{Key: "role", Value: "admin"}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("UpdateOne without operator = %v, want ErrInvalid", err)
	}
	if _, err := db.InsertOne(ctx, users, nil); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("InsertOne(nil) = %v, want ErrInvalid", err)
	}
	// Escape hatches.
	if db.Client() == nil || db.Database() == nil || db.Collection(users).Name() != "users" {
		t.Error("escape hatches")
	}
}

type user struct {
	ID        bson.ObjectID `bson:"_id,omitempty"`
	UserID    string        `bson:"user_id"`
	Email     string        `bson:"email"`
	Roles     []string      `bson:"roles"`
	Status    string        `bson:"status"`
	CreatedAt time.Time     `bson:"created_at"`
	UpdatedAt time.Time     `bson:"updated_at"`
}

func TestTypedCollection(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	users, err := mongostore.NewCollection[user](db, lucidkeys.CollUsers)
	if err != nil {
		t.Fatal(err)
	}
	var in []user
	for i := range 20 {
		in = append(in, user{UserID: "u_" + fmtInt(i), Email: "u" + fmtInt(i) + "@example.com", Roles: []string{"User"}, Status: "active", CreatedAt: t0, UpdatedAt: t0})
	}
	if _, err := users.InsertMany(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := users.InsertOne(ctx, user{UserID: "bad", Email: "not-an-email", Roles: []string{"User"}, Status: "active", CreatedAt: t0, UpdatedAt: t0}); !errors.Is(err, mongostore.ErrValidation) {
		t.Errorf("InsertOne bad email = %v, want ErrValidation", err)
	}
	u, err := users.FindOne(ctx, bson.D{{Key: "user_id", Value: "u_3"}}, nil)
	if err != nil || u.Email != "u3@example.com" || u.ID.IsZero() {
		t.Fatalf("FindOne = %+v, %v", u, err)
	}
	if _, err := users.FindOne(ctx, bson.D{{Key: "user_id", Value: "nope"}}, nil); !errors.Is(err, mongostore.ErrNotFound) {
		t.Errorf("FindOne missing = %v", err)
	}
	all, err := users.Find(ctx, mongostore.All, &mongostore.FindOptions{Sort: bson.D{{Key: "user_id", Value: 1}}, Limit: 5})
	if err != nil || len(all) != 5 {
		t.Fatalf("Find = %d, %v", len(all), err)
	}
	n := 0
	for v, err := range users.All(ctx, mongostore.All, &mongostore.FindOptions{BatchSize: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Roles) != 1 || v.Roles[0] != "User" {
			t.Errorf("All yielded %+v", v)
		}
		n++
		if n == 10 {
			break // early break closes the cursor
		}
	}
	if n != 10 {
		t.Errorf("All yielded %d", n)
	}
	u.Roles = []string{"Admin"}
	if r, err := users.ReplaceOne(ctx, bson.D{{Key: "_id", Value: u.ID}}, u); err != nil || r.Modified != 1 {
		t.Fatalf("ReplaceOne = %+v, %v", r, err)
	}
	if r, err := users.UpdateMany(ctx, bson.D{{Key: "roles", Value: "User"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "inactive"}}}}); err != nil || r.Modified != 19 {
		t.Fatalf("UpdateMany = %+v, %v", r, err)
	}
	if r, err := users.UpdateOne(ctx, bson.D{{Key: "user_id", Value: "u_4"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "roles", Value: bson.A{"root"}}}}}); !errors.Is(err, mongostore.ErrValidation) {
		t.Fatalf("UpdateOne bad enum = %+v, %v", r, err)
	}
	var ve *mongostore.ValidationError
	if _, err := users.Upsert(ctx, bson.D{{Key: "user_id", Value: "u_x"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "roles", Value: bson.A{"User"}}}}}); !errors.As(err, &ve) || ve.Field != "email" || ve.Rule != "required" {
		t.Fatalf("Upsert without the required fields = %v, want ValidationError on email", err)
	}
	if r, err := users.Upsert(ctx, bson.D{{Key: "user_id", Value: "u_x"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "roles", Value: bson.A{"User"}}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "email", Value: "x@example.com"}, {Key: "status", Value: "active"}, {Key: "created_at", Value: t0}, {Key: "updated_at", Value: t0}}}}); err != nil || r.Upserted != 1 {
		t.Fatalf("Upsert = %+v, %v", r, err)
	}
	if c, err := users.Count(ctx, bson.D{{Key: "status", Value: "inactive"}}); err != nil || c != 19 {
		t.Errorf("Count = %d, %v", c, err)
	}
	if d, err := users.DeleteOne(ctx, bson.D{{Key: "user_id", Value: "u_x"}}); err != nil || d != 1 {
		t.Errorf("DeleteOne = %d, %v", d, err)
	}
	if d, err := users.DeleteMany(ctx, mongostore.All); err != nil || d != 20 {
		t.Errorf("DeleteMany = %d, %v", d, err)
	}
	if users.Name() != lucidkeys.CollUsers || users.Raw() == nil {
		t.Error("Name/Raw")
	}
}

func TestDuplicateNamesIndex(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	if _, err := db.EnsureSchema(ctx); err != nil {
		t.Fatalf("EnsureSchema: %v", err)
	}
	users := lucidkeys.CollUsers
	if _, err := db.InsertOne(ctx, users, goodDocs(1)[users]); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error, index string) {
		t.Helper()
		var de *mongostore.DuplicateError
		if !errors.Is(err, mongostore.ErrDuplicate) || !errors.As(err, &de) {
			t.Fatalf("%s = %v, want ErrDuplicate", what, err)
		}
		if de.Index != index || !strings.Contains(err.Error(), index) {
			t.Errorf("%s: index %q (%v), want %q", what, de.Index, err, index)
		}
		if !errors.As(err, new(mongo.ServerError)) {
			t.Errorf("%s: driver error not reachable", what)
		}
	}
	// Same email, everything else new.
	dup := set(goodDocs(2)[users], "email", "user_1@example.com")
	_, err := db.InsertOne(ctx, users, dup)
	check("InsertOne same email", err, "users_email_unique")
	// Same user_id.
	_, err = db.InsertMany(ctx, users, []any{goodDocs(3)[users], set(goodDocs(4)[users], "user_id", "u_1")})
	check("InsertMany same user_id", err, "users_user_id_unique")
	_, err = db.BulkWrite(ctx, users, []mongostore.WriteOp{mongostore.InsertOp(set(goodDocs(5)[users], "email", "user_1@example.com"))}, true)
	check("BulkWrite same email", err, "users_email_unique")
	_, err = db.UpdateOne(ctx, users, bson.D{{Key: "user_id", Value: "u_3"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "user_1@example.com"}}}})
	check("UpdateOne to existing email", err, "users_email_unique")
	_, err = db.ReplaceOne(ctx, users, bson.D{{Key: "user_id", Value: "u_3"}}, set(goodDocs(3)[users], "email", "user_1@example.com"))
	check("ReplaceOne to existing email", err, "users_email_unique")
}

func TestStats(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	if _, err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	var docs []any
	for i := 1; i <= 50; i++ {
		docs = append(docs, goodDocs(i)[lucidkeys.CollBlocks])
	}
	if _, err := db.InsertMany(ctx, lucidkeys.CollBlocks, docs); err != nil {
		t.Fatal(err)
	}
	s, err := db.Stats(ctx, lucidkeys.CollBlocks)
	if err != nil {
		t.Fatal(err)
	}
	if s.Count != 50 || s.Size <= 0 || s.StorageSize <= 0 || s.NIndexes < 6 || s.IndexSizes["blocks_block_hash_unique"] <= 0 {
		t.Errorf("Stats = %+v", s)
	}
	ds, err := db.DatabaseStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Collections < 15 || ds.Objects < 50 || ds.DataSize <= 0 || ds.Indexes < 15 || ds.Database != db.Database().Name() {
		t.Errorf("DatabaseStats = %+v", ds)
	}
}

func TestHealth(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	h, err := db.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Latency <= 0 || !h.WritablePrimary || h.MaxWireVersion <= 0 || h.Version == "" || h.Product == "" {
		t.Errorf("Health = %+v", h)
	}
	t.Logf("health: %+v", h)
	if h.Product == "FerretDB" {
		// What the probe found must match FerretDB v1.24's documented gaps;
		// the probes themselves are exercised by the tests of each feature.
		f := h.Features
		if f.Validators || f.TTLIndexes || f.TextIndexes || f.Transactions || f.ChangeStreams || f.Sharding {
			t.Errorf("FerretDB features probed as %+v, want none", f)
		}
	}
	f2, err := db.Features(ctx)
	if err != nil || f2 != h.Features {
		t.Errorf("Features (cached) = %+v, %v", f2, err)
	}
}

func TestShardingHelpers(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	f, err := db.Features(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys := mongostore.ShardKeys()
	for _, c := range lucidkeys.Collections() {
		if _, ok := keys[c]; !ok && c != lucidkeys.CollSystemConfig {
			t.Errorf("no shard key for %s", c)
		}
	}
	if err := db.ShardCollection(ctx, lucidkeys.CollSystemConfig); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("ShardCollection(system_config) = %v, want ErrInvalid", err)
	}
	errE := db.EnableSharding(ctx)
	errS := db.ShardCollection(ctx, lucidkeys.CollSessions)
	if !f.Sharding {
		if !errors.Is(errE, mongostore.ErrUnsupported) || !errors.Is(errS, mongostore.ErrUnsupported) {
			t.Errorf("on a non-mongos: EnableSharding = %v, ShardCollection = %v; want ErrUnsupported", errE, errS)
		}
		return
	}
	if errE != nil || errS != nil {
		t.Errorf("on mongos: EnableSharding = %v, ShardCollection = %v", errE, errS)
	}
}

func TestUnavailableAndReconnect(t *testing.T) {
	ctx := ctxT(t)
	srv := testenv.StartMongo(t)
	db := connect(t, mongostore.Config{URI: srv.URI(), ServerSelectionTimeout: 500 * time.Millisecond, Retry: mongostore.RetryPolicy{MaxAttempts: 1}})
	timed := connect(t, mongostore.Config{URI: srv.URI(), Timeout: 150 * time.Millisecond, ServerSelectionTimeout: 5 * time.Second, Retry: mongostore.RetryPolicy{MaxAttempts: 1}})
	if _, err := db.InsertOne(ctx, "things", bson.D{{Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, err := db.Count(ctx, "things", mongostore.All)
	if !errors.Is(err, mongostore.ErrUnavailable) || errors.Is(err, mongostore.ErrNotFound) {
		t.Fatalf("Count with server stopped = %v, want ErrUnavailable", err)
	}
	_, err = db.InsertOne(ctx, "things", bson.D{{Key: "n", Value: 2}})
	if !errors.Is(err, mongostore.ErrUnavailable) {
		t.Fatalf("InsertOne with server stopped = %v, want ErrUnavailable", err)
	}
	if _, err := db.Health(ctx); !errors.Is(err, mongostore.ErrUnavailable) {
		t.Fatalf("Health with server stopped = %v", err)
	}
	if err := db.Ping(ctx); !errors.Is(err, mongostore.ErrUnavailable) || errkind.Of(err) != errkind.Unavailable {
		t.Errorf("Ping with server stopped = %v (kind %v), want ErrUnavailable", err, errkind.Of(err))
	}
	if r := db.Check(ctx); r.Status != health.Down || !errors.Is(r.Err, mongostore.ErrUnavailable) {
		t.Errorf("Check with server stopped = %+v, want Down", r)
	}
	// The caller's deadline passing while the driver waits for a server is
	// the caller's deadline, not ErrUnavailable (it was ErrUnavailable).
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = db.Count(short, "things", mongostore.All)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, mongostore.ErrUnavailable) || errkind.Of(err) != errkind.DeadlineExceeded {
		t.Errorf("Count past the caller's deadline = %v (kind %v), want DeadlineExceeded", err, errkind.Of(err))
	}
	// The SDK's own Config.Timeout running out while ctx is live is
	// ErrUnavailable, not the caller's DeadlineExceeded.
	_, err = timed.Count(ctx, "things", mongostore.All)
	if !errors.Is(err, mongostore.ErrUnavailable) || errkind.Of(err) != errkind.Unavailable || ctx.Err() != nil {
		t.Errorf("Count past Config.Timeout = %v (kind %v), want ErrUnavailable", err, errkind.Of(err))
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitReconnectCount(t, db, "things", 1)
}

// waitReconnectCount waits (up to 20 s) for db to reach the restarted server
// again, then checks coll still holds want documents: data kept, client
// reconnected by itself.
func waitReconnectCount(t *testing.T, db *mongostore.DB, coll lucidkeys.Collection, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := db.Count(ctxT(t), coll, mongostore.All)
		if err == nil {
			if n != want {
				t.Errorf("Count(%s) after restart = %d, want %d (data kept)", coll, n, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRetryIdempotentOnly(t *testing.T) {
	ctx := ctxT(t)
	srv := testenv.StartMongo(t)
	cfg := mongostore.Config{URI: srv.URI(), ServerSelectionTimeout: 200 * time.Millisecond,
		Retry: mongostore.RetryPolicy{MaxAttempts: 40, BaseDelay: 100 * time.Millisecond, MaxDelay: 200 * time.Millisecond}}
	db := connect(t, cfg)
	if _, err := db.InsertOne(ctx, "things", bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	// A non-idempotent write is tried once.
	start := time.Now()
	_, err := db.InsertOne(ctx, "things", bson.D{{Key: "_id", Value: 2}})
	if !errors.Is(err, mongostore.ErrUnavailable) {
		t.Fatalf("InsertOne = %v, want ErrUnavailable", err)
	}
	t.Logf("non-idempotent insert failed after %v", time.Since(start))
	// A cancelled ctx is never retried.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Count(cctx, "things", mongostore.All); !errors.Is(err, context.Canceled) {
		t.Fatalf("Count with cancelled ctx = %v, want context.Canceled", err)
	}
	// A read and an idempotent write are retried until the server is back.
	done := restartLater(srv)
	n, err := db.Count(ctx, "things", mongostore.All)
	<-done
	if err != nil || n != 1 {
		t.Fatalf("Count across restart = %d, %v; want retried to success", n, err)
	}
	srv.Stop()
	done = restartLater(srv)
	_, err = db.ReplaceOne(mongostore.Idempotent(ctx), "things", bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "v", Value: "x"}})
	<-done
	if err != nil {
		t.Fatalf("idempotent ReplaceOne across restart: %v", err)
	}
}

// restartLater starts srv again after a second; the channel closes when
// it is up.
func restartLater(srv *testenv.MongoProcess) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(time.Second)
		_ = srv.Start()
	}()
	return done
}
