// Command gateway is an HTTP gateway over the SDK serving Lucid's data-tier
// integration routes:
//
//	POST /api/v1/database/mongodb/query            a filtered find on an allowed collection
//	GET  /api/v1/database/mongodb/stats            database statistics and server health
//	POST /api/v1/database/redis/cache              store a cache value
//	GET  /api/v1/database/redis/session/{id}       a login session by id (?user_id=)
//	POST /api/v1/database/elasticsearch/search     full-text search of a user's sessions
//	GET  /api/v1/database/elasticsearch/analytics  session counts by status and per day
//	POST /api/v1/database/backup/create            back up volumes (all, or those named)
//	GET  /api/v1/database/backup/status            the backups and whether one is running
//	GET  /api/v1/database/volumes                  volumes with usage and health
//	POST /api/v1/database/volumes/{name}/backup    back up one volume
//	GET  /health                                   every component's health (503 when down)
//	GET  /openapi.json                             the OpenAPI 3 document of these routes
//	GET  /metrics                                  Prometheus metrics (the gateway's, the SDK clients', volumes')
//
// Every /api route needs an API key (X-API-Key, or Authorization: Bearer),
// compared in constant time; each key is rate-limited (cache.Middleware, with
// the IETF RateLimit headers). Query filters are equality filters built with
// mongostore.Filter, so no operator reaches MongoDB from a request; bodies are
// capped (413); errors are JSON with the status their errkind implies (400,
// 401, 404, 409, 413, 429, 503); every request is logged with slog, without
// keys or bodies; SIGINT and SIGTERM shut it down gracefully.
//
//	LUCID_GATEWAY_API_KEYS=dev-key go run ./examples/gateway -addr 127.0.0.1:8081
//	curl -s -H 'X-API-Key: dev-key' localhost:8081/api/v1/database/volumes
//
// Servers come from LUCID_MONGO_URI (else an embedded FerretDB),
// LUCID_REDIS_URL (else cache.NewMemory) and LUCID_SEARCH_URL (else the search
// routes answer 503); volumes live under LUCID_VOLUME_ROOT (-root), backups
// in -backup-dir, encrypted with age to the identity in -age-identity (a
// new one is generated there when the file does not exist).
//
// Metrics: the SDK clients' OpenTelemetry instruments and the gateway's own
// (lucid_gateway_requests_total{http_route,http_request_method,
// http_response_status_code}, lucid_gateway_request_duration_seconds) go
// through the OTel Prometheus exporter to /metrics, beside the volume
// monitor's lucid_volume_* gauges and the Go runtime's. Traces: when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set, every request is a server span, the SDK's client spans under it,
// batched to that OTLP/HTTP endpoint; unset, nothing is traced.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"filippo.io/age"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/mongostore/embedded"
	"github.com/HamiGames/lucid-data/search"
	"github.com/HamiGames/lucid-data/volume"
	"github.com/HamiGames/lucid-data/volume/volumeprom"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], os.Getenv, log, nil); err != nil {
		log.Error("gateway stopped", "err", err)
		os.Exit(1)
	}
}

// Deps are the SDK clients the gateway serves. Search may be nil.
type Deps struct {
	DB      *mongostore.DB
	Cache   cache.Backend
	Search  *search.Client
	Volumes volume.Manager
	Backups *backup.Manager
}

// Options configures the gateway's handler.
type Options struct {
	// APIKeys are the accepted keys; at least one.
	APIKeys []string
	// Collections are those the query route may read; default users,
	// sessions, blocks, transactions.
	Collections []lucidkeys.Collection
	// Limit requests per key per Window; default 600 a minute.
	Limit  int64
	Window time.Duration
	// LimitEntity is the limiter keys' entity segment; default "gateway".
	LimitEntity string
	// MaxBody caps a request body; default 64 KiB.
	MaxBody int64
	// MaxResults caps the documents of one query; default 100.
	MaxResults int64
	// Log receives request lines; never keys or bodies.
	Log *slog.Logger
	// TracerProvider, when set, traces every request as a server span
	// (the SDK's client spans nest under it); nil traces nothing.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, receives the gateway's request counter and
	// duration histogram (lucid.gateway.requests,
	// lucid.gateway.request.duration); nil measures nothing.
	MeterProvider metric.MeterProvider
	// Metrics serves GET /metrics (the Prometheus text format); nil
	// answers 503.
	Metrics http.Handler
}

