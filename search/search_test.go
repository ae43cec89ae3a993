//go:build !lucidfuzz

package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

func TestQueryJSON(t *testing.T) {
	q := Bool{
		Must:    []Query{MultiMatch{Text: "hello", Fields: []string{"title^2"}, Fuzziness: "AUTO"}},
		Filter:  []Query{Term{Field: "user_id", Value: "u1"}, Terms{Field: "status", Values: []any{"a", "b"}}, Range{Field: "n", GTE: 1, LT: 5}},
		Should:  []Query{Match{Field: "d", Text: "x", Operator: "and"}, Prefix{Field: "k", Value: "ab"}},
		MustNot: []Query{MatchAll{}, nil},
	}
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bool":{"filter":[{"term":{"user_id":{"value":"u1"}}},{"terms":{"status":["a","b"]}},{"range":{"n":{"gte":1,"lt":5}}}],"must":[{"multi_match":{"fields":["title^2"],"fuzziness":"AUTO","query":"hello"}}],"must_not":[{"match_all":{}}],"should":[{"match":{"d":{"operator":"and","query":"x"}}},{"prefix":{"k":{"value":"ab"}}}]}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(QueryString{Text: `a AND b:c OR (d`})
	if string(b) != `{"query_string":{"lenient":true,"query":"a and b\\:c or \\(d"}}` {
		t.Fatalf("query_string: %s", b)
	}
}

