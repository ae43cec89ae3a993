//go:build !lucidfuzz

package search

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/HamiGames/lucid-data/errkind"
)

// TestTracing indexes a document holding a session token, reads it back,
// searches for the token, fails a search (a window past the engine's
// limit), reads a missing index and bulk-writes to two indices through a
// Client traced into an in-memory recorder, on the test engine: one client
// span per SDK request, named "<operation> <index>", with db.system,
// db.operation, the index, server.address and server.port; the failures
// carry the SDK's error kind; no attribute, event or status holds the
// token, the document or the query. A request through Transport() adds
// nothing to the caller's span.
func TestTracing(t *testing.T) {
	ctx := ctxT(t)
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(ctx) })
	c := newTestClient(t, Config{TracerProvider: tp})
	idx, idx2 := c.cfg.IndexPrefix+"obs", c.cfg.IndexPrefix+"obs2"
	const token, body = "session-token-that-must-not-leak-17", "document-body-that-must-not-leak"
	doc := map[string]any{"token": token, "body": body}
	if _, err := c.Index(ctx, idx, "doc-1", doc, &WriteOptions{Refresh: RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, idx, "doc-1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Search(ctx, idx, SearchRequest{Query: Term{Field: "token.keyword", Value: token}}); err != nil {
		t.Fatal(err)
	}
	_, searchErr := c.Search(ctx, idx, SearchRequest{Query: Term{Field: "token.keyword", Value: token}, From: 20000})
	if !errors.Is(searchErr, ErrInvalid) {
		t.Fatalf("search past the window: %v", searchErr)
	}
	if _, err := c.Get(ctx, c.cfg.IndexPrefix+"missing", "doc-1", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get in a missing index: %v", err)
	}
	b := c.NewBulkIndexer(BulkConfig{Workers: 1})
	for _, i := range []string{idx, idx2} {
		if err := b.Add(ctx, BulkItem{Index: i, Body: doc}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// A request through the escape hatch is not traced, and the caller's
	// span it carries is left alone.
	pctx, parent := tp.Tracer("test").Start(ctx, "caller")
	res, err := esapi.CatIndicesRequest{}.Do(pctx, c.Transport())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	parent.End()

	byName := map[string][]map[string]string{}
	for _, sp := range sr.Ended() {
		attrs := map[string]string{}
		for _, a := range sp.Attributes() {
			attrs[string(a.Key)] = a.Value.String()
		}
		byName[sp.Name()] = append(byName[sp.Name()], attrs)
		if sp.Name() == "caller" {
			if len(attrs) != 0 {
				t.Errorf("the caller's span was annotated: %v", attrs)
			}
			continue
		}
		var all strings.Builder
		fmt.Fprintf(&all, "%s %v %s", sp.Name(), attrs, sp.Status().Description)
		for _, e := range sp.Events() {
			fmt.Fprintf(&all, " %s %v", e.Name, e.Attributes)
		}
		for _, secret := range []string{token, body, "token.keyword", "20000"} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("span holds %q: %s", secret, all.String())
			}
		}
		if attrs["db.system"] != "opensearch" && attrs["db.system"] != "elasticsearch" ||
			attrs["server.address"] == "" || attrs["server.port"] == "" || attrs["db.operation"] == "" {
			t.Errorf("span %q attributes %v", sp.Name(), attrs)
		}
		if sp.SpanKind().String() != "client" {
			t.Errorf("span %q kind %v", sp.Name(), sp.SpanKind())
		}
	}
	want := func(name, op, index, kind string, n int) {
		t.Helper()
		spans := byName[name]
		if len(spans) != n {
			t.Errorf("%d spans %q, want %d; all %v", len(spans), name, n, keys(byName))
			return
		}
		failed := 0
		for _, a := range spans {
			if a["db.operation"] != op || a["db.elasticsearch.path_parts.index"] != index {
				t.Errorf("span %q: %v", name, a)
			}
			if a["lucid.error.kind"] != "" {
				failed++
				if a["lucid.error.kind"] != kind || a["error.type"] != kind {
					t.Errorf("span %q kind %q, want %q", name, a["lucid.error.kind"], kind)
				}
			}
		}
		if kind != "" && failed != 1 {
			t.Errorf("%d failed spans %q: %v", failed, name, spans)
		}
	}
	want("index "+idx, "index", idx, "", 1)
	want("get "+idx, "get", idx, "", 1)
	want("search "+idx, "search", idx, errkind.Of(searchErr).String(), 2)
	want("get "+c.cfg.IndexPrefix+"missing", "get", c.cfg.IndexPrefix+"missing", errkind.NotFound.String(), 1)
	want("bulk "+idx+","+idx2, "bulk", idx+","+idx2, "", 1)
	// Connect's GET /, before the product was known, still names it.
	if len(byName["connect"]) != 1 || byName["connect"][0]["db.system"] != string(c.Product()) {
		t.Errorf("connect spans %v", byName["connect"])
	}
	t.Logf("spans: %v", keys(byName))
}

// TestTracingNoop: OpenTelemetry's noop.TracerProvider, which never
// records a span, gives a Client without an observer (no span is started).
func TestTracingNoop(t *testing.T) {
	c := newTestClient(t, Config{TracerProvider: noop.NewTracerProvider()})
	if c.obs != nil {
		t.Fatal("a noop tracer provider installed an observer")
	}
	if err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