// route is one API route; the mux and the OpenAPI document are built from
// the same table.
type route struct {
	method, path, summary string
	body                  string // request body schema name, "" for none
	public                bool   // no API key (probes, the document itself)
	handle                func(*gateway, http.ResponseWriter, *http.Request) error
}

var routes = []route{
	{"POST", "/api/v1/database/mongodb/query", "Find documents of an allowed collection by equality filters", "Query", false, (*gateway).query},
	{"GET", "/api/v1/database/mongodb/stats", "Database statistics and server health", "", false, (*gateway).mongoStats},
	{"POST", "/api/v1/database/redis/cache", "Store a value in the cache", "CacheSet", false, (*gateway).cacheSet},
	{"GET", "/api/v1/database/redis/session/{id}", "A login session by its id (query user_id required)", "", false, (*gateway).session},
	{"POST", "/api/v1/database/elasticsearch/search", "Full-text search of a user's sessions", "Search", false, (*gateway).search},
	{"GET", "/api/v1/database/elasticsearch/analytics", "Session counts by status and per day", "", false, (*gateway).analytics},
	{"POST", "/api/v1/database/backup/create", "Back up volumes (all, or those named)", "BackupCreate", false, (*gateway).backupCreate},
	{"GET", "/api/v1/database/backup/status", "The backups and whether one is running", "", false, (*gateway).backupStatus},
	{"GET", "/api/v1/database/volumes", "Volumes with usage and health", "", false, (*gateway).volumes},
	{"POST", "/api/v1/database/volumes/{name}/backup", "Back up one volume", "", false, (*gateway).volumeBackup},
	{"GET", "/health", "Health of every component (503 when the tier is down)", "", true, nil},
	{"GET", "/openapi.json", "This OpenAPI 3 document", "", true, nil},
	{"GET", "/metrics", "Prometheus metrics of the gateway and the SDK's clients", "", true, nil},
}

type gateway struct {
	Deps
	o       Options
	keys    [][sha256.Size]byte
	allowed map[lucidkeys.Collection]bool
	locker  cache.Locker
	running atomic.Int32
	agg     *health.Aggregator
}

