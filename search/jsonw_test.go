package search

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// The request writers must produce exactly what the map-based builders
// they replaced produced through json.Marshal. The old builders are kept
// here as the reference.

func refNonNil(qs []Query) []any {
	out := make([]any, 0, len(qs))
	for _, q := range qs {
		if q != nil {
			out = append(out, refQuery(q))
		}
	}
	return out
}

func refQuery(q Query) any {
	switch q := q.(type) {
	case nil:
		return obj{"match_all": obj{}}
	case Bool:
		b := obj{}
		for k, v := range map[string][]Query{"must": q.Must, "filter": q.Filter, "should": q.Should, "must_not": q.MustNot} {
			if v := refNonNil(v); len(v) > 0 {
				b[k] = v
			}
		}
		if q.MinimumShouldMatch != "" {
			b["minimum_should_match"] = q.MinimumShouldMatch
		}
		return obj{"bool": b}
	case Term:
		return obj{"term": obj{q.Field: obj{"value": q.Value}}}
	case Terms:
		v := q.Values
		if v == nil {
			v = []any{}
		}
		return obj{"terms": obj{q.Field: v}}
	case Range:
		r := obj{}
		for k, v := range map[string]any{"gte": q.GTE, "gt": q.GT, "lte": q.LTE, "lt": q.LT} {
			if v != nil {
				r[k] = v
			}
		}
		if q.Format != "" {
			r["format"] = q.Format
		}
		if q.TimeZone != "" {
			r["time_zone"] = q.TimeZone
		}
		return obj{"range": obj{q.Field: r}}
	case Match:
		m := obj{"query": q.Text}
		if q.Operator != "" {
			m["operator"] = q.Operator
		}
		if q.Fuzziness != "" {
			m["fuzziness"] = q.Fuzziness
		}
		return obj{"match": obj{q.Field: m}}
	case MultiMatch:
		m := obj{"query": q.Text}
		if len(q.Fields) > 0 {
			m["fields"] = q.Fields
		}
		if q.Type != "" {
			m["type"] = q.Type
		}
		if q.Operator != "" {
			m["operator"] = q.Operator
		}
		if q.Fuzziness != "" {
			m["fuzziness"] = q.Fuzziness
		}
		return obj{"multi_match": m}
	case Prefix:
		return obj{"prefix": obj{q.Field: obj{"value": q.Value}}}
	case SimpleQueryString:
		m := obj{"query": q.Text, "lenient": true}
		if len(q.Fields) > 0 {
			m["fields"] = q.Fields
		}
		return obj{"simple_query_string": m}
	case QueryString:
		m := obj{"query": EscapeQueryString(q.Text), "lenient": true}
		if len(q.Fields) > 0 {
			m["fields"] = q.Fields
		}
		return obj{"query_string": m}
	}
	return q // MatchAll, RawQuery, pointers: their own MarshalJSON
}

func refSort(s Sort) any {
	o := obj{"order": "asc"}
	if s.Desc {
		o["order"] = "desc"
	}
	if s.Missing != "" {
		o["missing"] = s.Missing
	}
	return obj{s.Field: o}
}

func refHighlight(h *Highlight) any {
	fields := obj{}
	for _, f := range h.Fields {
		fields[f] = obj{}
	}
	o := obj{"fields": fields}
	if h.PreTag != "" {
		o["pre_tags"] = []string{h.PreTag}
	}
	if h.PostTag != "" {
		o["post_tags"] = []string{h.PostTag}
	}
	if h.FragmentSize > 0 {
		o["fragment_size"] = h.FragmentSize
	}
	if h.NumberOfFragments > 0 {
		o["number_of_fragments"] = h.NumberOfFragments
	}
	return o
}

func refBody(r *SearchRequest, pit map[string]any) any {
	b := obj{"query": refQuery(r.Query)}
	if len(r.Sort) > 0 {
		s := make([]any, len(r.Sort))
		for i := range r.Sort {
			s[i] = refSort(r.Sort[i])
		}
		b["sort"] = s
	}
	if r.From > 0 {
		b["from"] = r.From
	}
	switch {
	case r.NoHits:
		b["size"] = 0
	case r.Size > 0:
		b["size"] = r.Size
	}
	if len(r.SearchAfter) > 0 {
		b["search_after"] = r.SearchAfter
	}
	switch {
	case r.NoSource:
		b["_source"] = false
	case r.Source != nil:
		b["_source"] = r.Source
	}
	if r.Highlight != nil {
		b["highlight"] = refHighlight(r.Highlight)
	}
	if len(r.Aggs) > 0 {
		b["aggs"] = r.Aggs
	}
	if len(r.Suggest) > 0 {
		b["suggest"] = r.Suggest
	}
	if r.TrackTotalHits {
		b["track_total_hits"] = true
	}
	if r.Timeout > 0 {
		b["timeout"] = formatDuration(r.Timeout)
	}
	if pit != nil {
		b["pit"] = pit
	}
	return b
}

