//go:build !lucidfuzz

package search

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/HamiGames/lucid-data/errkind"
)

// TestMetrics indexes a document, fails a search and a read, and bulk
// writes three items (one a create of an existing id, the whole request
// answered 429 once by the fault proxy in front of the test engine)
// through a Client measured by a manual reader: the request histogram
// counts each request by operation, the error counter each failure by
// kind (Connect's probes and IndexExists's 404 are none), the bulk counters the items queued, indexed, retried and failed.
func TestMetrics(t *testing.T) {
	ctx := ctxT(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })
	c, p := proxiedClient(t, Config{MaxRetries: -1, MeterProvider: mp})
	idx := c.cfg.IndexPrefix + "obs"
	if _, err := c.Index(ctx, idx, "doc-1", map[string]any{"n": 1}, &WriteOptions{Refresh: RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	_, searchErr := c.Search(ctx, idx, SearchRequest{From: 20000})
	if !errors.Is(searchErr, ErrInvalid) {
		t.Fatalf("search past the window: %v", searchErr)
	}
	if _, err := c.Get(ctx, c.cfg.IndexPrefix+"missing", "doc-1", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get in a missing index: %v", err)
	}
	if ok, err := c.IndexExists(ctx, c.cfg.IndexPrefix+"missing"); ok || err != nil {
		t.Fatalf("missing index exists: %v %v", ok, err)
	}
	b := c.NewBulkIndexer(BulkConfig{Workers: 1, RetryBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	for _, item := range []BulkItem{
		{Index: idx, ID: "doc-2", Body: map[string]any{"n": 2}},
		{Index: idx, ID: "doc-3", Body: map[string]any{"n": 3}},
		{Index: idx, ID: "doc-1", Action: BulkCreate, Body: map[string]any{"n": 4}},
	} {
		if err := b.Add(ctx, item); err != nil {
			t.Fatal(err)
		}
	}
	p.FailNext(1, http.StatusTooManyRequests)
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Indexed != 2 || st.Failed != 1 || st.Retried != 3 {
		t.Fatalf("bulk stats %+v", st)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	key := func(name string, s attribute.Set) string {
		out := name
		for _, kv := range s.ToSlice() {
			out += " " + string(kv.Key) + "=" + kv.Value.String()
		}
		return out
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[key(m.Name, p.Attributes)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[key(m.Name, p.Attributes)] += int64(p.Count)
				}
			}
		}
	}
	for k := range got {
		// Connect's probes (ILM on OpenSearch answers 400) and
		// IndexExists's 404 are answers, not errors.
		if strings.HasPrefix(k, "lucid.search.request.errors db.operation=probe") ||
			strings.HasPrefix(k, "lucid.search.request.errors db.operation=index exists") {
			t.Errorf("counted as an error: %s = %d", k, got[k])
		}
	}
	for k, v := range map[string]int64{
		"lucid.search.request.duration db.operation=index":                                                      1,
		"lucid.search.request.duration db.operation=search":                                                     1,
		"lucid.search.request.duration db.operation=get":                                                        1,
		"lucid.search.request.duration db.operation=bulk":                                                       2,
		"lucid.search.request.errors db.operation=search lucid.error.kind=" + errkind.Of(searchErr).String():    1,
		"lucid.search.request.errors db.operation=get lucid.error.kind=" + errkind.NotFound.String():            1,
		"lucid.search.request.errors db.operation=bulk lucid.error.kind=" + errkind.ResourceExhausted.String():  1,
		"lucid.search.request.errors db.operation=index lucid.error.kind=" + errkind.ResourceExhausted.String(): 0,
		"lucid.search.request.duration db.operation=probe":                                                      2,
		"lucid.search.request.duration db.operation=index exists":                                               1,
		"lucid.search.bulk.queued":  3,
		"lucid.search.bulk.indexed": 2,
		"lucid.search.bulk.retried": 3,
		"lucid.search.bulk.failed":  1,
	} {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	t.Logf("metrics: %v", got)
}