// httpError is an error with the status and message a client sees.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// newHandler returns the gateway's routes over d.
func newHandler(d Deps, o Options) (http.Handler, error) {
	if len(o.APIKeys) == 0 {
		return nil, errors.New("gateway: no API key configured")
	}
	if o.Collections == nil {
		o.Collections = []lucidkeys.Collection{lucidkeys.CollUsers, lucidkeys.CollSessions, lucidkeys.CollBlocks, lucidkeys.CollTransactions}
	}
	if o.Limit == 0 {
		o.Limit = 600
	}
	if o.Window == 0 {
		o.Window = time.Minute
	}
	if o.LimitEntity == "" {
		o.LimitEntity = "gateway"
	}
	if o.MaxBody == 0 {
		o.MaxBody = 64 << 10
	}
	if o.MaxResults == 0 {
		o.MaxResults = 100
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	g := &gateway{Deps: d, o: o, allowed: map[lucidkeys.Collection]bool{}}
	for _, k := range o.APIKeys {
		if k == "" {
			return nil, errors.New("gateway: empty API key")
		}
		g.keys = append(g.keys, sha256.Sum256([]byte(k)))
	}
	for _, c := range o.Collections {
		g.allowed[c] = true
	}
	var err error
	if g.locker, err = d.Cache.Locker(cache.LockerOptions{Entity: o.LimitEntity + "-backup"}); err != nil {
		return nil, err
	}
	limiter, err := d.Cache.Limiter(cache.LimiterOptions{Entity: o.LimitEntity, FailurePolicy: cache.FailClosed, Logger: o.Log})
	if err != nil {
		return nil, err
	}
	perKey, err := cache.Middleware(limiter, cache.MiddlewareOptions{
		Limit: o.Limit, Window: o.Window, Logger: o.Log,
		// The key's hash names it: the limiter never stores a key.
		Key: func(r *http.Request) (string, error) {
			k, _ := apiKey(r)
			sum := sha256.Sum256([]byte(k))
			return "key:" + hex.EncodeToString(sum[:12]), nil
		},
	})
	if err != nil {
		return nil, err
	}

	g.agg = health.NewAggregator(health.Options{Logger: o.Log})
	checks := []struct {
		name string
		c    health.Checker
		opt  health.CheckOptions
	}{
		{"mongodb", mongoChecker(d.DB), health.CheckOptions{}},
		{"cache", d.Cache, health.CheckOptions{}},
		{"volumes", d.Volumes, health.CheckOptions{}},
	}
	if d.Search != nil {
		checks = append(checks, struct {
			name string
			c    health.Checker
			opt  health.CheckOptions
		}{"search", d.Search, health.CheckOptions{Optional: true}})
	}
	for _, c := range checks {
		if err := g.agg.Register(c.name, c.c, c.opt); err != nil {
			return nil, err
		}
	}

	doc, err := openAPI()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, rt := range routes {
		pattern := rt.method + " " + rt.path
		switch rt.path {
		case "/health":
			mux.Handle(pattern, g.agg.ReadyHandler())
		case "/metrics":
			if o.Metrics != nil {
				mux.Handle(pattern, o.Metrics)
			} else {
				mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
					writeError(w, http.StatusServiceUnavailable, "metrics not configured")
				})
			}
		case "/openapi.json":
			mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(doc)
			})
		default:
			h := rt.handle
			mux.Handle(pattern, g.auth(perKey(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Body = http.MaxBytesReader(w, r.Body, o.MaxBody)
				if err := h(g, w, r); err != nil {
					g.fail(w, r, err)
				}
			}))))
		}
	}
	var hm *httpMeters
	if o.MeterProvider != nil {
		if hm, err = newHTTPMeters(o.MeterProvider); err != nil {
			return nil, err
		}
	}
	return observe(g.logRequests(jsonErrors(mux)), o.TracerProvider, hm), nil
}

func apiKey(r *http.Request) (string, bool) {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k, true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
		return tok, true
	}
	return "", false
}

// auth admits requests carrying a configured key. Keys are compared as
// SHA-256 digests in constant time, so neither content nor length leaks
// through timing, and every configured key is compared.
func (g *gateway) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, ok := apiKey(r)
		sum := sha256.Sum256([]byte(k))
		match := 0
		for i := range g.keys {
			match |= subtle.ConstantTimeCompare(sum[:], g.keys[i][:])
		}
		if !ok || match != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lucid-gateway"`)
			writeError(w, http.StatusUnauthorized, "missing or unknown API key")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// decode reads a JSON body into v: malformed or unknown fields are 400,
// past MaxBody 413.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", tooBig.Limit)
		}
		return errorf(http.StatusBadRequest, "malformed JSON body: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "one JSON object expected")
	}
	return nil
}

// queryRequest is the body of the query route.
type queryRequest struct {
	Collection string         `json:"collection"`
	Filter     map[string]any `json:"filter"`
	Limit      int64          `json:"limit"`
}

func (g *gateway) query(w http.ResponseWriter, r *http.Request) error {
	var q queryRequest
	if err := decode(r, &q); err != nil {
		return err
	}
	coll := lucidkeys.Collection(q.Collection)
	if !g.allowed[coll] {
		return errorf(http.StatusBadRequest, "collection %q is not queryable here", q.Collection)
	}
	if q.Limit <= 0 || q.Limit > g.o.MaxResults {
		q.Limit = g.o.MaxResults
	}
	// Only equality on plain values: Filter.Eq refuses $-fields and
	// operator documents ({"$ne": ""}) with mongostore.ErrInjection.
	f := mongostore.NewFilter()
	for k, v := range q.Filter {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v = i
			} else if x, err := n.Float64(); err == nil {
				v = x
			}
		}
		f = f.Eq(k, v)
	}
	built, err := f.Build()
	if err != nil {
		return err
	}
	// No conditions lists the collection (bounded by Limit): the SDK wants
	// that said explicitly, so an empty filter never means "all" by accident.
	var filter any = built
	if len(q.Filter) == 0 {
		filter = mongostore.All
	}
	var docs []map[string]any
	if err := g.DB.Find(r.Context(), coll, filter, &docs, &mongostore.FindOptions{
		Limit: q.Limit, Projection: map[string]int{"password_hash": 0},
	}); err != nil {
		return err
	}
	if docs == nil {
		docs = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"collection": coll, "count": len(docs), "documents": docs})
	return nil
}

