//go:build !lucidfuzz

package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/faultproxy"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// ledger records every callback per item id, to prove each item ends in
// exactly one callback.
type ledger struct {
	mu      sync.Mutex
	ok      map[string]BulkItemResult
	failed  map[string]error
	doubled []string
}

func newLedger() *ledger {
	return &ledger{ok: map[string]BulkItemResult{}, failed: map[string]error{}}
}

func (l *ledger) item(index, id string, body any) BulkItem {
	return BulkItem{Index: index, ID: id, Body: body,
		OnSuccess: func(it BulkItem, r BulkItemResult) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if _, dup := l.ok[it.ID]; dup || l.failed[it.ID] != nil {
				l.doubled = append(l.doubled, it.ID)
			}
			l.ok[it.ID] = r
		},
		OnFailure: func(it BulkItem, r BulkItemResult, err error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if _, dup := l.ok[it.ID]; dup || l.failed[it.ID] != nil {
				l.doubled = append(l.doubled, it.ID)
			}
			l.failed[it.ID] = err
		},
	}
}

func (l *ledger) check(t *testing.T, added int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.doubled) > 0 {
		t.Fatalf("items settled twice: %v", l.doubled[:min(10, len(l.doubled))])
	}
	if len(l.ok)+len(l.failed) != added {
		t.Fatalf("callbacks %d ok + %d failed != %d added: items lost", len(l.ok), len(l.failed), added)
	}
}