type session struct {
	SessionID   string    `json:"session_id"`
	UserID      string    `json:"user_id"`
	Status      string    `json:"status"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Tags        []string  `json:"tags"`
	CreatedAt   time.Time `json:"created_at"`
	ChunkCount  int64     `json:"chunk_count"`
	Suggest     []string  `json:"suggest,omitempty"`
}

// seedSessions writes n sessions across two months through the SDK.
func seedSessions(t *testing.T, c *Client, n int) {
	t.Helper()
	ctx := ctxT(t)
	bi := c.NewBulkIndexer(BulkConfig{Workers: 2})
	for i := range n {
		at := time.Date(2026, 10+time.Month(i%2), 1+i%28, 12, 0, 0, 0, time.UTC)
		idx, err := c.IndexFor(ctx, lucidkeys.EntitySessions, at)
		if err != nil {
			t.Fatal(err)
		}
		s := session{
			SessionID: fmt.Sprintf("s%03d", i), UserID: fmt.Sprintf("u%d", i%3), Status: []string{"active", "completed"}[i%2],
			Title:       []string{"blockchain anchoring", "chunk upload", "merkle proof verification"}[i%3],
			Description: "session number " + fmt.Sprint(i), Tags: []string{"t" + fmt.Sprint(i%4)}, CreatedAt: at, ChunkCount: int64(i),
			Suggest: []string{[]string{"anchor", "upload", "merkle"}[i%3]},
		}
		if err := bi.Add(ctx, BulkItem{Index: idx, ID: s.SessionID, Body: s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := bi.Stats(); st.Indexed != uint64(n) {
		t.Fatalf("seeded %+v", st)
	}
	read, _ := c.ReadAlias(lucidkeys.EntitySessions)
	if err := c.Refresh(ctx, read); err != nil {
		t.Fatal(err)
	}
}

func TestSearchFeatures(t *testing.T) {
	c := newTestClient(t, Config{Clock: func() time.Time { return time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC) }})
	ctx := ctxT(t)
	seedSessions(t, c, 60)
	read, _ := c.ReadAlias(lucidkeys.EntitySessions)
	pattern, _ := c.IndexPattern(lucidkeys.EntitySessions)

	t.Run("sort from size", func(t *testing.T) {
		res, err := c.Search(ctx, pattern, SearchRequest{Sort: []Sort{{Field: "chunk_count", Desc: true}}, From: 5, Size: 3})
		if err != nil || res.Total != 60 || len(res.Hits) != 3 {
			t.Fatalf("%+v %v", res, err)
		}
		var s session
		if err := res.Hits[0].Decode(&s); err != nil || s.ChunkCount != 54 {
			t.Fatalf("first hit %+v %v", s, err)
		}
	})
	t.Run("search after", func(t *testing.T) {
		first, err := c.Search(ctx, read, SearchRequest{Sort: []Sort{{Field: "session_id"}}, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		next, err := c.Search(ctx, read, SearchRequest{Sort: []Sort{{Field: "session_id"}}, Size: 10, SearchAfter: first.Hits[9].SearchAfter()})
		if err != nil || next.Hits[0].ID != "s010" {
			t.Fatalf("%+v %v", next, err)
		}
	})
	t.Run("full text fuzzy highlight", func(t *testing.T) {
		res, err := c.FullTextSearch(ctx, read, "merkel proof", []string{"title", "description"})
		if err != nil || res.Total != 20 {
			t.Fatalf("%+v %v", res, err)
		}
		if hl := res.Hits[0].Highlight["title"]; len(hl) == 0 || !strings.Contains(hl[0], "<em>") {
			t.Fatalf("highlight: %+v", res.Hits[0].Highlight)
		}
		if _, err := c.FullTextSearch(ctx, read, "  ", nil); !errors.Is(err, ErrInvalid) {
			t.Fatalf("empty text: %v", err)
		}
	})
	t.Run("sessions", func(t *testing.T) {
		res, err := c.SearchSessions(ctx, "u1", SessionFilter{Status: []string{"active"}})
		if err != nil || res.Total != 10 {
			t.Fatalf("%+v %v", res, err)
		}
		var prev time.Time
		for i, h := range res.Hits {
			var s session
			h.Decode(&s)
			if s.UserID != "u1" || s.Status != "active" || (i > 0 && s.CreatedAt.After(prev)) {
				t.Fatalf("hit %d: %+v", i, s)
			}
			prev = s.CreatedAt
		}
		res, err = c.SearchSessions(ctx, "u0", SessionFilter{Text: "blockchain", Created: TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}})
		if err != nil || res.Total != 10 {
			t.Fatalf("text+range: %+v %v", res, err)
		}
		if _, err := c.SearchSessions(ctx, "", SessionFilter{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("empty user: %v", err)
		}
	})
	t.Run("aggregations", func(t *testing.T) {
		res, err := c.Search(ctx, read, SearchRequest{NoHits: true, Aggs: map[string]Agg{
			"users":  TermsAgg{Field: "user_id"},
			"months": DateHistogramAgg{Field: "created_at", CalendarInterval: "month"},
			"chunks": StatsAgg{Field: "chunk_count"},
			"titles": CardinalityAgg{Field: "title.keyword"},
		}})
		if err != nil || len(res.Hits) != 0 {
			t.Fatal(err)
		}
		terms, err := res.Aggs.Terms("users")
		if err != nil || len(terms.Buckets) != 3 || terms.Buckets[0].DocCount != 20 {
			t.Fatalf("terms %+v %v", terms, err)
		}
		hist, err := res.Aggs.DateHistogram("months")
		if err != nil || len(hist.Buckets) != 2 || !hist.Buckets[1].Time.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || hist.Buckets[1].DocCount != 30 {
			t.Fatalf("histogram %+v %v", hist, err)
		}
		st, err := res.Aggs.Stats("chunks")
		if err != nil || st.Count != 60 || *st.Min != 0 || *st.Max != 59 || st.Sum != 1770 {
			t.Fatalf("stats %+v %v", st, err)
		}
		n, err := res.Aggs.Cardinality("titles")
		if err != nil || n != 3 {
			t.Fatalf("cardinality %d %v", n, err)
		}
		if _, err := res.Aggs.Terms("nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing agg: %v", err)
		}
	})
	t.Run("suggestions", func(t *testing.T) {
		res, err := c.Search(ctx, read, SearchRequest{NoHits: true, Suggest: map[string]Suggester{
			"spell":    TermSuggest{Text: "merkel", Field: "title"},
			"complete": CompletionSuggest{Prefix: "upl", Field: "suggest"},
			"fuzzy":    CompletionSuggest{Prefix: "ancjor", Field: "suggest", Fuzzy: true},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if sp := res.Suggest["spell"]; len(sp) != 1 || len(sp[0].Options) == 0 || sp[0].Options[0].Text != "merkle" || sp[0].Options[0].Freq == 0 {
			t.Fatalf("term suggest %+v", res.Suggest["spell"])
		}
		if co := res.Suggest["complete"]; len(co) != 1 || len(co[0].Options) == 0 || co[0].Options[0].Text != "upload" || co[0].Options[0].ID == "" {
			t.Fatalf("completion %+v", res.Suggest["complete"])
		}
		if fz := res.Suggest["fuzzy"]; len(fz) != 1 || len(fz[0].Options) == 0 || fz[0].Options[0].Text != "anchor" {
			t.Fatalf("fuzzy completion %+v", res.Suggest["fuzzy"])
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, target := range []string{"", "A", "a b", "a,/b"} {
			if _, err := c.Search(ctx, target, SearchRequest{}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("target %q: %v", target, err)
			}
		}
		_, err := c.Search(ctx, read, SearchRequest{Query: RawQuery(`{"nope":{}}`)})
		var e *Error
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Type == "" {
			t.Fatalf("bad raw query: %v", err)
		}
	})
}

// TestHostileQueryText sends text built to break query syntax through every
// path user text can take; each must be answered, never a parse error.
func TestHostileQueryText(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "hostile"
	if _, err := c.Index(ctx, idx, "1", map[string]any{"title": `a "quoted" (title) AND more`, "user_id": "u"}, &WriteOptions{Refresh: RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	hostile := []string{
		`"`, `\`, `(`, `)`, `[`, `{`, `*`, `?`, `~`, `^`, `:`, `/`, `<`, `>`, `!`, `&&`, `||`, `AND`, `OR NOT`,
		`user_id:* OR _id:*`, `zz:b AND (c OR`, `/.*/`, `\"`, `*:*`, `" OR 1=1 --`, `{"match_all":{}}`,
		"\x00\x01\u2028\uffff", strings.Repeat("(", 300), `a~10000000000`, `title:/[a-z]{1,100000}/`,
		`<script>alert(1)</script>`, `_exists_:user_id`, `"quoted" (title)`,
	}
	for _, h := range hostile {
		for name, q := range map[string]Query{
			"multi_match":         MultiMatch{Text: h, Fields: []string{"title"}, Fuzziness: "AUTO"},
			"match":               Match{Field: "title", Text: h},
			"simple_query_string": SimpleQueryString{Text: h, Fields: []string{"title"}},
			"query_string":        QueryString{Text: h, Fields: []string{"title"}},
		} {
			res, err := c.Search(ctx, idx, SearchRequest{Query: q})
			if err != nil {
				t.Fatalf("%s %q: %v", name, h, err)
			}
			if name == "query_string" && (h == "*:*" || h == "user_id:* OR _id:*" || h == "_exists_:user_id") && res.Total != 0 {
				t.Fatalf("%s %q was interpreted as syntax: %d hits", name, h, res.Total)
			}
		}
	}
	// The literal words of the document are still found through query_string.
	res, err := c.Search(ctx, idx, SearchRequest{Query: QueryString{Text: `"quoted" (title)`, Fields: []string{"title"}}})
	if err != nil || res.Total != 1 {
		t.Fatalf("escaped literal: %+v %v", res, err)
	}
}

