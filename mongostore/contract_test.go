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

// TestSentinelKinds: every sentinel and error type matches its errkind kind.
func TestSentinelKinds(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind errkind.Kind
	}{
		{mongostore.ErrNotFound, errkind.NotFound}, {mongostore.ErrDuplicate, errkind.AlreadyExists},
		{mongostore.ErrValidation, errkind.InvalidArgument}, {mongostore.ErrInvalid, errkind.InvalidArgument},
		{mongostore.ErrInjection, errkind.InvalidArgument}, {mongostore.ErrUnavailable, errkind.Unavailable},
		{mongostore.ErrUnsupported, errkind.Unimplemented}, {mongostore.ErrClosed, errkind.Closed},
		{&mongostore.DuplicateError{Collection: "users", Index: "users_email_unique"}, errkind.AlreadyExists},
		{&mongostore.ValidationError{Collection: "users", Field: "email", Rule: "pattern"}, errkind.InvalidArgument},
		{&mongostore.Error{Kind: mongostore.ErrNotFound, Op: "users.findOne"}, errkind.NotFound},
	} {
		if !errors.Is(tc.err, tc.kind) || errkind.Of(tc.err) != tc.kind {
			t.Errorf("%v: kind %v, want %v", tc.err, errkind.Of(tc.err), tc.kind)
		}
	}
	if !errors.Is(mongostore.ErrInjection, mongostore.ErrInvalid) {
		t.Error("ErrInjection does not match ErrInvalid")
	}
}

// ctxCalls returns every ctx-taking call of DB (and of a typed Collection),
// each with inputs that succeed with a live ctx.
func ctxCalls(t *testing.T, db *mongostore.DB, uri, dbName string) map[string]func(ctx context.Context) error {
	users := lucidkeys.CollUsers
	one := bson.D{{Key: "user_id", Value: "u_1"}}
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "inactive"}}}}
	typed, err := mongostore.NewCollection[bson.M](db, users)
	if err != nil {
		t.Fatal(err)
	}
	first := func(seq func(func(bson.Raw, error) bool)) error {
		var err error
		seq(func(_ bson.Raw, e error) bool { err = e; return false })
		return err
	}
	return map[string]func(ctx context.Context) error{
		"Connect": func(ctx context.Context) error {
			d, err := mongostore.Connect(ctx, mongostore.Config{URI: uri, Database: dbName})
			if err == nil {
				_ = d.Close(context.Background())
			}
			return err
		},
		"Ping":      func(ctx context.Context) error { return db.Ping(ctx) },
		"Check":     func(ctx context.Context) error { return db.Check(ctx).Err },
		"Health":    func(ctx context.Context) error { _, err := db.Health(ctx); return err },
		"Features":  func(ctx context.Context) error { _, err := db.Features(ctx); return err },
		"InsertOne": func(ctx context.Context) error { _, err := db.InsertOne(ctx, users, goodDocs(7)[users]); return err },
		"InsertMany": func(ctx context.Context) error {
			_, err := db.InsertMany(ctx, users, []any{goodDocs(8)[users]})
			return err
		},
		"FindOne":    func(ctx context.Context) error { var out bson.M; return db.FindOne(ctx, users, one, &out, nil) },
		"Find":       func(ctx context.Context) error { var out []bson.M; return db.Find(ctx, users, one, &out, nil) },
		"Stream":     func(ctx context.Context) error { return first(db.Stream(ctx, users, one, nil)) },
		"UpdateOne":  func(ctx context.Context) error { _, err := db.UpdateOne(ctx, users, one, set); return err },
		"UpdateMany": func(ctx context.Context) error { _, err := db.UpdateMany(ctx, users, one, set); return err },
		"Upsert":     func(ctx context.Context) error { _, err := db.Upsert(ctx, "things", one, set); return err },
		"ReplaceOne": func(ctx context.Context) error {
			_, err := db.ReplaceOne(ctx, users, one, goodDocs(1)[users])
			return err
		},
		"DeleteOne": func(ctx context.Context) error {
			_, err := db.DeleteOne(ctx, users, bson.D{{Key: "user_id", Value: "u_2"}})
			return err
		},
		"DeleteMany": func(ctx context.Context) error {
			_, err := db.DeleteMany(ctx, users, bson.D{{Key: "user_id", Value: "u_3"}})
			return err
		},
		"Count": func(ctx context.Context) error { _, err := db.Count(ctx, users, mongostore.All); return err },
		"BulkWrite": func(ctx context.Context) error {
			_, err := db.BulkWrite(ctx, users, []mongostore.WriteOp{mongostore.UpdateOneOp(one, set)}, true)
			return err
		},
		"Aggregate": func(ctx context.Context) error {
			var out []bson.M
			return db.Aggregate(ctx, users, mongo.Pipeline{{{Key: "$match", Value: one}}}, &out)
		},
		"EnsureSchema": func(ctx context.Context) error { _, err := db.EnsureSchema(ctx); return err },
		"EnsureSchemaWith": func(ctx context.Context) error {
			_, err := db.EnsureSchemaWith(ctx, mongostore.EnsureOptions{})
			return err
		},
		"SchemaDrift":     func(ctx context.Context) error { _, err := db.SchemaDrift(ctx); return err },
		"ListIndexes":     func(ctx context.Context) error { _, err := db.ListIndexes(ctx, users); return err },
		"Stats":           func(ctx context.Context) error { _, err := db.Stats(ctx, users); return err },
		"DatabaseStats":   func(ctx context.Context) error { _, err := db.DatabaseStats(ctx); return err },
		"EnableSharding":  func(ctx context.Context) error { return db.EnableSharding(ctx) },
		"ShardCollection": func(ctx context.Context) error { return db.ShardCollection(ctx, users) },
		"Collection.FindOne": func(ctx context.Context) error {
			_, err := typed.FindOne(ctx, one, nil)
			return err
		},
		"Collection.All": func(ctx context.Context) error {
			for _, err := range typed.All(ctx, one, nil) {
				return err
			}
			return nil
		},
	}
}