func (g *gateway) mongoStats(w http.ResponseWriter, r *http.Request) error {
	st, err := g.DB.DatabaseStats(r.Context())
	if err != nil {
		return err
	}
	h, err := g.DB.Health(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"database": st.Database, "collections": st.Collections, "objects": st.Objects,
		"data_size": st.DataSize, "storage_size": st.StorageSize, "indexes": st.Indexes, "index_size": st.IndexSize,
		"server": map[string]any{"product": h.Product, "version": h.Version, "latency_ms": float64(h.Latency.Microseconds()) / 1000,
			"writable_primary": h.WritablePrimary, "replica_set": h.SetName},
	})
	return nil
}

type cacheRequest struct {
	Key        string          `json:"key"`
	Value      json.RawMessage `json:"value"`
	TTLSeconds int64           `json:"ttl_seconds"`
}

func (g *gateway) cacheSet(w http.ResponseWriter, r *http.Request) error {
	var c cacheRequest
	if err := decode(r, &c); err != nil {
		return err
	}
	if c.Key == "" || len(c.Value) == 0 {
		return errorf(http.StatusBadRequest, "key and value are required")
	}
	if c.TTLSeconds < 0 || c.TTLSeconds > 7*24*3600 {
		return errorf(http.StatusBadRequest, "ttl_seconds must be between 0 (the default) and 604800")
	}
	kv, err := g.Cache.Cache(cache.CacheOptions{Entity: "gateway"})
	if err != nil {
		return err
	}
	ttl := time.Duration(c.TTLSeconds) * time.Second
	if err := kv.Set(r.Context(), c.Key, c.Value, ttl); err != nil {
		return err
	}
	left, err := kv.TTL(r.Context(), c.Key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"key": c.Key, "ttl_seconds": int64(left.Round(time.Second) / time.Second)})
	return nil
}

func (g *gateway) session(w http.ResponseWriter, r *http.Request) error {
	id, user := r.PathValue("id"), r.URL.Query().Get("user_id")
	if user == "" {
		return errorf(http.StatusBadRequest, "query parameter user_id is required")
	}
	store, err := g.Cache.Sessions(cache.SessionOptions{})
	if err != nil {
		return err
	}
	list, err := store.List(r.Context(), user)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.ID == id {
			writeJSON(w, http.StatusOK, map[string]any{"id": s.ID, "user_id": s.UserID, "values": s.Values, "created_at": s.CreatedAt, "expires_at": s.ExpiresAt})
			return nil
		}
	}
	return errorf(http.StatusNotFound, "no live session %q of user %q", id, user)
}

type searchRequest struct {
	UserID string   `json:"user_id"`
	Text   string   `json:"text"`
	Status []string `json:"status"`
	Size   int      `json:"size"`
}

func (g *gateway) searchClient() (*search.Client, error) {
	if g.Search == nil {
		return nil, errorf(http.StatusServiceUnavailable, "no search engine configured (LUCID_SEARCH_URL)")
	}
	return g.Search, nil
}

func (g *gateway) search(w http.ResponseWriter, r *http.Request) error {
	sc, err := g.searchClient()
	if err != nil {
		return err
	}
	var q searchRequest
	if err := decode(r, &q); err != nil {
		return err
	}
	if q.UserID == "" {
		return errorf(http.StatusBadRequest, "user_id is required")
	}
	if q.Size <= 0 || q.Size > 100 {
		q.Size = 20
	}
	res, err := sc.SearchSessions(r.Context(), q.UserID, search.SessionFilter{Text: q.Text, Status: q.Status, Size: q.Size})
	if err != nil {
		return err
	}
	hits := make([]json.RawMessage, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, h.Source)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": res.Total, "took_ms": res.Took, "sessions": hits})
	return nil
}

