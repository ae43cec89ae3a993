// Package searchbench measures the search package against the official
// client's esutil.BulkIndexer and raw esapi on the same engine.
package searchbench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/bench/pair"
	"github.com/HamiGames/lucid-data/search"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/elastic/go-elasticsearch/v8/esutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupAll()
	os.Exit(code)
}

// engineURL is the engine to measure: LUCID_TEST_SEARCH_URL, as for the
// SDK's tests, or a local default.
func engineURL() string {
	if u := os.Getenv("LUCID_TEST_SEARCH_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:9200"
}

// Same flush settings for both indexers.
const (
	workers       = 2
	flushBytes    = 1 << 20
	flushInterval = 30 * time.Second
)

var (
	mu       sync.Mutex
	prefix   string
	client   *search.Client
	baseURL  string
	created  []string
	seq      atomic.Int64
	docBytes = func(i int) []byte {
		return fmt.Appendf(nil, `{"session_id":"s%d","user_id":"u%d","status":"active","title":"chunk upload %d","chunk_count":%d,"created_at":"2026-11-%02dT12:00:00Z"}`,
			i, i%1000, i%97, i, 1+i%28)
	}
)

func setup(b *testing.B) *search.Client {
	b.Helper()
	mu.Lock()
	defer mu.Unlock()
	if client != nil {
		return client
	}
	baseURL = engineURL()
	var r [5]byte
	_, _ = rand.Read(r[:])
	prefix = "lb" + hex.EncodeToString(r[:]) + "-"
	c, err := search.Connect(context.Background(), search.Config{Addresses: []string{baseURL}, IndexPrefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	client = c
	return c
}

func newIndex(b *testing.B, c *search.Client) string {
	b.Helper()
	name := prefix + "bulk-" + strconv.FormatInt(seq.Add(1), 10)
	if err := c.CreateIndex(context.Background(), name, search.IndexSpec{
		Settings: map[string]any{"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
	}); err != nil {
		b.Fatal(err)
	}
	mu.Lock()
	created = append(created, name)
	mu.Unlock()
	return name
}

func cleanupAll() {
	if client == nil {
		return
	}
	for _, n := range created {
		_ = client.DeleteIndex(context.Background(), n)
	}
	client.Close()
}

// productHeader adds the X-Elastic-Product header the official client's
// product check demands and OpenSearch does not send. It exists only so
// esutil.BulkIndexer (which needs an *elasticsearch.Client) can be measured
// against the same OpenSearch node; the SDK itself never does this.
type productHeader struct{ rt http.RoundTripper }

func (p productHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := p.rt.RoundTrip(r)
	if res != nil {
		res.Header.Set("X-Elastic-Product", "Elasticsearch")
	}
	return res, err
}

var bulkWarm sync.Once

// BenchmarkBulkIndex indexes b.N documents per run through each indexer
// with the same workers and flush settings; docs/s is the figure of merit.
// Both indexers first index 30,000 documents untimed, once per process: a
// node just started runs its first bulks 2-3x slower (JIT), which would
// otherwise land on whichever indexer runs first.
func BenchmarkBulkIndex(b *testing.B) {
	c := setup(b)
	bulkWarm.Do(func() {
		bulkSDK(b, c, 30000)
		bulkESUtil(b, c, 30000)
	})
	b.Run("sdk", func(b *testing.B) { bulkSDK(b, c, b.N) })
	b.Run("esutil", func(b *testing.B) { bulkESUtil(b, c, b.N) })
}

// bulkSDK indexes n documents through the SDK's indexer, reporting docs/s.
func bulkSDK(b *testing.B, c *search.Client, n int) {
	idx := newIndex(b, c)
	ctx := context.Background()
	var failed atomic.Int64
	var firstErr atomic.Value
	onFail := func(_ search.BulkItem, _ search.BulkItemResult, err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	bi := c.NewBulkIndexer(search.BulkConfig{Workers: workers, FlushBytes: flushBytes, FlushInterval: flushInterval})
	for i := range n {
		if err := bi.Add(ctx, search.BulkItem{Index: idx, ID: strconv.Itoa(i), Body: json.RawMessage(docBytes(i)), OnFailure: onFail}); err != nil {
			b.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "docs/s")
	if failed.Load() != 0 {
		b.Fatalf("%d failed, first: %v", failed.Load(), firstErr.Load())
	}
}

// bulkESUtil indexes n documents through esutil.BulkIndexer, reporting
// docs/s.
func bulkESUtil(b *testing.B, c *search.Client, n int) {
	idx := newIndex(b, c)
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{baseURL},
		Transport: productHeader{http.DefaultTransport.(*http.Transport).Clone()},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var failed atomic.Int64
	var firstErr atomic.Value
	onFail := func(_ context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, fmt.Sprint(r.Status, " ", r.Error.Type, " ", r.Error.Reason, " ", err))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client: es, Index: idx, NumWorkers: workers, FlushBytes: flushBytes, FlushInterval: flushInterval,
		OnError: func(_ context.Context, err error) { firstErr.CompareAndSwap(nil, "request: "+err.Error()) },
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := bi.Add(ctx, esutil.BulkIndexerItem{Action: "index", DocumentID: strconv.Itoa(i), Body: bytes.NewReader(docBytes(i)), OnFailure: onFail}); err != nil {
			b.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "docs/s")
	if st := bi.Stats(); st.NumFailed != 0 || failed.Load() != 0 {
		b.Fatalf("esutil failed %d, first: %v", st.NumFailed, firstErr.Load())
	}
}

var (
	searchOnce  sync.Once
	searchIndex string
)

// searchSetup bulks 100,000 documents into one index, merges it to one
// segment and warms the engine up, once per process.
func searchSetup(b *testing.B, c *search.Client) string {
	searchOnce.Do(func() {
		idx := newIndex(b, c)
		ctx := context.Background()
		bi := c.NewBulkIndexer(search.BulkConfig{Workers: workers, FlushBytes: flushBytes})
		for i := range 100_000 {
			if err := bi.Add(ctx, search.BulkItem{Index: idx, ID: strconv.Itoa(i), Body: json.RawMessage(docBytes(i))}); err != nil {
				b.Fatal(err)
			}
		}
		if err := bi.Close(ctx); err != nil {
			b.Fatal(err)
		}
		if st := bi.Stats(); st.Indexed != 100_000 {
			b.Fatalf("setup indexed %+v", st)
		}
		if err := c.Refresh(ctx, idx); err != nil {
			b.Fatal(err)
		}
		// Merge the bulk's segments now, so the merges do not run under
		// whichever sub-benchmark comes first.
		one := 1
		res, err := esapi.IndicesForcemergeRequest{Index: []string{idx}, MaxNumSegments: &one}.Do(ctx, c.Transport())
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.IsError() {
			b.Fatal("force merge: ", res.Status())
		}
		// Warm the engine (JIT, caches) with the benchmark's query, so the
		// first sub-benchmark does not pay for it.
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 400 {
					res, err := esapi.SearchRequest{Index: []string{idx}, Body: strings.NewReader(queryBody(g*400 + i))}.Do(ctx, c.Transport())
					if err == nil {
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
				}
			})
		}
		wg.Wait()
		searchIndex = idx
	})
	if searchIndex == "" {
		b.Fatal("search index setup failed")
	}
	return searchIndex
}

// queryBody is the benchmark's query for raw esapi, the same the SDK sends.
func queryBody(i int) string {
	return fmt.Sprintf(`{"size":10,"query":{"bool":{"filter":[{"term":{"user_id.keyword":{"value":"u%d"}}}],"must":[{"match":{"title":{"query":"chunk uplaod","fuzziness":"AUTO"}}}]}}}`, i%1000)
}

// BenchmarkSearch runs a filtered full-text query (term filter on user_id,
// fuzzy match on title, top 10 by score) against a 100,000-document index
// from concurrent goroutines; q/s is compared with the seed's 500 q/s.
func BenchmarkSearch(b *testing.B) {
	c := setup(b)
	idx := searchSetup(b, c)
	b.Run("sdk", func(b *testing.B) {
		var n atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(4)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if err := sdkSearch(ctx, c, idx, int(n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "q/s")
	})
	b.Run("esapi", func(b *testing.B) {
		var n atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(4)
		tr := c.Transport()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if err := esapiSearch(ctx, tr, idx, int(n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "q/s")
	})
}

// BenchmarkSearchPaired runs BenchmarkSearch's query through the SDK and
// through raw esapi interleaved from the same 4 goroutines per CPU (see
// package pair), so the engine's warm-up and background work hit both
// alike: sdk-ns/op and peer-ns/op are mean latencies, and 2 x pairs/s is
// the queries per second the node answered.
func BenchmarkSearchPaired(b *testing.B) {
	c := setup(b)
	idx := searchSetup(b, c)
	tr := c.Transport()
	ctx := context.Background()
	b.ReportAllocs()
	pair.RunParallel(b, 4,
		func(i int) error { return sdkSearch(ctx, c, idx, i) },
		func(i int) error { return esapiSearch(ctx, tr, idx, i) })
}

// sdkSearch runs the benchmark's query number i through the SDK.
func sdkSearch(ctx context.Context, c *search.Client, idx string, i int) error {
	res, err := c.Search(ctx, idx, search.SearchRequest{
		Query: search.Bool{
			Filter: []search.Query{search.Term{Field: "user_id.keyword", Value: "u" + strconv.Itoa(i%1000)}},
			Must:   []search.Query{search.Match{Field: "title", Text: "chunk uplaod", Fuzziness: "AUTO"}},
		},
		Size: 10,
	})
	if err == nil && res.Total == 0 {
		err = fmt.Errorf("sdk: no hits")
	}
	return err
}

// esapiSearch runs the same query through raw esapi and decodes the total.
func esapiSearch(ctx context.Context, tr esapi.Transport, idx string, i int) error {
	res, err := esapi.SearchRequest{Index: []string{idx}, Body: strings.NewReader(queryBody(i))}.Do(ctx, tr)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.IsError() || out.Hits.Total.Value == 0 {
		return fmt.Errorf("esapi search failed: %v %s", err, res.Status())
	}
	return nil
}
