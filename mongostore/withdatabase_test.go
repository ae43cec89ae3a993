//go:build !lucidfuzz

package mongostore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
)

// withDatabase derives a DB for a fresh database from d, dropped when t
// ends.
func withDatabase(t *testing.T, d *mongostore.DB) *mongostore.DB {
	t.Helper()
	child, err := d.WithDatabase(testenv.Namespace(t))
	if err != nil {
		t.Fatalf("WithDatabase: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.Client().Database(child.Database().Name()).Drop(ctx)
	})
	return child
}

// A derived DB works on its own database through the parent's client, with
// the parent's schema, validation, tracer and probed features, and what it
// writes is not in the parent's database.
func TestWithDatabase(t *testing.T) {
	ctx := ctxT(t)
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	parent := connect(t, mongostore.Config{TracerProvider: tp})
	child := withDatabase(t, parent)
	name := child.Database().Name()
	if name == parent.Database().Name() || child.Client() != parent.Client() || child.Schema() != parent.Schema() {
		t.Fatalf("child %v of %v: database %q, same client %v, same schema %v", child, parent, name,
			child.Client() == parent.Client(), child.Schema() == parent.Schema())
	}
	if !strings.Contains(child.String(), "/"+name+")") {
		t.Errorf("String() = %q", child.String())
	}

	users := lucidkeys.CollUsers
	rep, err := child.EnsureSchemaWith(ctx, mongostore.EnsureOptions{Collections: []lucidkeys.Collection{users}})
	if err != nil {
		t.Fatalf("EnsureSchemaWith: %v", err)
	}
	if rep.Count(mongostore.ActionCreated) == 0 {
		t.Fatalf("EnsureSchemaWith created nothing: %+v", rep)
	}
	idx, err := child.ListIndexes(ctx, users)
	if err != nil || len(idx) < 2 {
		t.Fatalf("child's users indexes: %v, %v", idx, err)
	}
	for _, d := range []struct {
		db   *mongostore.DB
		want []string
	}{{parent, nil}, {child, []string{string(users)}}} {
		got, err := d.db.Database().ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Sort(got); !slices.Equal(got, d.want) {
			t.Errorf("%s holds %v, want %v", d.db.Database().Name(), got, d.want)
		}
	}

	// CRUD in the child, none of it in the parent.
	id, err := child.InsertOne(ctx, users, goodDocs(1)[users])
	if err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	if _, err := child.InsertOne(ctx, users, goodDocs(1)[users]); !errors.Is(err, mongostore.ErrDuplicate) {
		t.Errorf("second InsertOne = %v, want ErrDuplicate (the child's unique index)", err)
	}
	bad := goodDocs(2)[users]
	for i := range bad {
		if bad[i].Key == "email" {
			bad[i].Value = "not-an-email"
		}
	}
	var ve *mongostore.ValidationError
	if _, err := child.InsertOne(ctx, users, bad); !errors.As(err, &ve) || ve.Field != "email" {
		t.Errorf("invalid InsertOne = %v, want a ValidationError on email (the parent's schema)", err)
	}
	byID := bson.D{{Key: "_id", Value: id}}
	if r, err := child.UpdateOne(ctx, users, byID, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "suspended"}}}}); err != nil || r.Modified != 1 {
		t.Fatalf("UpdateOne = %+v, %v", r, err)
	}
	var got struct {
		Status string `bson:"status"`
	}
	if err := child.FindOne(ctx, users, byID, &got, nil); err != nil || got.Status != "suspended" {
		t.Fatalf("FindOne = %+v, %v", got, err)
	}
	if err := parent.FindOne(ctx, users, byID, &got, nil); !errors.Is(err, mongostore.ErrNotFound) {
		t.Errorf("parent FindOne = %v, want ErrNotFound", err)
	}
	if n, err := parent.Count(ctx, users, mongostore.All); err != nil || n != 0 {
		t.Errorf("parent Count = %d, %v; want 0", n, err)
	}
	if st, err := child.DatabaseStats(ctx); err != nil || st.Database != name {
		t.Errorf("child DatabaseStats = %+v, %v", st, err)
	}
	if n, err := child.DeleteOne(ctx, users, byID); err != nil || n != 1 {
		t.Fatalf("DeleteOne = %d, %v", n, err)
	}

	// The client's tracer sees the child's commands under the child's name.
	var inserts int
	for _, sp := range sr.Ended() {
		for _, a := range sp.Attributes() {
			if a.Key == "db.name" && a.Value.AsString() == name && sp.Name() == "insert users" {
				inserts++
			}
		}
	}
	if inserts < 2 {
		t.Errorf("%d insert spans with db.name %s, want 2", inserts, name)
	}

	// Features are the server's: probed once, whichever DB asks first.
	f, err := parent.Features(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := len(sr.Ended())
	if g, err := child.Features(ctx); err != nil || g != f {
		t.Fatalf("child Features = %+v, %v; parent's %+v", g, err, f)
	}
	if after := len(sr.Ended()); after != before {
		t.Errorf("child's Features sent %d commands: the probe is per client", after-before)
	}
	if r := child.Check(ctx); r.Status != health.Up {
		t.Errorf("child Check = %+v", r)
	}
}