func (g *gateway) analytics(w http.ResponseWriter, r *http.Request) error {
	sc, err := g.searchClient()
	if err != nil {
		return err
	}
	alias, err := sc.ReadAlias(lucidkeys.EntitySessions)
	if err != nil {
		return err
	}
	res, err := sc.Search(r.Context(), alias, search.SearchRequest{NoHits: true, Aggs: map[string]search.Agg{
		"by_status": search.TermsAgg{Field: "status", Size: 20},
	}})
	if errors.Is(err, search.ErrNotFound) { // no session indexed yet
		writeJSON(w, http.StatusOK, map[string]any{"total": 0, "by_status": map[string]int64{}})
		return nil
	}
	if err != nil {
		return err
	}
	terms, err := res.Aggs.Terms("by_status")
	if err != nil {
		return err
	}
	by := map[string]int64{}
	for _, b := range terms.Buckets {
		by[fmt.Sprint(b.Key)] = b.DocCount
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": res.Total, "by_status": by})
	return nil
}

type backupRequest struct {
	Volumes []string `json:"volumes"`
}

func (g *gateway) backupCreate(w http.ResponseWriter, r *http.Request) error {
	var b backupRequest
	if r.ContentLength != 0 {
		if err := decode(r, &b); err != nil {
			return err
		}
	}
	if len(b.Volumes) == 0 {
		list, err := g.Volumes.List(r.Context())
		if err != nil {
			return err
		}
		for _, v := range list {
			b.Volumes = append(b.Volumes, v.Name)
		}
	}
	if len(b.Volumes) == 0 {
		return errorf(http.StatusBadRequest, "there is no volume to back up")
	}
	return g.backupVolumes(w, r, b.Volumes)
}

func (g *gateway) volumeBackup(w http.ResponseWriter, r *http.Request) error {
	return g.backupVolumes(w, r, []string{r.PathValue("name")})
}

// backupVolumes backs up the named volumes as one backup. One backup runs at
// a time across every gateway sharing the cache: a second is 409.
func (g *gateway) backupVolumes(w http.ResponseWriter, r *http.Request, names []string) error {
	var parts []backup.Part
	for _, n := range names {
		v, err := g.Volumes.Get(r.Context(), n)
		if err != nil {
			return err
		}
		parts = append(parts, volumepart.Part("volume-"+v.Name, v.Path))
	}
	lock, err := g.locker.Obtain(r.Context(), "backup", cache.LockOptions{TTL: 30 * time.Second})
	if errors.Is(err, cache.ErrLockNotObtained) {
		return errorf(http.StatusConflict, "a backup is already running")
	}
	if err != nil {
		return err
	}
	defer lock.Release(context.WithoutCancel(r.Context()))
	g.running.Add(1)
	defer g.running.Add(-1)
	// The lease's context ends the backup if the lock is lost.
	m, err := g.Backups.Backup(lock.Context(), parts, &backup.BackupOptions{Labels: map[string]string{
		"by": "gateway", "fence": fmt.Sprint(lock.Fence()),
	}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, manifestJSON(m))
	return nil
}

func manifestJSON(m *backup.Manifest) map[string]any {
	var parts []map[string]any
	for _, p := range m.Parts {
		parts = append(parts, map[string]any{"name": p.Name, "kind": p.Kind, "records": p.Records,
			"plain_bytes": p.Plain.Size, "stored_bytes": p.Stored.Size, "compression": p.Compression, "encryption": p.Encryption})
	}
	return map[string]any{"id": m.ID, "start": m.Start, "end": m.End, "size": m.Size(), "labels": m.Labels, "parts": parts}
}

func (g *gateway) backupStatus(w http.ResponseWriter, r *http.Request) error {
	list, err := g.Backups.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, m := range list {
		out = append(out, manifestJSON(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"running": g.running.Load() > 0, "count": len(out), "backups": out})
	return nil
}

func (g *gateway) volumes(w http.ResponseWriter, r *http.Request) error {
	list, err := g.Volumes.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		rep := g.Volumes.CheckVolume(r.Context(), v.Name)
		e := map[string]any{"name": v.Name, "type": v.Type, "quota": v.Quota, "path": v.Path, "status": rep.Status, "details": rep.Details}
		if rep.Err != nil {
			e["error"] = rep.Err.Error()
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "volumes": out})
	return nil
}

// fail answers err with the status of its kind.
func (g *gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if errors.As(err, &he) {
		writeError(w, he.status, he.msg)
		return
	}
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, mongostore.ErrInjection), errors.Is(err, mongostore.ErrInvalid), errors.Is(err, mongostore.ErrValidation):
		status = http.StatusBadRequest
	case errors.Is(err, mongostore.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, mongostore.ErrDuplicate):
		status = http.StatusConflict
	case errors.Is(err, mongostore.ErrUnavailable):
		status = http.StatusServiceUnavailable
	default:
		switch errkind.Of(err) {
		case errkind.InvalidArgument:
			status = http.StatusBadRequest
		case errkind.NotFound:
			status = http.StatusNotFound
		case errkind.AlreadyExists, errkind.Aborted, errkind.FailedPrecondition:
			status = http.StatusConflict
		case errkind.ResourceExhausted:
			status = http.StatusTooManyRequests
		case errkind.Unavailable, errkind.Closed, errkind.Unimplemented:
			status = http.StatusServiceUnavailable
		case errkind.Canceled:
			return // the client is gone
		case errkind.DeadlineExceeded:
			status = http.StatusServiceUnavailable
		}
	}
	if status >= 500 {
		g.o.Log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, status, err.Error())
}