// reqGen builds random requests from awkward strings and values, and from
// extra strings when given (the fuzzer's).
type reqGen struct {
	r     *rand.Rand
	extra []string
}

var awkward = []string{"", "a", "title", "user_id.keyword", `q"uote`, `back\slash`, "<b>&amp;</b>", "new\nline", "tab\t", "\u2028", "é", "日本", "\xff\xfe", "AND", "a*b?", "\x00", "\x7f"}

func (g reqGen) str() string {
	if len(g.extra) > 0 && g.r.IntN(3) == 0 {
		return g.extra[g.r.IntN(len(g.extra))]
	}
	return awkward[g.r.IntN(len(awkward))]
}

func (g reqGen) strs() []string {
	if g.r.IntN(3) == 0 {
		return nil
	}
	out := make([]string, g.r.IntN(4))
	for i := range out {
		out[i] = g.str()
	}
	return out
}

func (g reqGen) value() any {
	switch g.r.IntN(12) {
	case 0:
		return nil
	case 1:
		return g.r.Int64() - g.r.Int64()
	case 2:
		return g.r.IntN(1000)
	case 3:
		return g.r.Float64() * 1e6
	case 4:
		return g.r.IntN(2) == 0
	case 5:
		return time.Date(2026, 11, 26, 1, 2, 3, 4, time.UTC)
	case 6:
		return json.RawMessage(`{ "a" : [1, 2] }`)
	case 7:
		return uint64(g.r.Uint64())
	case 8:
		return int32(g.r.Int32())
	case 9:
		return []string{g.str()}
	case 10:
		v := g.r.IntN(9)
		return &v
	}
	return g.str()
}

func (g reqGen) query(depth int) Query {
	switch g.r.IntN(13) {
	case 0:
		return nil
	case 1:
		if depth < 3 {
			qs := func() []Query {
				if g.r.IntN(3) == 0 {
					return nil
				}
				out := make([]Query, g.r.IntN(3))
				for i := range out {
					out[i] = g.query(depth + 1)
				}
				return out
			}
			b := Bool{Must: qs(), Filter: qs(), Should: qs(), MustNot: qs()}
			if g.r.IntN(2) == 0 {
				b.MinimumShouldMatch = g.str()
			}
			return b
		}
		return MatchAll{}
	case 2:
		return Term{Field: g.str(), Value: g.value()}
	case 3:
		var vs []any
		if g.r.IntN(3) > 0 {
			vs = []any{g.value(), g.value()}
		}
		return Terms{Field: g.str(), Values: vs}
	case 4:
		r := Range{Field: g.str(), Format: g.str(), TimeZone: g.str()}
		for _, p := range []*any{&r.GTE, &r.GT, &r.LTE, &r.LT} {
			if g.r.IntN(2) == 0 {
				*p = g.value()
			}
		}
		return r
	case 5:
		return Match{Field: g.str(), Text: g.str(), Operator: g.str(), Fuzziness: g.str()}
	case 6:
		return MultiMatch{Text: g.str(), Fields: g.strs(), Type: g.str(), Operator: g.str(), Fuzziness: g.str()}
	case 7:
		return Prefix{Field: g.str(), Value: g.str()}
	case 8:
		return SimpleQueryString{Text: g.str(), Fields: g.strs()}
	case 9:
		return QueryString{Text: g.str(), Fields: g.strs()}
	case 10:
		if g.r.IntN(2) == 0 {
			return RawQuery(nil)
		}
		return RawQuery(`{"term" : {"x":"<y>"}}`)
	case 11:
		return &Term{Field: g.str(), Value: g.value()}
	}
	return MatchAll{}
}

func (g reqGen) request() SearchRequest {
	r := SearchRequest{Query: g.query(0), From: g.r.IntN(3) * 10, Size: g.r.IntN(3) * 7, NoHits: g.r.IntN(5) == 0,
		Source: g.strs(), NoSource: g.r.IntN(5) == 0, TrackTotalHits: g.r.IntN(2) == 0,
		Timeout: time.Duration(g.r.IntN(3)) * 1500 * time.Microsecond}
	for range g.r.IntN(3) {
		r.Sort = append(r.Sort, Sort{Field: g.str(), Desc: g.r.IntN(2) == 0, Missing: g.str()})
	}
	for range g.r.IntN(3) {
		r.SearchAfter = append(r.SearchAfter, g.value())
	}
	if g.r.IntN(2) == 0 {
		r.Highlight = &Highlight{Fields: g.strs(), PreTag: g.str(), PostTag: g.str(), FragmentSize: g.r.IntN(2) * 50, NumberOfFragments: g.r.IntN(2) * 3}
	}
	if g.r.IntN(3) == 0 {
		r.Aggs = map[string]Agg{g.str(): TermsAgg{Field: g.str(), Size: 5}, "h": DateHistogramAgg{Field: "t", CalendarInterval: "day"}}
	}
	if g.r.IntN(3) == 0 {
		r.Suggest = map[string]Suggester{g.str(): TermSuggest{Text: g.str(), Field: g.str()}}
	}
	return r
}

