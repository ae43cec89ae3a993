//go:build !lucidfuzz

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/internal/testlog"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/search"
	"github.com/HamiGames/lucid-data/volume"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }

// issueRoutes is the route list of issue 13, written out independently of
// the routes table so the document is checked against the specification.
var issueRoutes = []string{
	"POST /api/v1/database/mongodb/query",
	"GET /api/v1/database/mongodb/stats",
	"POST /api/v1/database/redis/cache",
	"GET /api/v1/database/redis/session/{id}",
	"POST /api/v1/database/elasticsearch/search",
	"GET /api/v1/database/elasticsearch/analytics",
	"POST /api/v1/database/backup/create",
	"GET /api/v1/database/backup/status",
	"GET /api/v1/database/volumes",
	"POST /api/v1/database/volumes/{name}/backup",
	"GET /health",
}

const key = "test-key-0123456789"

// lockedBuffer is internal/testlog's goroutine-safe buffer.
type lockedBuffer = testlog.Buffer

type fixture struct {
	t       *testing.T
	deps    Deps
	ns      string
	session cache.Session
	logs    *lockedBuffer
}

// newFixture connects to testenv's servers and seeds a user, a login
// session, three session events and a volume.
func newFixture(t *testing.T) *fixture {
	ctx := context.Background()
	ns := testenv.Namespace(t)
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(t), Database: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := db.InsertOne(ctx, lucidkeys.CollUsers, map[string]any{
		"user_id": "u1", "email": "ada@example.org", "password_hash": "secret-hash", "roles": []string{"User"},
		"status": "active", "created_at": now, "updated_at": now,
	}); err != nil {
		t.Fatal(err)
	}
	c, err := cache.Connect(ctx, cache.Config{URL: testenv.RedisURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	store, _ := c.Sessions(cache.SessionOptions{})
	sess, err := store.Create(ctx, "u1-"+ns, map[string]string{"role": "User"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := search.Connect(ctx, search.Config{Addresses: []string{testenv.Search(t).URL}, IndexPrefix: ns + "-"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	for i, st := range []string{"active", "completed", "active"} {
		doc := map[string]any{"session_id": "s" + string(rune('0'+i)), "user_id": "u1", "status": st,
			"title": []string{"merkle proof upload", "screen share", "merkel proof retry"}[i], "created_at": now}
		wo := &search.WriteOptions{}
		if i == 2 {
			wo.Refresh = search.RefreshWaitFor
		}
		if _, err := sc.IndexEntity(ctx, lucidkeys.EntitySessions, doc["session_id"].(string), doc, now, wo); err != nil {
			t.Fatal(err)
		}
	}
	vols, err := volume.New(volume.Config{Root: t.TempDir(), DefaultQuota: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vols.Create(ctx, "sessions", lucidkeys.VolumeSessions, 0)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(v.Path, "chunk-0"), bytes.Repeat([]byte("lucid "), 1000), 0o644)
	id, _ := age.GenerateX25519Identity()
	bk, err := backup.NewLocal(t.TempDir(), backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}, Checkers: volumepart.Checkers()})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ns: ns, session: sess, logs: &lockedBuffer{},
		deps: Deps{DB: db, Cache: c, Search: sc, Volumes: vols, Backups: bk}}
}

type client struct {
	t    *testing.T
	base string
}

func (f *fixture) serve(d Deps, o Options) client {
	if o.APIKeys == nil {
		o.APIKeys = []string{"other-key", key}
	}
	if o.LimitEntity == "" {
		o.LimitEntity = f.ns
	}
	o.Log = slog.New(slog.NewTextHandler(f.logs, nil))
	h, err := newHandler(d, o)
	if err != nil {
		f.t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	f.t.Cleanup(srv.Close)
	return client{t: f.t, base: srv.URL}
}

// call sends a request with the API key in auth ("" for none) and checks the
// status; error statuses must carry a JSON error.
func (c client) call(method, path, auth, body string, status int) (http.Header, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if auth != "" {
		req.Header.Set("X-API-Key", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if status >= 400 && status != 429 && (out == nil || out["error"] == nil) && !(status == 503 && path == "/health") {
		c.t.Errorf("%s %s: %d without a JSON error: %s", method, path, status, b)
	}
	return resp.Header, out
}

func TestOpenAPI(t *testing.T) {
	f := newFixture(t)
	c := f.serve(f.deps, Options{})
	_, doc := c.call("GET", "/openapi.json", "", "", 200)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi version %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	n := 0
	for _, r := range issueRoutes {
		method, path, _ := strings.Cut(r, " ")
		ops, ok := paths[path].(map[string]any)
		if !ok || ops[strings.ToLower(method)] == nil {
			t.Errorf("%s missing from /openapi.json", r)
		}
		n++
	}
	total := 0
	for _, ops := range paths {
		total += len(ops.(map[string]any))
	}
	for _, r := range []string{"/openapi.json", "/metrics"} {
		if ops, ok := paths[r].(map[string]any); !ok || ops["get"] == nil {
			t.Errorf("GET %s missing from /openapi.json", r)
		}
	}
	if total != n+2 { // + /openapi.json itself and /metrics
		t.Errorf("document has %d operations, want the issue's %d, /openapi.json and /metrics", total, n)
	}
	// Every operation of the document is served (not 404/405) without a key
	// as 401, or publicly.
	for path, ops := range paths {
		for method := range ops.(map[string]any) {
			p := strings.NewReplacer("{id}", "x", "{name}", "x").Replace(path)
			req, _ := http.NewRequest(strings.ToUpper(method), c.base+p, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 404 || resp.StatusCode == 405 {
				t.Errorf("%s %s in the document is not served: %d", method, path, resp.StatusCode)
			}
		}
	}
}

// TestRoutes calls every route with good and bad input and a missing key.
func TestRoutes(t *testing.T) {
	f := newFixture(t)
	c := f.serve(f.deps, Options{MaxBody: 1 << 10})

	// No key, a wrong key, the Bearer form.
	for _, r := range issueRoutes {
		method, path, _ := strings.Cut(r, " ")
		if path == "/health" {
			continue
		}
		path = strings.NewReplacer("{id}", "x", "{name}", "sessions").Replace(path)
		c.call(method, path, "", "", 401)
		c.call(method, path, "wrong", "", 401)
	}
	req, _ := http.NewRequest("GET", c.base+"/api/v1/database/volumes", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("Bearer key: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// /health.
	_, h := c.call("GET", "/health", "", "", 200)
	if h["status"] != "up" {
		t.Errorf("/health: %v", h)
	}
	for _, name := range []string{"mongodb", "cache", "search", "volumes"} {
		if h["checks"].(map[string]any)[name] == nil {
			t.Errorf("/health lacks %s: %v", name, h)
		}
	}

	// mongodb/query.
	q := "/api/v1/database/mongodb/query"
	hdr, out := c.call("POST", q, key, `{"collection":"users","filter":{"email":"ada@example.org"}}`, 200)
	docs := out["documents"].([]any)
	if len(docs) != 1 || docs[0].(map[string]any)["user_id"] != "u1" {
		t.Fatalf("query: %v", out)
	}
	if _, leaked := docs[0].(map[string]any)["password_hash"]; leaked {
		t.Errorf("query returned password_hash: %v", docs[0])
	}
	if hdr.Get("RateLimit-Policy") == "" || hdr.Get("RateLimit") == "" {
		t.Errorf("no RateLimit headers: %v", hdr)
	}
	c.call("POST", q, key, `{"collection":"users","filter":{"email":"nobody@example.org"}}`, 200)
	// No conditions lists the collection, bounded by the limit.
	if _, out := c.call("POST", q, key, `{"collection":"users","filter":{},"limit":1}`, 200); out["count"] != float64(1) {
		t.Errorf("empty filter, limit 1: %v", out)
	}
	for _, inj := range []string{
		`{"collection":"users","filter":{"email":{"$ne":""}}}`,
		`{"collection":"users","filter":{"$where":"sleep(1000)"}}`,
		`{"collection":"users","filter":{"email":{"$regex":".*"}}}`,
	} {
		if _, out := c.call("POST", q, key, inj, 400); !strings.Contains(out["error"].(string), "injection") {
			t.Errorf("%s: refused, but not as an injection: %v", inj, out)
		}
	}
	for _, bad := range []string{
		`{"collection":"api_keys","filter":{}}`,
		`{"collection":"users","filter":{},"sort":{"x":1}}`,
		`{"collection":`,
		`{"collection":"users"} {"collection":"users"}`,
		`[1,2]`,
	} {
		c.call("POST", q, key, bad, 400)
	}
	c.call("POST", q, key, `{"collection":"users","filter":{"email":"`+strings.Repeat("a", 2<<10)+`"}}`, 413)
	c.call("GET", q, key, "", 405)

	// mongodb/stats.
	_, out = c.call("GET", "/api/v1/database/mongodb/stats", key, "", 200)
	if out["database"] != f.ns || out["server"] == nil {
		t.Errorf("stats: %v", out)
	}

	// redis/cache.
	rc := "/api/v1/database/redis/cache"
	_, out = c.call("POST", rc, key, `{"key":"k1","value":{"a":1},"ttl_seconds":60}`, 201)
	if out["ttl_seconds"].(float64) < 55 {
		t.Errorf("cache ttl: %v", out)
	}
	c.call("POST", rc, key, `{"key":"k1"}`, 400)
	c.call("POST", rc, key, `{"key":"bad key","value":1}`, 400)
	c.call("POST", rc, key, `{"key":"k2","value":1,"ttl_seconds":-1}`, 400)

	// redis/session/{id}.
	rs := "/api/v1/database/redis/session/"
	_, out = c.call("GET", rs+f.session.ID+"?user_id=u1-"+f.ns, key, "", 200)
	if out["id"] != f.session.ID || out["token"] != nil {
		t.Errorf("session: %v", out)
	}
	c.call("GET", rs+"nope?user_id=u1-"+f.ns, key, "", 404)
	c.call("GET", rs+f.session.ID, key, "", 400)

	// elasticsearch.
	es := "/api/v1/database/elasticsearch/search"
	_, out = c.call("POST", es, key, `{"user_id":"u1","text":"merkle proof"}`, 200)
	if out["total"].(float64) != 2 {
		t.Errorf("search: %v", out)
	}
	_, out = c.call("POST", es, key, `{"user_id":"u1","status":["completed"]}`, 200)
	if out["total"].(float64) != 1 {
		t.Errorf("search by status: %v", out)
	}
	c.call("POST", es, key, `{"text":"x"}`, 400)
	c.call("POST", es, key, `{"user_id":"u1","query":{"match_all":{}}}`, 400)
	_, out = c.call("GET", "/api/v1/database/elasticsearch/analytics", key, "", 200)
	if by := out["by_status"].(map[string]any); by["active"].(float64) != 2 || by["completed"].(float64) != 1 {
		t.Errorf("analytics: %v", out)
	}

	// volumes and backups.
	_, out = c.call("GET", "/api/v1/database/volumes", key, "", 200)
	if out["count"].(float64) != 1 || out["volumes"].([]any)[0].(map[string]any)["status"] != "up" {
		t.Errorf("volumes: %v", out)
	}
	_, out = c.call("POST", "/api/v1/database/volumes/sessions/backup", key, "", 201)
	if len(out["parts"].([]any)) != 1 {
		t.Errorf("volume backup: %v", out)
	}
	c.call("POST", "/api/v1/database/volumes/nope/backup", key, "", 404)
	c.call("POST", "/api/v1/database/volumes/..%2Fetc/backup", key, "", 400)
	_, out = c.call("POST", "/api/v1/database/backup/create", key, `{"volumes":["sessions"]}`, 201)
	id := out["id"].(string)
	c.call("POST", "/api/v1/database/backup/create", key, "", 201)
	c.call("POST", "/api/v1/database/backup/create", key, `{"volumes":["nope"]}`, 404)
	c.call("POST", "/api/v1/database/backup/create", key, `{"volumes":"sessions"}`, 400)

	// A backup already running (the lock is held elsewhere): 409.
	locker, _ := f.deps.Cache.Locker(cache.LockerOptions{Entity: f.ns + "-backup"})
	lock, err := locker.Obtain(context.Background(), "backup", cache.LockOptions{TTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.call("POST", "/api/v1/database/backup/create", key, "", 409)
	lock.Release(context.Background())

	_, out = c.call("GET", "/api/v1/database/backup/status", key, "", 200)
	if out["count"].(float64) != 3 || out["running"] != false {
		t.Errorf("backup status: %v", out)
	}
	if err := func() error { _, err := f.deps.Backups.Verify(context.Background(), id); return err }(); err != nil {
		t.Errorf("verify %s: %v", id, err)
	}

	c.call("GET", "/api/v1/database/nothing", key, "", 404)

	if l := f.logs.String(); strings.Contains(l, key) || strings.Contains(l, "ada@example.org") || !strings.Contains(l, "status=201") {
		t.Errorf("request log holds a secret or lacks requests:\n%s", l)
	}
}

// TestLimitsAndOutages: per-key limits (429 with the IETF headers), search
// not configured and a cache that is down (503).
func TestLimitsAndOutages(t *testing.T) {
	f := newFixture(t)
	c := f.serve(f.deps, Options{Limit: 3})
	for range 3 {
		c.call("GET", "/api/v1/database/volumes", key, "", 200)
	}
	hdr, _ := c.call("GET", "/api/v1/database/volumes", key, "", 429)
	if hdr.Get("Retry-After") == "" || hdr.Get("RateLimit-Policy") != "3;w=60" {
		t.Errorf("429 headers: %v", hdr)
	}
	c.call("GET", "/api/v1/database/volumes", "other-key", "", 200) // another key has its own budget

	d := f.deps
	d.Search = nil
	c = f.serve(d, Options{})
	c.call("POST", "/api/v1/database/elasticsearch/search", key, `{"user_id":"u1"}`, 503)
	c.call("GET", "/api/v1/database/elasticsearch/analytics", key, "", 503)
	_, h := c.call("GET", "/health", "", "", 200)
	if h["checks"].(map[string]any)["search"] != nil {
		t.Errorf("/health lists an unconfigured search: %v", h)
	}

	m := cache.NewMemory()
	d.Cache = m
	c = f.serve(d, Options{})
	c.call("GET", "/api/v1/database/volumes", key, "", 200)
	m.Close()
	c.call("GET", "/api/v1/database/volumes", key, "", 503) // the limiter fails closed
	time.Sleep(1100 * time.Millisecond)                     // past the aggregator's result cache
	c.call("GET", "/health", "", "", 503)
}

// TestGracefulShutdown runs the command on embedded defaults and stops it
// with SIGTERM.
func TestGracefulShutdown(t *testing.T) {
	if err := run(context.Background(), nil, func(string) string { return "" }, slog.New(slog.DiscardHandler), nil); err == nil {
		t.Fatal("run without API keys succeeded")
	}
	dir := t.TempDir()
	logs := &lockedBuffer{}
	env := map[string]string{"LUCID_GATEWAY_API_KEYS": key, "LUCID_GATEWAY_LIMIT_ENTITY": testenv.Namespace(t)}
	addrc, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"-addr", "127.0.0.1:0", "-root", filepath.Join(dir, "vols"), "-backup-dir", filepath.Join(dir, "backups")},
			func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(logs, nil)), func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	c := client{t: t, base: "http://" + addr}
	c.call("GET", "/health", "", "", 200)
	c.call("GET", "/api/v1/database/mongodb/stats", key, "", 200)
	c.call("POST", "/api/v1/database/elasticsearch/search", key, `{"user_id":"u1"}`, 503)
	// run serves /metrics through the OTel Prometheus exporter.
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`lucid_gateway_requests_total{http_request_method="GET",http_response_status_code="200",http_route="/health"`,
		`lucid_mongo_command_duration_seconds_count{db_operation="dbStats"`, "go_goroutines "} {
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("run's /metrics (%d) lacks %s", resp.StatusCode, want)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop on SIGTERM")
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("still listening")
	}
	if _, err := os.Stat(filepath.Join(dir, "backups.key")); err != nil {
		t.Errorf("no identity generated: %v", err)
	}
	for _, want := range []string{"generated a backup identity", "listening", "shutting down", "stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "AGE-SECRET-KEY") || strings.Contains(logs.String(), key) {
		t.Errorf("log holds a secret:\n%s", logs.String())
	}
}