// jsonErrors turns the plain-text errors of the standard library and of
// cache.Middleware (404, 405, 429, 503) into the gateway's JSON errors, so
// every error a client sees has one shape.
func jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&jsonErrorWriter{ResponseWriter: w}, r)
	})
}

type jsonErrorWriter struct {
	http.ResponseWriter
	swallow bool
}

func (w *jsonErrorWriter) WriteHeader(code int) {
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.swallow = true
		msg := strings.ToLower(http.StatusText(code))
		if code == http.StatusNotFound {
			msg = "no such route; see /openapi.json"
		}
		writeError(w.ResponseWriter, code, msg)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// redactURL drops the userinfo and query of a URL for a log line.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// logRequests logs one line per request: method, path, status, duration and
// the client's address. Never a header, query string or body: they hold keys
// and user data.
func (g *gateway) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		g.o.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(t), "remote", r.RemoteAddr)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// mongoChecker adapts a DB's Health to the aggregator's Checker.
func mongoChecker(db *mongostore.DB) health.Checker {
	return health.CheckerFunc(func(ctx context.Context) health.Report {
		t := time.Now()
		h, err := db.Health(ctx)
		if err != nil {
			return health.DownReport(err, time.Since(t))
		}
		return health.Report{Status: health.Up, Latency: h.Latency, Version: strings.TrimSpace(h.Product + " " + h.Version)}
	})
}

// loadIdentity reads an age identity file, or creates one (0600) with a new
// X25519 identity when it does not exist.
func loadIdentity(path string, log *slog.Logger) (*age.X25519Identity, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(id.String()+"\n"), 0o600); err != nil {
			return nil, err
		}
		log.Info("generated a backup identity; keep a copy apart from the backups", "path", path, "recipient", id.Recipient().String())
		return id, nil
	}
	if err != nil {
		return nil, err
	}
	return age.ParseX25519Identity(strings.TrimSpace(string(b)))
}