func seedUsers(t *testing.T, db *mongostore.DB) {
	t.Helper()
	for i := 1; i <= 3; i++ {
		if _, err := db.InsertOne(ctxT(t), lucidkeys.CollUsers, goodDocs(i)[lucidkeys.CollUsers]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestContextErrors runs every ctx-taking call with a cancelled and an
// expired ctx: the error is that ctx's error (errkind Canceled or
// DeadlineExceeded), never ErrUnavailable, and nothing is written.
func TestContextErrors(t *testing.T) {
	uri, name := testenv.MongoURI(t), testenv.Namespace(t)
	db := connect(t, mongostore.Config{URI: uri, Database: name})
	seedUsers(t, db)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for call, fn := range ctxCalls(t, db, uri, name) {
		for _, tc := range []struct {
			ctx  context.Context
			want error
			kind errkind.Kind
		}{{cancelled, context.Canceled, errkind.Canceled}, {expired, context.DeadlineExceeded, errkind.DeadlineExceeded}} {
			err := fn(tc.ctx)
			if !errors.Is(err, tc.want) || errkind.Of(err) != tc.kind || errors.Is(err, mongostore.ErrUnavailable) || errors.Is(err, errkind.Unavailable) {
				t.Errorf("%s with %v ctx: %v (kind %v), want %v and not unavailable", call, tc.want, err, errkind.Of(err), tc.kind)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "mongostore: ") {
				t.Errorf("%s: error %q lacks the package prefix", call, err)
			}
		}
	}
	if n, err := db.Count(ctxT(t), lucidkeys.CollUsers, bson.D{{Key: "status", Value: "inactive"}}); err != nil || n != 0 {
		t.Errorf("a call with a done ctx wrote: %d inactive users, %v", n, err)
	}
	if n, err := db.Count(ctxT(t), lucidkeys.CollUsers, mongostore.All); err != nil || n != 3 {
		t.Errorf("users after the table = %d, %v; want 3", n, err)
	}
}

// TestClosedKinds: Close is idempotent and every call after it fails with
// the Closed kind (Connect aside, which makes a new DB); Check is Down.
func TestClosedKinds(t *testing.T) {
	uri, name := testenv.MongoURI(t), testenv.Namespace(t)
	ctx := ctxT(t)
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: uri, Database: name})
	if err != nil {
		t.Fatal(err)
	}
	seedUsers(t, db)
	calls := ctxCalls(t, db, uri, name)
	if err := db.Database().Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for call, fn := range calls {
		if call == "Connect" {
			continue
		}
		err := fn(ctx)
		if !errors.Is(err, mongostore.ErrClosed) || errkind.Of(err) != errkind.Closed {
			t.Errorf("%s after Close: %v (kind %v), want ErrClosed", call, err, errkind.Of(err))
		}
	}
	if r := db.Check(ctx); r.Status != health.Down || !errors.Is(r.Err, mongostore.ErrClosed) {
		t.Errorf("Check after Close = %+v", r)
	}
	// The caller's ctx error wins over ErrClosed.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.Ping(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping(cancelled) after Close = %v, want context.Canceled", err)
	}
}

// TestCheck: Up on the test server with the product's version and the
// server's role and wire versions in Details.
func TestCheck(t *testing.T) {
	db := connect(t, mongostore.Config{})
	ctx := ctxT(t)
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r := db.Check(ctx)
	t.Logf("check: %+v", r)
	if r.Status != health.Up || r.Err != nil || r.Latency <= 0 {
		t.Fatalf("Check = %+v, want Up", r)
	}
	h, err := db.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := "MongoDB "
	if h.Product == "FerretDB" {
		wantPrefix = "FerretDB " // "v1.24.2", or "(version unknown)" when run as a library
		if r.Details["mongodb_version"] != h.Version {
			t.Errorf("mongodb_version = %v, want %q", r.Details["mongodb_version"], h.Version)
		}
	}
	if !strings.HasPrefix(r.Version, wantPrefix) {
		t.Errorf("Version = %q, want prefix %q", r.Version, wantPrefix)
	}
	for _, k := range []string{"role", "writable_primary", "min_wire_version", "max_wire_version"} {
		if _, ok := r.Details[k]; !ok {
			t.Errorf("Details lack %q: %v", k, r.Details)
		}
	}
	if h.SetName == "" && r.Details["role"] != "standalone" {
		t.Errorf("role = %v, want standalone", r.Details["role"])
	}
	var _ health.Checker = db
}