// checkBody compares the hand-written body and query of req, byte for
// byte, with json.Marshal of the reference builders.
func checkBody(t *testing.T, i int, g reqGen, req SearchRequest) {
	t.Helper()
	var pit map[string]any
	pitID, keep := "", ""
	if i%4 == 0 {
		pitID, keep = g.str()+"pit", "1m"
		pit = obj{"id": pitID, "keep_alive": keep}
	}
	got, err := req.appendBody(nil, pitID, keep)
	want, werr := json.Marshal(refBody(&req, pit))
	if (err == nil) != (werr == nil) {
		t.Fatalf("request %d: error %v, reference %v", i, err, werr)
	}
	if err == nil && string(got) != string(want) {
		t.Fatalf("request %d:\n got %s\nwant %s", i, got, want)
	}
	if req.Query == nil {
		return
	}
	q, err := json.Marshal(req.Query)
	rq, werr := json.Marshal(refQuery(req.Query))
	if (err == nil) != (werr == nil) || (err == nil && string(q) != string(rq)) {
		t.Fatalf("query %d:\n got %s %v\nwant %s %v", i, q, err, rq, werr)
	}
}

func TestRequestBodiesMatchReference(t *testing.T) {
	g := reqGen{r: rand.New(rand.NewPCG(1, 2))}
	for i := range 20000 {
		checkBody(t, i, g, g.request())
	}
}

// FuzzRequestBody: the request writers produce exactly json.Marshal's bytes
// of the reference builders for requests drawn from the fuzzer's seeds,
// with the fuzzer's strings among the names, values and texts.
func FuzzRequestBody(f *testing.F) {
	for i, s := range awkward {
		f.Add(uint64(i), uint64(i*7+1), s, awkward[(i+3)%len(awkward)])
	}
	f.Fuzz(func(t *testing.T, seed1, seed2 uint64, s1, s2 string) {
		g := reqGen{r: rand.New(rand.NewPCG(seed1, seed2)), extra: []string{s1, s2}}
		for i := range 8 {
			checkBody(t, i, g, g.request())
		}
	})
}

func TestRequestBodyErrors(t *testing.T) {
	for _, q := range []Query{Term{Field: "f", Value: func() {}}, Terms{Field: "f", Values: []any{make(chan int)}},
		Bool{Must: []Query{RawQuery(`{"bad"`)}}, Range{Field: "f", GT: func() {}}} {
		r := SearchRequest{Query: q}
		if _, err := r.appendBody(nil, "", ""); err == nil {
			t.Fatalf("%#v encoded", q)
		}
	}
}

func BenchmarkRequestBody(b *testing.B) {
	req := SearchRequest{
		Query: Bool{
			Filter: []Query{Term{Field: "user_id.keyword", Value: "u42"}},
			Must:   []Query{Match{Field: "title", Text: "chunk uplaod", Fuzziness: "AUTO"}},
		},
		Size: 10,
	}
	b.Run("writer", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = req.appendBody(buf[:0], "", "")
		}
	})
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(refBody(&req, nil))
		}
	})
}

// TestFastReadersTakeEngineAnswers: answers shaped as OpenSearch and
// Elasticsearch send them are read by the one-pass readers, not handed to
// encoding/json.
func TestFastReadersTakeEngineAnswers(t *testing.T) {
	search := `{"took":5,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":100,"relation":"eq"},"max_score":2.5,"hits":[{"_index":"i","_id":"1","_score":2.5,"_source":{"title":"chunk upload 1"}},{"_index":"i","_id":"2","_score":null,"_source":{},"sort":[17,"k"],"highlight":{"title":["<em>x</em>"]}}]},"aggregations":{"by":{"buckets":[]}}}`
	s := jsonScanner{b: []byte(search)}
	var r searchResponse
	if !s.searchResponse(&r, 10) || len(r.Hits.Hits) != 2 || r.Hits.Hits[1].Index != "i" || *r.Hits.Hits[0].Score != 2.5 {
		t.Fatalf("search answer not read: %+v", r)
	}
	if h := r.Hits.Hits[0].Source; cap(h) != len(h) {
		t.Fatalf("_source capacity %d, length %d: an append would overwrite the next hit", cap(h), len(h))
	}
	bulk := `{"took":3,"errors":true,"items":[{"index":{"_index":"i","_id":"1","_version":1,"result":"created","_seq_no":0,"_primary_term":1,"status":201}},{"index":{"_index":"i","_id":"2","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}]}`
	b := jsonScanner{b: []byte(bulk)}
	items, ok := b.response(nil)
	if !ok || len(items) != 2 || items[1].engineError().Type != "mapper_parsing_exception" {
		t.Fatalf("bulk answer not read: %v %+v", ok, items)
	}
	it := BulkItem{Index: "i", ID: "1"}
	if res := items[0].result(&it); res.Result != "created" || res.Status != 201 || res.SeqNo != 0 || res.PrimaryTerm != 1 {
		t.Fatalf("bulk item: %+v", res)
	}
}