func createLongIndex(t *testing.T, c *Client, name string) {
	t.Helper()
	if err := c.CreateIndex(ctxT(t), name, IndexSpec{
		Settings: map[string]any{"number_of_shards": 2, "number_of_replicas": 0, "refresh_interval": "-1"},
		Mappings: map[string]any{"properties": map[string]any{"n": map[string]any{"type": "long"}}},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBulk100kWithMappingConflicts bulks 100,000 documents of which 1,000
// put a string into a long field: exactly those are reported, per item,
// with the engine's reason; all others succeed.
func TestBulk100kWithMappingConflicts(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "bulk"
	createLongIndex(t, c, idx)
	l := newLedger()
	bi := c.NewBulkIndexer(BulkConfig{Workers: 2, FlushBytes: 1 << 20, FlushInterval: time.Second})
	const n = 100_000
	for i := range n {
		body := json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)
		if i%100 == 7 {
			body = json.RawMessage(`{"n":"not a number ` + strconv.Itoa(i) + `"}`)
		}
		if err := bi.Add(ctx, l.item(idx, strconv.Itoa(i), body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := bi.Stats()
	l.check(t, n)
	if st.Added != n || st.Indexed != n-1000 || st.Failed != 1000 || st.Retried != 0 || st.Requests == 0 {
		t.Fatalf("stats %+v", st)
	}
	for id, err := range l.failed {
		i, _ := strconv.Atoi(id)
		var e *Error
		if i%100 != 7 || !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Status != 400 || e.Type != "mapper_parsing_exception" {
			t.Fatalf("item %s failed with %v", id, err)
		}
	}
	// Other actions on the same indexer: update, create conflict, delete.
	var wg sync.WaitGroup
	var errs [4]error
	var results [4]BulkItemResult
	items := []BulkItem{
		{Action: BulkUpdate, Index: idx, ID: "1", Body: map[string]any{"n": -1}},
		{Action: BulkCreate, Index: idx, ID: "2", Body: map[string]any{"n": 2}},
		{Action: BulkDelete, Index: idx, ID: "3"},
		{Action: BulkDelete, Index: idx, ID: "missing"},
	}
	for i := range items {
		wg.Add(1)
		items[i].OnSuccess = func(_ BulkItem, r BulkItemResult) { results[i] = r; wg.Done() }
		items[i].OnFailure = func(_ BulkItem, r BulkItemResult, err error) { results[i], errs[i] = r, err; wg.Done() }
		if err := bi.Add(ctx, items[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if errs[0] != nil || results[0].Result != "updated" || !errors.Is(errs[1], ErrConflict) || errs[2] != nil ||
		results[2].Result != "deleted" || !errors.Is(errs[3], ErrNotFound) {
		t.Fatalf("actions: %v %+v", errs, results)
	}
	if err := c.Refresh(ctx, idx); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ctx, idx, SearchRequest{NoHits: true, TrackTotalHits: true})
	if err != nil || res.Total != n-1000-1 {
		t.Fatalf("documents in index: %v %v", res.Total, err)
	}
}

func TestBulkBadInputAndClose(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "bulkbad"
	bi := c.NewBulkIndexer(BulkConfig{})
	for _, it := range []BulkItem{
		{Index: "BAD", Body: map[string]any{}},
		{Index: idx, Body: "not an object"},
		{Index: idx, Body: json.RawMessage(`{"a":`)},
		{Action: BulkUpdate, Index: idx, Body: map[string]any{}},
		{Action: BulkDelete, Index: idx},
		{Action: "upsert", Index: idx, ID: "x", Body: map[string]any{}},
	} {
		if err := bi.Add(ctx, it); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v", it, err)
		}
	}
	// A document spread over lines is compacted to one.
	l := newLedger()
	if err := bi.Add(ctx, l.item(idx, "multi", json.RawMessage("{\n\"a\": 1\n}"))); err != nil {
		t.Fatal(err)
	}
	if err := bi.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	l.check(t, 1)
	if len(l.ok) != 1 {
		t.Fatalf("multi-line doc: %v", l.failed)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := bi.Add(cctx, l.item(idx, "x", map[string]any{})); !errors.Is(err, context.Canceled) {
		t.Fatalf("add with cancelled ctx: %v", err)
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := bi.Add(ctx, l.item(idx, "late", map[string]any{})); !errors.Is(err, ErrClosed) {
		t.Fatalf("add after close: %v", err)
	}
}

func proxiedClient(t *testing.T, cfg Config) (*Client, *faultproxy.HTTP) {
	t.Helper()
	p, err := faultproxy.NewHTTP(testenv.Search(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cfg.Addresses, cfg.Transport = []string{p.URL()}, tr
	return newTestClient(t, cfg), p
}

// TestBulkNodeUnreachable cuts the connection to the engine in the middle
// of a bulk run: every item still ends in exactly one callback, failures
// carry ErrUnavailable, and every acknowledged item is in the index.
func TestBulkNodeUnreachable(t *testing.T) {
	c, p := proxiedClient(t, Config{MaxRetries: 1, RetryBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "cut"
	createLongIndex(t, c, idx)
	l := newLedger()
	bi := c.NewBulkIndexer(BulkConfig{Workers: 2, FlushBytes: 2048, FlushInterval: 50 * time.Millisecond,
		MaxAttempts: 3, RetryBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	const n = 6000
	for i := range n {
		if i == n/3 {
			if err := bi.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			p.Cut()
		}
		if err := bi.Add(ctx, l.item(idx, strconv.Itoa(i), map[string]any{"n": i})); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l.check(t, n)
	st := bi.Stats()
	if len(l.failed) == 0 || len(l.ok) < n/3 || st.Failed != uint64(len(l.failed)) || st.Retried == 0 {
		t.Fatalf("ok %d failed %d stats %+v", len(l.ok), len(l.failed), st)
	}
	for id, err := range l.failed {
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("item %s: %v", id, err)
		}
	}
	p.Restore()
	if err := c.Refresh(ctx, idx); err != nil {
		t.Fatal(err)
	}
	for id := range l.ok {
		if _, err := c.Get(ctx, idx, id, nil); err != nil {
			t.Fatalf("acknowledged item %s: %v", id, err)
		}
	}
}

// TestBulk429Storm answers bulk requests with 429 for a while: the indexer
// retries with backoff and loses nothing; a storm longer than MaxAttempts
// ends in OnFailure with ErrRejected.
func TestBulk429Storm(t *testing.T) {
	c, p := proxiedClient(t, Config{MaxRetries: -1})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "storm"
	createLongIndex(t, c, idx)
	l := newLedger()
	bi := c.NewBulkIndexer(BulkConfig{Workers: 2, FlushBytes: 4096, MaxAttempts: 8, RetryBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	p.FailNext(10, http.StatusTooManyRequests)
	const n = 2000
	for i := range n {
		if err := bi.Add(ctx, l.item(idx, strconv.Itoa(i), map[string]any{"n": i})); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	l.check(t, n)
	st := bi.Stats()
	if len(l.failed) != 0 || st.Retried == 0 || p.Failed() != 10 {
		t.Fatalf("failed %d stats %+v proxy failed %d", len(l.failed), st, p.Failed())
	}
	// A storm that outlasts the attempts.
	l2 := newLedger()
	p.FailNext(1000, http.StatusServiceUnavailable)
	for i := range 10 {
		if err := bi.Add(ctx, l2.item(idx, fmt.Sprint("x", i), map[string]any{"n": i})); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l2.check(t, 10)
	for id, err := range l2.failed {
		var e *Error
		if !errors.Is(err, ErrUnavailable) || !errors.As(err, &e) || e.Status != 503 {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if len(l2.failed) != 10 {
		t.Fatalf("storm items: %d failed", len(l2.failed))
	}
	p.FailNext(0, 0)
}

// TestBulkItemRejections: the engine accepts the request but rejects single
// items with 429 (the proxy drops them before the engine and answers 429 in
// their place). Those items, and only those, are re-sent with backoff until
// applied; every item ends in exactly one callback and every acknowledged
// document is readable. A 503 rejection that outlasts MaxAttempts ends the
// item in OnFailure carrying the status.
func TestBulkItemRejections(t *testing.T) {
	c, p := proxiedClient(t, Config{MaxRetries: -1})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "itemreject"
	createLongIndex(t, c, idx)
	l := newLedger()
	bi := c.NewBulkIndexer(BulkConfig{Workers: 2, FlushBytes: 2048, MaxAttempts: 10, RetryBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	const n, rejected = 600, 150
	p.RejectBulkItems(rejected, http.StatusTooManyRequests)
	for i := range n {
		if err := bi.Add(ctx, l.item(idx, strconv.Itoa(i), map[string]any{"n": i})); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	l.check(t, n)
	st := bi.Stats()
	if len(l.failed) != 0 || p.Rejected() != rejected {
		t.Fatalf("failed %d, proxy rejected %d, stats %+v", len(l.failed), p.Rejected(), st)
	}
	// Each rejection costs its item exactly one more attempt (an item may
	// be rejected again on its retry while the budget lasts).
	extra := 0
	for _, r := range l.ok {
		extra += r.Attempts - 1
	}
	if extra != rejected || st.Retried != rejected {
		t.Fatalf("extra attempts %d, stats.Retried %d; want both %d (stats %+v)", extra, st.Retried, rejected, st)
	}
	if err := c.Refresh(ctx, idx); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ctx, idx, SearchRequest{Query: MatchAll{}, NoHits: true, TrackTotalHits: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != n {
		t.Fatalf("index holds %d documents, want %d", res.Total, n)
	}

	// Rejections that outlast the attempts.
	l2 := newLedger()
	p.RejectBulkItems(1000, http.StatusServiceUnavailable)
	for i := range 5 {
		if err := bi.Add(ctx, l2.item(idx, fmt.Sprint("r", i), map[string]any{"n": i})); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l2.check(t, 5)
	if len(l2.failed) != 5 {
		t.Fatalf("%d of 5 items failed, want all", len(l2.failed))
	}
	for id, err := range l2.failed {
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || e.Type != "es_rejected_execution_exception" {
			t.Fatalf("%s: %v", id, err)
		}
	}
	p.RejectBulkItems(0, 0)
}

// TestBulkCloseGivesUp closes with a short deadline while the engine hangs:
// Close returns the ctx error and every item is settled with OnFailure.
func TestBulkCloseGivesUp(t *testing.T) {
	c, p := proxiedClient(t, Config{MaxRetries: -1})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "hang"
	l := newLedger()
	bi := c.NewBulkIndexer(BulkConfig{Workers: 1})
	p.SetDelay(20 * time.Second)
	for i := range 50 {
		if err := bi.Add(ctx, l.item(idx, strconv.Itoa(i), map[string]any{"n": i})); err != nil {
			t.Fatal(err)
		}
	}
	var settled atomic.Bool
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err := bi.Close(cctx)
	settled.Store(true)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v", err)
	}
	l.check(t, 50)
	if len(l.failed) != 50 {
		t.Fatalf("failed %d", len(l.failed))
	}
	p.SetDelay(0)
	p.Close()
}
