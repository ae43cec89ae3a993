//go:build !lucidfuzz

package mongostore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestRegexAndJavaScriptRefusedOnServer (issue 18 §3) on the test server:
// a regex that a request body carries as extended JSON matches a stored
// secret by prefix when sent, so AllowListedFilter must refuse it; JavaScript
// in Filter.Eq makes FerretDB drop the connection (the SDK used to retry
// that as Unavailable until its deadline), so the builder refuses it and
// nothing is sent.
func TestRegexAndJavaScriptRefusedOnServer(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	raw := db.Database().Collection("secrets")
	if _, err := raw.InsertOne(ctx, bson.D{{Key: "user", Value: "ada"}, {Key: "pw", Value: "s3cret"}, {Key: "email", Value: "ada@example.com"}}); err != nil {
		t.Fatal(err)
	}

	body := []byte(`{"pw": {"$regularExpression": {"pattern": "^s3", "options": ""}}}`)
	var decoded bson.D
	if err := bson.UnmarshalExtJSON(body, false, &decoded); err != nil {
		t.Fatal(err)
	}
	// The threat is real on this server: sent as is, the pattern matches.
	if n, err := raw.CountDocuments(ctx, decoded); err != nil || n != 1 {
		t.Fatalf("unguarded {pw: /^s3/} = %d, %v; the server should match it", n, err)
	}
	if f, err := mongostore.AllowListedFilter(decoded); !errors.Is(err, mongostore.ErrInjection) {
		t.Errorf("AllowListedFilter({pw: /^s3/}) = %v, %v; want ErrInjection", f, err)
	}
	if f, err := mongostore.NewFilter().In("email", bson.Regex{Pattern: ".*"}).Build(); !errors.Is(err, mongostore.ErrInjection) {
		t.Errorf("Filter.In(email, /.*/) = %v, %v; want ErrInjection", f, err)
	}

	// What a handler does: build, and reach the server only when that worked.
	calls := 0
	count := func(ctx context.Context, f *mongostore.Filter) (int64, error) {
		d, err := f.Build()
		if err != nil {
			return 0, err
		}
		calls++
		return db.Count(ctx, "secrets", d)
	}
	start := time.Now()
	_, err := count(ctx, mongostore.NewFilter().Eq("pw", bson.JavaScript("function() { return true }")))
	if !errors.Is(err, mongostore.ErrInjection) || calls != 0 {
		t.Errorf("Eq(JavaScript) = %v after %d server calls, want ErrInjection and none", err, calls)
	}
	t.Logf("Eq(JavaScript) refused in %v", time.Since(start))

	// The explicit pattern filter works on the server, and the connection
	// is healthy afterwards.
	n, err := count(ctx, mongostore.NewFilter().Regex("user", "ad", mongostore.RegexOptions{Literal: true, Anchored: true}))
	if err != nil || n != 1 || calls != 1 {
		t.Errorf("Filter.Regex(user, ^ad) = %d, %v", n, err)
	}
	n, err = count(ctx, mongostore.NewFilter().Regex("user", "ADA", mongostore.RegexOptions{Literal: true, CaseInsensitive: true}))
	if err != nil || n != 1 {
		t.Errorf("Filter.Regex(user, ADA, i) = %d, %v", n, err)
	}
	n, err = count(ctx, mongostore.NewFilter().Regex("user", "a.a", mongostore.RegexOptions{Literal: true}))
	if err != nil || n != 0 {
		t.Errorf("Filter.Regex(user, literal a.a) = %d, %v; want no match", n, err)
	}
}
