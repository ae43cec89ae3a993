//go:build !lucidfuzz

package search

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// TestSentinelKinds: every sentinel matches its errkind kind, and an
// engine answer is mapped to the sentinel of its kind.
func TestSentinelKinds(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind errkind.Kind
	}{
		{ErrNotFound, errkind.NotFound}, {ErrConflict, errkind.Aborted}, {ErrExists, errkind.AlreadyExists},
		{ErrInvalid, errkind.InvalidArgument}, {ErrUnavailable, errkind.Unavailable},
		{ErrUnsupported, errkind.Unimplemented}, {ErrRejected, errkind.ResourceExhausted}, {ErrClosed, errkind.Closed},
		{statusErr("create index", "i", 400, []byte(`{"error":{"type":"resource_already_exists_exception","reason":"index [i] already exists"}}`)), errkind.AlreadyExists},
		{statusErr("index", "i", 409, []byte(`{"error":{"type":"version_conflict_engine_exception","reason":"x"}}`)), errkind.Aborted},
		{statusErr("search", "i", 429, nil), errkind.ResourceExhausted},
		{statusErr("search", "i", 503, nil), errkind.Unavailable},
	} {
		if !errors.Is(tc.err, tc.kind) || errkind.Of(tc.err) != tc.kind {
			t.Errorf("%v: kind %v, want %v", tc.err, errkind.Of(tc.err), tc.kind)
		}
	}
}

// contractFixture is a client with an index holding one document, a
// current-month sessions index and a block, so that every call below would
// succeed with a live ctx.
type contractFixture struct {
	c   *Client
	idx string
	doc *Document
	pit string
}