// run serves until ctx is done or the process gets SIGINT or SIGTERM. ready,
// if set, is told the listening address.
func run(ctx context.Context, args []string, getenv func(string) string, log *slog.Logger, ready func(addr string)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	root := fs.String("root", "", "volume root (default: LUCID_VOLUME_ROOT, else "+volume.DefaultRoot+")")
	backupDir := fs.String("backup-dir", filepath.Join(os.TempDir(), "lucid-gateway-backups"), "local backup directory")
	identity := fs.String("age-identity", "", "age identity file (default: <backup-dir>.key, created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keys := strings.FieldsFunc(getenv("LUCID_GATEWAY_API_KEYS"), func(r rune) bool { return r == ',' })
	if len(keys) == 0 {
		return errors.New("set LUCID_GATEWAY_API_KEYS to the accepted API keys, comma-separated")
	}

	tel, err := newTelemetry(ctx, getenv)
	if err != nil {
		return err
	}
	defer func() {
		// After the server and the clients: the last spans are flushed.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tel.shutdown(sctx); err != nil {
			log.Warn("telemetry shutdown", "err", err)
		}
	}()
	// The exporters report failures (an unreachable OTLP endpoint) to
	// OpenTelemetry's process-wide error handler, which prints to stderr
	// unless replaced: send them to the gateway's log.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("opentelemetry", "err", err) }))
	tp := tel.tracerProvider()
	if tel.endpoint != "" {
		log.Info("tracing: OTLP over HTTP", "endpoint", redactURL(tel.endpoint))
	}

	var d Deps
	uri := getenv("LUCID_MONGO_URI")
	if uri == "" {
		srv, err := embedded.Start(ctx, embedded.Config{})
		if err != nil {
			return err
		}
		defer srv.Close()
		uri = srv.URI()
		log.Info("MongoDB: embedded FerretDB (set LUCID_MONGO_URI for a server)")
	}
	dbName := getenv("LUCID_MONGO_DATABASE")
	if dbName == "" {
		dbName = "lucid"
	}
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: uri, Database: dbName, AppName: "lucid-gateway", Logger: log,
		TracerProvider: tp, MeterProvider: tel.mp})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	d.DB = db
	if u := getenv(cache.EnvURL); u != "" {
		c, err := cache.Connect(ctx, cache.Config{URL: u, Logger: log, TracerProvider: tp, MeterProvider: tel.mp})
		if err != nil {
			return err
		}
		d.Cache = c
	} else {
		d.Cache = cache.NewMemory()
		log.Info("cache: in memory (set " + cache.EnvURL + " for Redis)")
	}
	defer d.Cache.Close()
	if u := getenv("LUCID_SEARCH_URL"); u != "" {
		sc, err := search.Connect(ctx, search.Config{Addresses: strings.Split(u, ","), IndexPrefix: getenv("LUCID_SEARCH_INDEX_PREFIX"), Logger: log,
			TracerProvider: tp, MeterProvider: tel.mp})
		if err != nil {
			return err
		}
		defer sc.Close()
		d.Search = sc
	} else {
		log.Info("search: not configured; its routes answer 503 (set LUCID_SEARCH_URL)")
	}
	vcfg, err := volume.FromEnv()
	if err != nil {
		return err
	}
	if *root != "" {
		vcfg.Root = *root
	}
	if d.Volumes, err = volume.New(vcfg); err != nil {
		return err
	}
	if dm, ok := d.Volumes.(*volume.DirManager); ok {
		mon := dm.NewMonitor(volume.MonitorOptions{OnEvent: func(e volume.Event) {
			log.Warn("volume", "event", e)
		}})
		mon.Start(ctx)
		defer mon.Close()
		if err := tel.reg.Register(volumeprom.NewCollector(mon)); err != nil {
			return err
		}
		if err := tel.reg.Register(volumeprom.NewIOCollector(dm)); err != nil {
			return err
		}
	}
	if *identity == "" {
		*identity = filepath.Clean(*backupDir) + ".key"
	}
	id, err := loadIdentity(*identity, log)
	if err != nil {
		return err
	}
	if d.Backups, err = backup.NewLocal(*backupDir, backup.Config{
		Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id},
		Checkers: volumepart.Checkers(), Logger: log,
	}); err != nil {
		return err
	}
	defer d.Backups.Close()

	h, err := newHandler(d, Options{APIKeys: keys, Log: log, LimitEntity: getenv("LUCID_GATEWAY_LIMIT_ENTITY"),
		TracerProvider: tp, MeterProvider: tel.mp, Metrics: tel.metricsHandler()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 5 * time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