// TestScanPointInTime pages through 50,000 documents with search_after over
// a point in time: every document exactly once, none missing.
func TestScanPointInTime(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "scan"
	if err := c.CreateIndex(ctx, idx, IndexSpec{
		Settings: map[string]any{"number_of_shards": 3, "number_of_replicas": 0, "refresh_interval": "-1"},
		Mappings: map[string]any{"properties": map[string]any{"n": map[string]any{"type": "long"}, "g": map[string]any{"type": "keyword"}}},
	}); err != nil {
		t.Fatal(err)
	}
	const n = 50_000
	bi := c.NewBulkIndexer(BulkConfig{Workers: 2, FlushBytes: 1 << 20})
	for i := range n {
		// Many equal sort keys (g) force the tiebreaker to do its job.
		doc := fmt.Appendf(nil, `{"n":%d,"g":"g%d"}`, i, i%7)
		if err := bi.Add(ctx, BulkItem{Index: idx, ID: fmt.Sprint(i), Body: json.RawMessage(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := bi.Stats(); st.Indexed != n || st.Failed != 0 {
		t.Fatalf("bulk %+v", st)
	}
	if err := c.Refresh(ctx, idx); err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, n)
	count := 0
	for h, err := range c.Scan(ctx, idx, ScanOptions{Sort: []Sort{{Field: "g"}}, PageSize: 5000, Source: []string{"n"}}) {
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ N int }
		if err := h.Decode(&d); err != nil {
			t.Fatal(err)
		}
		if seen[d.N] {
			t.Fatalf("document %d returned twice", d.N)
		}
		seen[d.N] = true
		count++
	}
	if count != n {
		t.Fatalf("scanned %d of %d", count, n)
	}
	// Breaking out early closes the point in time; a cancelled ctx stops.
	i := 0
	for _, err := range c.Scan(ctx, idx, ScanOptions{PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if i++; i == 15 {
			break
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range c.Scan(cctx, idx, ScanOptions{}) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled scan: %v", err)
		}
	}
	for _, err := range c.Scan(ctx, "Bad", ScanOptions{}) {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad scan target: %v", err)
		}
	}
}

func TestSearchBlocks(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	base := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)
	for h := range 10 {
		at := base.Add(time.Duration(h) * 24 * time.Hour)
		_, err := c.IndexEntity(ctx, lucidkeys.EntityBlocks, fmt.Sprint(h), map[string]any{
			"block_height": h, "block_hash": fmt.Sprintf("h%d", h), "previous_hash": fmt.Sprintf("h%d", h-1), "timestamp": at,
			"transactions": []string{fmt.Sprintf("tx%d", h)}, "miner_id": []string{"p1", "p2"}[h%2], "session_ids": []string{fmt.Sprintf("s%d", h)},
		}, at, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	read, _ := c.ReadAlias(lucidkeys.EntityBlocks)
	if err := c.Refresh(ctx, read); err != nil {
		t.Fatal(err)
	}
	lo := int64(2)
	res, err := c.SearchBlocks(ctx, TimeRange{From: base, To: base.Add(8 * 24 * time.Hour)}, BlockFilter{MinHeight: &lo, MinerID: "p1"})
	if err != nil || res.Total != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Hits[0].ID != "6" || res.Hits[2].ID != "2" {
		t.Fatalf("order: %s %s", res.Hits[0].ID, res.Hits[2].ID)
	}
	res, err = c.SearchBlocks(ctx, TimeRange{}, BlockFilter{SessionID: "s9"})
	if err != nil || res.Total != 1 || res.Hits[0].ID != "9" {
		t.Fatalf("by session: %+v %v", res, err)
	}
	res, err = c.SearchBlocks(ctx, TimeRange{}, BlockFilter{TxID: "tx4"})
	if err != nil || res.Total != 1 || res.Hits[0].ID != "4" {
		t.Fatalf("by transaction: %+v %v", res, err)
	}
}

// TestHitRouting: a hit carries the custom routing its document was
// written with, from Search and from Scan, and "" without one.
func TestHitRouting(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "routing"
	if err := c.CreateIndex(ctx, idx, IndexSpec{Settings: map[string]any{"number_of_shards": 3, "number_of_replicas": 0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Index(ctx, idx, "r", map[string]any{"n": 1}, &WriteOptions{Routing: "user \"42\"/x"}); err != nil {
		t.Fatal(err)
	}
	bi := c.NewBulkIndexer(BulkConfig{Workers: 1})
	if err := bi.Add(ctx, BulkItem{Index: idx, ID: "b", Routing: "r2", Body: map[string]any{"n": 2}}); err != nil {
		t.Fatal(err)
	}
	if err := bi.Add(ctx, BulkItem{Index: idx, ID: "plain", Body: map[string]any{"n": 3}}); err != nil {
		t.Fatal(err)
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(ctx, idx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"r": "user \"42\"/x", "b": "r2", "plain": ""}
	res, err := c.Search(ctx, idx, SearchRequest{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range res.Hits {
		got[h.ID] = h.Routing
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("search: routing %q, want %q", got, want)
	}
	got = map[string]string{}
	for h, err := range c.Scan(ctx, idx, ScanOptions{PageSize: 2, Source: []string{"n"}}) {
		if err != nil {
			t.Fatal(err)
		}
		got[h.ID] = h.Routing
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scan: routing %q, want %q", got, want)
	}
}
