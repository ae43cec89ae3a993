//go:build !lucidfuzz

package mongostore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
)

// TestTracing runs an insert, a duplicate insert, a find and a failing
// aggregation through a DB traced into an in-memory recorder, on the test
// server: one client span per command, named "<command> <collection>", with
// db.system, db.name, db.operation, db.mongodb.collection and the server
// address; the duplicate and the failure carry the SDK's error kind; no
// attribute, event or status holds a document value, a filter value or the
// session token stored in the document.
func TestTracing(t *testing.T) {
	ctx := ctxT(t)
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(ctx) })
	db := connect(t, mongostore.Config{TracerProvider: tp, SkipValidation: true})
	const coll = lucidkeys.Collection("obs_trace")
	const token, body = "session-token-that-must-not-leak-17", "document-body-that-must-not-leak"
	doc := bson.D{{Key: "_id", Value: "doc-1"}, {Key: "token", Value: token}, {Key: "body", Value: body}}
	if _, err := db.InsertOne(ctx, coll, doc); err != nil {
		t.Fatal(err)
	}
	_, err := db.InsertOne(ctx, coll, doc)
	if !errors.Is(err, mongostore.ErrDuplicate) {
		t.Fatalf("second insert: %v", err)
	}
	var out bson.M
	if err := db.FindOne(ctx, coll, bson.D{{Key: "token", Value: token}}, &out, nil); err != nil {
		t.Fatal(err)
	}
	aggErr := db.Aggregate(ctx, coll, bson.A{bson.D{{Key: "$noSuchStage" + body, Value: token}}}, &[]bson.M{})
	if aggErr == nil {
		t.Fatal("aggregation with an unknown stage succeeded")
	}

	spans := sr.Ended()
	byName := map[string][]map[string]string{}
	for _, sp := range spans {
		attrs := map[string]string{}
		for _, a := range sp.Attributes() {
			attrs[string(a.Key)] = a.Value.String()
		}
		byName[sp.Name()] = append(byName[sp.Name()], attrs)
		var all strings.Builder
		fmt.Fprintf(&all, "%s %v %s", sp.Name(), attrs, sp.Status().Description)
		for _, e := range sp.Events() {
			fmt.Fprintf(&all, " %s %v", e.Name, e.Attributes)
		}
		for _, secret := range []string{token, body} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("span holds %q: %s", secret, all.String())
			}
		}
		if attrs["db.system"] != "mongodb" || attrs["server.address"] == "" || attrs["server.port"] == "" || attrs["db.operation"] == "" {
			t.Errorf("span %q attributes %v", sp.Name(), attrs)
		}
		if strings.HasPrefix(sp.Name(), "sasl") || strings.HasPrefix(sp.Name(), "hello") {
			t.Errorf("handshake traced: %q", sp.Name())
		}
	}
	name := testenvDB(db)
	inserts := byName["insert obs_trace"]
	if len(inserts) != 2 {
		t.Fatalf("insert spans %v; all %v", inserts, keys(byName))
	}
	for _, a := range inserts {
		if a["db.name"] != name || a["db.mongodb.collection"] != "obs_trace" || a["db.operation"] != "insert" {
			t.Errorf("insert span %v", a)
		}
	}
	if inserts[0]["lucid.error.kind"] != "" || inserts[1]["lucid.error.kind"] != errkind.AlreadyExists.String() ||
		inserts[1]["error.type"] != errkind.AlreadyExists.String() {
		t.Errorf("insert spans' error kinds: %q, %q", inserts[0]["lucid.error.kind"], inserts[1]["lucid.error.kind"])
	}
	if len(byName["find obs_trace"]) != 1 {
		t.Errorf("find spans %v; all %v", byName["find obs_trace"], keys(byName))
	}
	// The span of the failed aggregate command carries the kind the call
	// returned.
	agg, failed := byName["aggregate obs_trace"], 0
	for _, a := range agg {
		if k := a["lucid.error.kind"]; k != "" {
			failed++
			if k != errkind.Of(aggErr).String() {
				t.Errorf("aggregate span kind %q, the call's %q", k, errkind.Of(aggErr))
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed aggregate spans among %v", failed, agg)
	}
	t.Logf("spans: %v", keys(byName))
}

func testenvDB(db *mongostore.DB) string { return db.Database().Name() }

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