func newContractFixture(t *testing.T) *contractFixture {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	f := &contractFixture{c: c, idx: c.cfg.IndexPrefix + "lucid-ctx"}
	if err := c.CreateIndex(ctx, f.idx, IndexSpec{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Index(ctx, f.idx, "d1", map[string]any{"user_id": "u1", "n": 1}, &WriteOptions{Refresh: RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	d, err := c.Get(ctx, f.idx, "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.doc = d
	if _, err := c.IndexEntity(ctx, lucidkeys.EntitySessions, "s1", map[string]any{"user_id": "u1", "created_at": time.Now().UTC()}, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if f.pit, err = c.OpenPointInTime(ctx, f.idx, time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.ClosePointInTime(context.Background(), f.pit) })
	return f
}

// calls returns every ctx-taking call of the package, each returning its
// error. Bulk calls use their own indexer.
func (f *contractFixture) calls(t *testing.T) map[string]func(ctx context.Context) error {
	c, idx := f.c, f.idx
	first := func(seq func(func(Hit, error) bool)) error {
		var err error
		seq(func(_ Hit, e error) bool { err = e; return false })
		return err
	}
	newBulk := func() *BulkIndexer {
		bi := c.NewBulkIndexer(BulkConfig{Workers: 1})
		t.Cleanup(func() { _ = bi.Close(context.Background()) })
		return bi
	}
	now := time.Now()
	return map[string]func(ctx context.Context) error{
		"Connect": func(ctx context.Context) error {
			cc, err := Connect(ctx, Config{Addresses: c.cfg.Addresses})
			if err == nil {
				cc.Close()
			}
			return err
		},
		"Ping":            func(ctx context.Context) error { return c.Ping(ctx) },
		"Check":           func(ctx context.Context) error { return c.Check(ctx).Err },
		"Health":          func(ctx context.Context) error { _, err := c.Health(ctx); return err },
		"CreateIndex":     func(ctx context.Context) error { return c.CreateIndex(ctx, idx+"-new", IndexSpec{}) },
		"DeleteIndex":     func(ctx context.Context) error { return c.DeleteIndex(ctx, idx) },
		"IndexExists":     func(ctx context.Context) error { _, err := c.IndexExists(ctx, idx); return err },
		"Refresh":         func(ctx context.Context) error { return c.Refresh(ctx, idx) },
		"IndexSpecs":      func(ctx context.Context) error { _, err := c.IndexSpecs(ctx, idx); return err },
		"EnsureTemplates": func(ctx context.Context) error { return c.EnsureTemplates(ctx) },
		"DeleteTemplates": func(ctx context.Context) error { return c.DeleteTemplates(ctx) },
		"EnsureMonthlyIndex": func(ctx context.Context) error {
			_, err := c.EnsureMonthlyIndex(ctx, lucidkeys.EntitySessions, now)
			return err
		},
		"Rollover": func(ctx context.Context) error { _, err := c.Rollover(ctx, lucidkeys.EntitySessions); return err },
		"IndexFor": func(ctx context.Context) error { _, err := c.IndexFor(ctx, lucidkeys.EntitySessions, now); return err },
		"IndexEntity": func(ctx context.Context) error {
			_, err := c.IndexEntity(ctx, lucidkeys.EntitySessions, "s2", map[string]any{"user_id": "u1"}, now, nil)
			return err
		},
		"Index": func(ctx context.Context) error {
			_, err := c.Index(ctx, idx, "d2", map[string]any{"n": 2}, nil)
			return err
		},
		"Get": func(ctx context.Context) error { _, err := c.Get(ctx, idx, "d1", nil); return err },
		"Update": func(ctx context.Context) error {
			_, err := c.Update(ctx, idx, "d1", map[string]any{"n": 3}, Version(f.doc.SeqNo, f.doc.PrimaryTerm))
			return err
		},
		"Delete": func(ctx context.Context) error { _, err := c.Delete(ctx, idx, "d1", nil); return err },
		"BulkIndexer.Add": func(ctx context.Context) error {
			return newBulk().Add(ctx, BulkItem{Index: idx, ID: "b1", Body: map[string]any{"n": 4}})
		},
		"BulkIndexer.Flush": func(ctx context.Context) error { return newBulk().Flush(ctx) },
		"BulkIndexer.Close": func(ctx context.Context) error {
			bi := c.NewBulkIndexer(BulkConfig{Workers: 1})
			if err := bi.Add(context.Background(), BulkItem{Index: idx, ID: "b2", Body: map[string]any{"n": 5}}); err != nil {
				_ = bi.Close(context.Background())
				return err
			}
			return bi.Close(ctx)
		},
		"Search": func(ctx context.Context) error {
			_, err := c.Search(ctx, idx, SearchRequest{Query: MatchAll{}})
			return err
		},
		"Search/aggregations": func(ctx context.Context) error {
			_, err := c.Search(ctx, idx, SearchRequest{NoHits: true, Aggs: map[string]Agg{"n": StatsAgg{Field: "n"}}})
			return err
		},
		"Search/suggest": func(ctx context.Context) error {
			_, err := c.Search(ctx, idx, SearchRequest{NoHits: true, Suggest: map[string]Suggester{"s": TermSuggest{Text: "u1", Field: "user_id"}}})
			return err
		},
		"FullTextSearch": func(ctx context.Context) error { _, err := c.FullTextSearch(ctx, idx, "u1", nil); return err },
		"SearchSessions": func(ctx context.Context) error { _, err := c.SearchSessions(ctx, "u1", SessionFilter{}); return err },
		"SearchBlocks":   func(ctx context.Context) error { _, err := c.SearchBlocks(ctx, TimeRange{}, BlockFilter{}); return err },
		"Scan":           func(ctx context.Context) error { return first(c.Scan(ctx, idx, ScanOptions{})) },
		"OpenPointInTime": func(ctx context.Context) error {
			id, err := c.OpenPointInTime(ctx, idx, time.Minute)
			if err == nil {
				_ = c.ClosePointInTime(context.Background(), id)
			}
			return err
		},
		"ClosePointInTime":      func(ctx context.Context) error { return c.ClosePointInTime(ctx, f.pit) },
		"EnsureLifecyclePolicy": func(ctx context.Context) error { return c.EnsureLifecyclePolicy(ctx) },
		"PlanLifecycle":         func(ctx context.Context) error { _, err := c.PlanLifecycle(ctx); return err },
		"ApplyLifecycle":        func(ctx context.Context) error { _, err := c.ApplyLifecycle(ctx); return err },
	}
}

// TestContextErrors runs every ctx-taking call with a cancelled and an
// expired ctx: the error is the ctx error (errkind Canceled or
// DeadlineExceeded), never ErrUnavailable.
func TestContextErrors(t *testing.T) {
	f := newContractFixture(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for name, call := range f.calls(t) {
		for _, tc := range []struct {
			ctx  context.Context
			want error
			kind errkind.Kind
		}{{cancelled, context.Canceled, errkind.Canceled}, {expired, context.DeadlineExceeded, errkind.DeadlineExceeded}} {
			err := call(tc.ctx)
			if !errors.Is(err, tc.want) || errkind.Of(err) != tc.kind || errors.Is(err, ErrUnavailable) || errors.Is(err, errkind.Unavailable) {
				t.Errorf("%s with %v ctx: %v (kind %v), want %v and not unavailable", name, tc.want, err, errkind.Of(err), tc.kind)
			}
		}
	}
	// Nothing above reached the engine: the document is still there.
	if _, err := f.c.Get(ctxT(t), f.idx, "d1", nil); err != nil {
		t.Fatalf("document after the table: %v", err)
	}
}

// TestContextEndsInFlight: a ctx that ends while the engine is slow is the
// ctx error; the SDK's own RequestTimeout is ErrUnavailable, not the
// caller's deadline.
func TestContextEndsInFlight(t *testing.T) {
	c, p := proxiedClient(t, Config{MaxRetries: -1})
	p.SetDelay(2 * time.Second)
	defer p.SetDelay(0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Ping(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) || errkind.Of(err) != errkind.DeadlineExceeded {
		t.Fatalf("expired in flight: %v (kind %v)", err, errkind.Of(err))
	}
	cctx, ccancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, ccancel)
	err = c.Ping(cctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) || errkind.Of(err) != errkind.Canceled {
		t.Fatalf("cancelled in flight: %v (kind %v)", err, errkind.Of(err))
	}
	c.cfg.RequestTimeout = 100 * time.Millisecond
	err = c.Ping(context.Background())
	if !errors.Is(err, ErrUnavailable) || errkind.Of(err) != errkind.Unavailable || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request timeout: %v (kind %v)", err, errkind.Of(err))
	}
}

// TestClosedClient: Close is idempotent and every public call after it
// fails with ErrClosed (kind Closed), the escape hatch included.
func TestClosedClient(t *testing.T) {
	f := newContractFixture(t)
	c := f.c
	bi := c.NewBulkIndexer(BulkConfig{Workers: 1})
	defer bi.Close(context.Background())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := ctxT(t)
	calls := f.calls(t)
	delete(calls, "Connect") // makes a new client
	calls["BulkIndexer.Add (made before Close)"] = func(ctx context.Context) error {
		return bi.Add(ctx, BulkItem{Index: f.idx, ID: "x", Body: map[string]any{}})
	}
	calls["BulkIndexer.Flush (made before Close)"] = func(ctx context.Context) error { return bi.Flush(ctx) }
	calls["MonthlyIndex"] = func(context.Context) error {
		_, err := c.MonthlyIndex(lucidkeys.EntitySessions, time.Now())
		return err
	}
	calls["WriteAlias"] = func(context.Context) error { _, err := c.WriteAlias(lucidkeys.EntitySessions); return err }
	calls["ReadAlias"] = func(context.Context) error { _, err := c.ReadAlias(lucidkeys.EntitySessions); return err }
	calls["IndexPattern"] = func(context.Context) error { _, err := c.IndexPattern(lucidkeys.EntitySessions); return err }
	calls["Transport"] = func(ctx context.Context) error {
		res, err := esapi.CatHealthRequest{}.Do(ctx, c.Transport())
		if err == nil {
			res.Body.Close()
		}
		return err
	}
	for name, call := range calls {
		if err := call(ctx); !errors.Is(err, ErrClosed) || errkind.Of(err) != errkind.Closed {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if r := c.Check(ctx); r.Status != health.Down {
		t.Errorf("Check after Close: %v", r.Status)
	}
	// The caller's ctx still wins over ErrClosed.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Ping(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Ping after Close: %v", err)
	}
}

// TestCheck: green is Up, yellow Degraded, unreachable Down, with the
// version and the cluster's facts.
func TestCheck(t *testing.T) {
	c, p := proxiedClient(t, Config{MaxRetries: -1})
	ctx := ctxT(t)
	want := map[string]health.Status{"green": health.Up, "yellow": health.Degraded, "red": health.Down}
	h, err := c.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(ctx)
	if r.Status != want[h.Status] || r.Version != string(c.Product())+" "+c.Version() || r.Details["cluster_name"] != h.ClusterName ||
		r.Details["nodes"] != h.Nodes || r.Latency <= 0 {
		t.Fatalf("check on a %s cluster: %+v", h.Status, r)
	}
	if c.Product() == ProductOpenSearch && !strings.HasPrefix(r.Version, "opensearch 2.") && !strings.HasPrefix(r.Version, "opensearch 3.") {
		t.Errorf("version %q", r.Version)
	}
	if h.Status == "green" {
		// One replica more than a single node can hold: the cluster turns
		// yellow while the index exists.
		idx := c.cfg.IndexPrefix + "lucid-yellow"
		if h.Nodes == 1 {
			if err := c.CreateIndex(ctx, idx, IndexSpec{Settings: map[string]any{"number_of_replicas": 1}}); err != nil {
				t.Fatal(err)
			}
			r := c.Check(ctx)
			_ = c.DeleteIndex(ctx, idx)
			if r.Status != health.Degraded || r.Details["status"] != "yellow" || r.Err == nil {
				t.Errorf("check on a yellow cluster: %+v", r)
			}
		}
	}
	p.Cut()
	defer p.Restore()
	r = c.Check(ctx)
	if r.Status != health.Down || errkind.Of(r.Err) != errkind.Unavailable {
		t.Fatalf("check on an unreachable node: %+v", r)
	}
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"status":"down"`) {
		t.Errorf("report JSON %s", b)
	}
}

// TestFromEnv: the variables, the fallback, and errors that name the
// variable but never its value.
func TestFromEnv(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvURL, " https://es1:9200 ,https://es2:9200,")
	t.Setenv(EnvURLFallback, "http://ignored:9200")
	t.Setenv(EnvUsername, "lucid")
	t.Setenv(EnvPassword, "hunter2")
	t.Setenv(EnvAPIKey, "")
	t.Setenv(EnvCAFile, ca)
	t.Setenv(EnvIndexPrefix, "tenant1-")
	t.Setenv(EnvShards, "3")
	t.Setenv(EnvReplicas, "1")
	t.Setenv(EnvRequestTimeout, "10s")
	cfg, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Addresses, " ") != "https://es1:9200 https://es2:9200" || cfg.Username != "lucid" || cfg.Password != "hunter2" ||
		cfg.IndexPrefix != "tenant1-" || cfg.Shards != 3 || cfg.Replicas != 1 || cfg.RequestTimeout != 10*time.Second || len(cfg.CACert) == 0 {
		t.Fatalf("config %+v", cfg)
	}
	t.Setenv(EnvURL, "")
	if cfg, err = FromEnv(); err != nil || strings.Join(cfg.Addresses, ",") != "http://ignored:9200" {
		t.Fatalf("fallback: %v %v", cfg.Addresses, err)
	}
	for name, val := range map[string]string{EnvShards: "hunter2", EnvReplicas: "-1", EnvRequestTimeout: "hunter2", EnvCAFile: "/nonexistent/hunter2"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, val)
			_, err := FromEnv()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("%s=%s: %v", name, val, err)
			}
		})
	}
	// The address is checked by Connect, which does not echo it.
	t.Setenv(EnvURL, "ftp://lucid:hunter2@es1")
	cfg, _ = FromEnv()
	if _, err := Connect(ctxT(t), cfg); !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad address: %v", err)
	}
	// A working environment connects.
	t.Setenv(EnvURL, testenv.Search(t).URL)
	t.Setenv(EnvCAFile, "")
	t.Setenv(EnvUsername, "")
	t.Setenv(EnvPassword, "")
	t.Setenv(EnvShards, "")
	t.Setenv(EnvReplicas, "")
	cfg, err = FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
