//go:build !lucidfuzz

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/search"
)

// otlpSink is an OTLP/HTTP trace receiver: it keeps every span's name and
// its trace and parent ids.
type otlpSink struct {
	mu    sync.Mutex
	spans []sinkSpan
	posts int
}

type sinkSpan struct{ name, trace, parent, id string }

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	var req collectortrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
		http.Error(w, "bad export", 400)
		return
	}
	s.mu.Lock()
	s.posts++
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				s.spans = append(s.spans, sinkSpan{sp.Name, hex.EncodeToString(sp.TraceId), hex.EncodeToString(sp.ParentSpanId), hex.EncodeToString(sp.SpanId)})
			}
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Write(out)
}

// TestTelemetry serves the gateway with the telemetry run sets up, its
// OTLP endpoint an in-test receiver, and SDK clients built with its
// providers on the test servers: /metrics answers in the Prometheus text
// format with the gateway's request counter and histogram (by route
// pattern, never the path), the search and mongostore instruments, the Go
// runtime's metrics and no API key; on shutdown the spans reach the
// receiver, each route a server span with the SDK's client spans under it.
func TestTelemetry(t *testing.T) {
	ctx := context.Background()
	sink := &otlpSink{}
	collector := httptest.NewServer(sink)
	t.Cleanup(collector.Close)
	tel, err := newTelemetry(ctx, func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.shutdown(ctx) })
	if tel.endpoint != collector.URL+"/v1/traces" || tel.tracerProvider() == nil {
		t.Fatalf("endpoint %q, tracer %v", tel.endpoint, tel.tracerProvider())
	}
	f := newFixture(t)
	d := f.deps
	sc, err := search.Connect(ctx, search.Config{Addresses: []string{testenv.Search(t).URL}, IndexPrefix: f.ns + "-",
		TracerProvider: tel.tracerProvider(), MeterProvider: tel.mp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(t), Database: f.ns,
		TracerProvider: tel.tracerProvider(), MeterProvider: tel.mp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	d.Search, d.DB = sc, db
	c := f.serve(d, Options{TracerProvider: tel.tracerProvider(), MeterProvider: tel.mp, Metrics: tel.metricsHandler()})

	c.call("POST", "/api/v1/database/elasticsearch/search", key, `{"user_id":"u1","text":"merkle"}`, 200)
	c.call("GET", "/api/v1/database/mongodb/stats", key, "", 200)
	c.call("GET", "/api/v1/database/redis/session/"+f.session.ID+"?user_id=nobody", key, "", 404)
	c.call("GET", "/no/such/route", key, "", 404)

	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	text := string(b)
	for _, want := range []string{
		`lucid_gateway_requests_total{http_request_method="POST",http_response_status_code="200",http_route="/api/v1/database/elasticsearch/search"`,
		`lucid_gateway_requests_total{http_request_method="GET",http_response_status_code="404",http_route="/api/v1/database/redis/session/{id}"`,
		`lucid_gateway_requests_total{http_request_method="GET",http_response_status_code="404",http_route="unmatched"`,
		`lucid_gateway_request_duration_seconds_bucket{http_request_method="GET",http_route="/api/v1/database/mongodb/stats"`,
		`lucid_search_request_duration_seconds_bucket{db_operation="search"`,
		`lucid_search_request_duration_seconds_count{db_operation="connect"`,
		`lucid_mongo_command_duration_seconds_bucket{db_operation="dbStats"`,
		`lucid_mongo_pool_checkouts_total{`,
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, secret := range []string{key, f.session.ID, "/no/such/route"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics holds %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(text, "lucid_"))
	}

	if err := tel.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	byID := map[string]sinkSpan{}
	for _, s := range sink.spans {
		byID[s.id] = s
	}
	var server, client bool
	for _, s := range sink.spans {
		if s.name == "POST /api/v1/database/elasticsearch/search" && s.parent == "" {
			server = true
		}
		if p, ok := byID[s.parent]; ok && strings.HasPrefix(s.name, "search ") &&
			p.name == "POST /api/v1/database/elasticsearch/search" && p.trace == s.trace {
			client = true
		}
	}
	if sink.posts == 0 || !server || !client {
		names := []string{}
		for _, s := range sink.spans {
			names = append(names, s.name)
		}
		t.Errorf("%d exports; server span %v, search client span under it %v; spans %q", sink.posts, server, client, names)
	}
}

func grepLines(text, sub string) string {
	var b bytes.Buffer
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