// The Config carries over: with SkipValidation the child writes what the
// parent would, unchecked.
func TestWithDatabaseKeepsConfig(t *testing.T) {
	ctx := ctxT(t)
	child := withDatabase(t, connect(t, mongostore.Config{SkipValidation: true}))
	if _, err := child.InsertOne(ctx, lucidkeys.CollUsers, bson.D{{Key: "email", Value: "not-an-email"}}); err != nil {
		t.Fatalf("unchecked InsertOne: %v", err)
	}
}

func TestWithDatabaseInvalidNames(t *testing.T) {
	db := connect(t, mongostore.Config{})
	for _, name := range []string{"", "a/b", `a\b`, "a.b", "a b", `a"b`, "a$b", "a\x00b", strings.Repeat("x", 64)} {
		child, err := db.WithDatabase(name)
		if !errors.Is(err, mongostore.ErrInvalid) || errkind.Of(err) != errkind.InvalidArgument || child != nil {
			t.Errorf("WithDatabase(%q) = %v, %v; want ErrInvalid", name, child, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "mongostore: ") {
			t.Errorf("error %q does not start with the package name", err)
		}
	}
	if _, err := db.WithDatabase(strings.Repeat("x", 63)); err != nil {
		t.Errorf("63-byte name: %v", err)
	}
}

// Closing a derived DB closes that DB only; closing the DB Connect
// returned disconnects the client, and every derived DB with it.
func TestWithDatabaseClose(t *testing.T) {
	ctx := ctxT(t)
	parent, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(t), Database: testenv.Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parent.Close(context.Background()) })
	a, b := withDatabase(t, parent), withDatabase(t, parent)
	users := lucidkeys.CollUsers

	for range 2 {
		if err := a.Close(ctx); err != nil {
			t.Fatalf("derived Close: %v", err)
		}
	}
	if _, err := a.Count(ctx, users, mongostore.All); !errors.Is(err, mongostore.ErrClosed) {
		t.Errorf("Count on a closed derived DB = %v, want ErrClosed", err)
	}
	if _, err := a.WithDatabase("other"); !errors.Is(err, mongostore.ErrClosed) {
		t.Errorf("WithDatabase on a closed derived DB = %v, want ErrClosed", err)
	}
	if r := a.Check(ctx); r.Status != health.Down {
		t.Errorf("Check on a closed derived DB = %+v", r)
	}
	if err := parent.Ping(ctx); err != nil {
		t.Fatalf("parent after a derived Close: %v", err)
	}
	if _, err := b.Count(ctx, users, mongostore.All); err != nil {
		t.Fatalf("sibling after a derived Close: %v", err)
	}
	c, err := b.WithDatabase(testenv.Namespace(t)) // derived from a derived DB: same client
	if err != nil || c.Client() != parent.Client() {
		t.Fatalf("WithDatabase of a derived DB: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	if err := parent.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*mongostore.DB{b, c} {
		_, err := d.Count(ctx, users, mongostore.All)
		if !errors.Is(err, mongostore.ErrClosed) || errkind.Of(err) != errkind.Closed {
			t.Errorf("%v Count after the parent's Close = %v, want ErrClosed", d, err)
		}
		if r := d.Check(ctx); r.Status != health.Down {
			t.Errorf("%v Check after the parent's Close = %+v", d, r)
		}
		if err := d.Close(ctx); err != nil {
			t.Errorf("derived Close after the parent's: %v", err)
		}
	}
	if _, err := parent.WithDatabase("other"); !errors.Is(err, mongostore.ErrClosed) {
		t.Errorf("WithDatabase after Close = %v, want ErrClosed", err)
	}
}

// Derived DBs in use while the parent closes: every call either completes
// or is ErrClosed, never another kind (run under -race).
func TestWithDatabaseCloseWhileInUse(t *testing.T) {
	ctx := ctxT(t)
	parent, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(t), Database: testenv.Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range cap(errs) {
		child, err := parent.WithDatabase(testenv.Namespace(t))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				if _, err := child.Count(ctx, lucidkeys.CollUsers, mongostore.All); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if err := parent.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for range cap(errs) {
		if err := <-errs; !errors.Is(err, mongostore.ErrClosed) || errkind.Of(err) != errkind.Closed {
			t.Errorf("a call racing the parent's Close = %v, want ErrClosed", err)
		}
	}
}
