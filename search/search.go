package search

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Sort orders hits by Field (a field name, "_score" or "_doc").
type Sort struct {
	Field   string
	Desc    bool
	Missing string // "_first" or "_last"; empty for the engine default
}

// MarshalJSON renders {field: {"order": ...}}.
func (s Sort) MarshalJSON() ([]byte, error) { return appendSort(nil, s), nil }

// Highlight asks for highlighted fragments of Fields in each hit.
type Highlight struct {
	Fields            []string
	PreTag, PostTag   string // default <em> and </em>
	FragmentSize      int    // default 100
	NumberOfFragments int    // default 5
}

// MarshalJSON renders the highlight section.
func (h Highlight) MarshalJSON() ([]byte, error) { return appendHighlight(nil, &h), nil }

// SearchRequest is one search. The zero value matches all documents and
// returns the first 10 hits by score.
type SearchRequest struct {
	Query       Query // nil means MatchAll
	Sort        []Sort
	From        int
	Size        int  // 0 means 10
	NoHits      bool // size 0: only totals, aggregations, suggestions
	SearchAfter []any
	// Source limits the returned _source to these fields; nil returns all.
	Source    []string
	NoSource  bool
	Highlight *Highlight
	Aggs      map[string]Agg
	Suggest   map[string]Suggester
	// TrackTotalHits counts hits exactly beyond 10,000.
	TrackTotalHits bool
	// Timeout is the engine-side search timeout; partial results are
	// returned with TimedOut set.
	Timeout time.Duration
}

func formatDuration(d time.Duration) string {
	if ms := d.Milliseconds(); ms > 0 {
		return strconv.FormatInt(ms, 10) + "ms"
	}
	return "1ms"
}

// Hit is one search hit. Routing is the document's custom routing value
// ("" when it was written without one): pass it back as BulkItem.Routing or
// WriteOptions.Routing to write the document to the same shard again.
type Hit struct {
	Index     string              `json:"_index"`
	ID        string              `json:"_id"`
	Score     *float64            `json:"_score"` // nil when sorted by a field
	Source    json.RawMessage     `json:"_source"`
	Routing   string              `json:"_routing"`
	Sort      []json.RawMessage   `json:"sort"` // pass back as SearchAfter
	Highlight map[string][]string `json:"highlight"`
}

// Decode unmarshals the hit's _source into dst.
func (h *Hit) Decode(dst any) error {
	if err := json.Unmarshal(h.Source, dst); err != nil {
		return &Error{Op: "decode hit", Index: h.Index, Reason: "cannot decode _source", kind: ErrInvalid, cause: err}
	}
	return nil
}

// SearchAfter returns the hit's sort values as SearchRequest.SearchAfter.
func (h *Hit) SearchAfter() []any {
	out := make([]any, len(h.Sort))
	for i, s := range h.Sort {
		out[i] = s
	}
	return out
}

// SearchResult is the answer to a search.
type SearchResult struct {
	Took          int
	TimedOut      bool
	Total         int64
	TotalRelation string // "eq" or "gte"
	Hits          []Hit
	Aggs          Aggregations
	Suggest       Suggestions
}

type searchResponse struct {
	Took     int    `json:"took"`
	TimedOut bool   `json:"timed_out"`
	PitID    string `json:"pit_id"`
	Hits     struct {
		Total struct {
			Value    int64  `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Hits []Hit `json:"hits"`
	} `json:"hits"`
	Aggs    Aggregations `json:"aggregations"`
	Suggest Suggestions  `json:"suggest"`

	out SearchResult // result's, allocated with the answer
}

func (r *searchResponse) result() *SearchResult {
	r.out = SearchResult{
		Took: r.Took, TimedOut: r.TimedOut, Total: r.Hits.Total.Value, TotalRelation: r.Hits.Total.Relation,
		Hits: r.Hits.Hits, Aggs: r.Aggs, Suggest: r.Suggest,
	}
	return &r.out
}

// Search runs req against index, which may be a pattern: an index, alias
// or '*' pattern such as "lucid-sessions-*", or several comma-separated,
// as lucidkeys.ValidateIndexPattern allows ('%', "_all", exclusions and
// empty parts are ErrInvalid). It is escaped as one path segment, so the
// engine reads exactly that pattern.
func (c *Client) Search(ctx context.Context, index string, req SearchRequest) (*SearchResult, error) {
	if err := validateTarget("search", index); err != nil {
		return nil, err
	}
	t := true
	res, err := c.search(ctx, "search", index, esapi.SearchRequest{Index: []string{seg(index)}, AllowNoIndices: &t}, &req, "", "")
	if err != nil {
		return nil, err
	}
	return res.result(), nil
}

// search sends req as the body of r and reads the answer; pitID, when set,
// is the point in time to search, kept alive for keepAlive.
func (c *Client) search(ctx context.Context, op, index string, r esapi.SearchRequest, req *SearchRequest, pitID, keepAlive string) (*searchResponse, error) {
	body := getBody()
	b, err := req.appendBody((*body)[:0], pitID, keepAlive)
	*body = b
	if err != nil {
		putBody(body)
		return nil, &Error{Op: op, Reason: "cannot encode body as JSON", kind: ErrInvalid, cause: err}
	}
	r.Body = bytes.NewReader(b)
	buf := respPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			respPool.Put(buf)
		}
	}()
	if _, err := c.callStatus(ctx, op, index, r, buf); err != nil {
		// The transport may not be done with the body: leave it to the GC.
		return nil, err
	}
	putBody(body)
	hint := 10
	switch {
	case req.NoHits:
		hint = 0
	case req.Size > 0:
		hint = min(req.Size, 100)
	}
	res, err := parseSearchResponse(bytes.Clone(buf.Bytes()), hint)
	if err != nil {
		return nil, transportErr(ctx, ctx, op, index, err)
	}
	return res, nil
}

// FullTextSearch finds text in fields (all text fields when none are given)
// with a best-fields multi_match with AUTO fuzziness, highlighting the
// matches. text is matched as words, never parsed as query syntax.
func (c *Client) FullTextSearch(ctx context.Context, index, text string, fields []string) (*SearchResult, error) {
	if strings.TrimSpace(text) == "" {
		return nil, invalidf("full text search", "search text is empty")
	}
	hl := fields
	if len(hl) == 0 {
		hl = []string{"*"}
	}
	return c.Search(ctx, index, SearchRequest{
		Query:     MultiMatch{Text: text, Fields: fields, Fuzziness: "AUTO"},
		Highlight: &Highlight{Fields: hl},
		Size:      20,
	})
}

// TimeRange is a half-open time interval [From, To); zero ends are open.
type TimeRange struct {
	From, To time.Time
}

func (r TimeRange) query(field string) Query {
	if r.From.IsZero() && r.To.IsZero() {
		return nil
	}
	q := Range{Field: field}
	if !r.From.IsZero() {
		q.GTE = r.From.UTC().Format(time.RFC3339Nano)
	}
	if !r.To.IsZero() {
		q.LT = r.To.UTC().Format(time.RFC3339Nano)
	}
	return q
}

// SessionFilter narrows SearchSessions. Zero fields do not filter.
// Sessions are Lucid's upload/RDP sessions (mongostore's sessions
// collection), not package cache's login sessions.
type SessionFilter struct {
	Status  []string  // any of these statuses
	Created TimeRange // created_at range
	Text    string    // full text over title and description (fuzzy)
	Tags    []string  // all of these tags
	NodeID  string
	Sort    []Sort // default: created_at descending
	From    int
	Size    int // default 20
}

// SearchSessions returns userID's upload/RDP sessions (Lucid's sessions,
// not cache's login sessions) from all kept months (the read alias of
// lucid-sessions), newest first unless Sort says otherwise.
func (c *Client) SearchSessions(ctx context.Context, userID string, f SessionFilter) (*SearchResult, error) {
	if userID == "" {
		return nil, invalidf("search sessions", "user id is empty")
	}
	b := Bool{Filter: []Query{Term{Field: "user_id", Value: userID}}}
	if len(f.Status) > 0 {
		b.Filter = append(b.Filter, Terms{Field: "status", Values: anySlice(f.Status)})
	}
	for _, t := range f.Tags {
		b.Filter = append(b.Filter, Term{Field: "tags", Value: t})
	}
	if f.NodeID != "" {
		b.Filter = append(b.Filter, Term{Field: "node_id", Value: f.NodeID})
	}
	if q := f.Created.query(timeField(lucidkeys.EntitySessions)); q != nil {
		b.Filter = append(b.Filter, q)
	}
	req := SearchRequest{Sort: f.Sort, From: f.From, Size: f.Size}
	if f.Text != "" {
		b.Must = append(b.Must, MultiMatch{Text: f.Text, Fields: []string{"title^2", "description"}, Fuzziness: "AUTO"})
		req.Highlight = &Highlight{Fields: []string{"title", "description"}}
	} else if len(req.Sort) == 0 {
		req.Sort = []Sort{{Field: "created_at", Desc: true}}
	}
	if req.Size == 0 {
		req.Size = 20
	}
	req.Query = b
	alias, err := c.ReadAlias(lucidkeys.EntitySessions)
	if err != nil {
		return nil, err
	}
	return c.Search(ctx, alias, req)
}

// BlockFilter narrows SearchBlocks. Zero fields do not filter.
type BlockFilter struct {
	MinHeight, MaxHeight *int64 // inclusive block_height bounds
	MinerID              string // Lucid's miner_id
	TxID                 string // blocks whose transactions hold this tx_id
	SessionID            string // blocks anchoring this session (the search-only session_ids)
	Status               []string
	Sort                 []Sort // default: block_height descending
	From                 int
	Size                 int // default 20
}

// SearchBlocks returns blocks whose timestamp lies in r from all kept months
// (the read alias of lucid-blocks), highest first unless Sort says
// otherwise.
func (c *Client) SearchBlocks(ctx context.Context, r TimeRange, f BlockFilter) (*SearchResult, error) {
	b := Bool{}
	if q := r.query(timeField(lucidkeys.EntityBlocks)); q != nil {
		b.Filter = append(b.Filter, q)
	}
	if f.MinHeight != nil || f.MaxHeight != nil {
		q := Range{Field: "block_height"}
		if f.MinHeight != nil {
			q.GTE = *f.MinHeight
		}
		if f.MaxHeight != nil {
			q.LTE = *f.MaxHeight
		}
		b.Filter = append(b.Filter, q)
	}
	if f.MinerID != "" {
		b.Filter = append(b.Filter, Term{Field: "miner_id", Value: f.MinerID})
	}
	if f.TxID != "" {
		b.Filter = append(b.Filter, Term{Field: "transactions", Value: f.TxID})
	}
	if f.SessionID != "" {
		b.Filter = append(b.Filter, Term{Field: "session_ids", Value: f.SessionID})
	}
	if len(f.Status) > 0 {
		b.Filter = append(b.Filter, Terms{Field: "status", Values: anySlice(f.Status)})
	}
	req := SearchRequest{Query: b, Sort: f.Sort, From: f.From, Size: f.Size}
	if len(req.Sort) == 0 {
		req.Sort = []Sort{{Field: "block_height", Desc: true}}
	}
	if req.Size == 0 {
		req.Size = 20
	}
	alias, err := c.ReadAlias(lucidkeys.EntityBlocks)
	if err != nil {
		return nil, err
	}
	return c.Search(ctx, alias, req)
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// ScanOptions configures Scan.
type ScanOptions struct {
	Query    Query  // nil means MatchAll
	Sort     []Sort // a tiebreaker is appended (see Scan)
	PageSize int    // default 1000
	// KeepAlive is how long the point in time survives between pages;
	// default 1m.
	KeepAlive time.Duration
	Source    []string
}

// Scan iterates over every hit of o.Query in index, page by page, with
// search_after over a point in time, so the view is consistent and deep
// pages cost no more than the first. The point in time is closed when the
// loop ends, even early. Elasticsearch pages with the exact _shard_doc
// tiebreaker; OpenSearch has none, so the SDK appends _id, which is exact
// within one index (and across several as long as ids are unique).
//
// Point in time differs per engine: Elasticsearch opens it with
// POST /{index}/_pit and closes it with DELETE /_pit; OpenSearch 2.4+ with
// POST /{index}/_search/point_in_time and DELETE /_search/point_in_time.
func (c *Client) Scan(ctx context.Context, index string, o ScanOptions) iter.Seq2[Hit, error] {
	return func(yield func(Hit, error) bool) {
		if err := validateTarget("scan", index); err != nil {
			yield(Hit{}, err)
			return
		}
		if o.PageSize <= 0 {
			o.PageSize = 1000
		}
		if o.KeepAlive <= 0 {
			o.KeepAlive = time.Minute
		}
		keep := formatDuration(o.KeepAlive)
		pit, err := c.OpenPointInTime(ctx, index, o.KeepAlive)
		if err != nil {
			yield(Hit{}, err)
			return
		}
		defer func() {
			// Free the engine's resources even when ctx is done.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := c.ClosePointInTime(cctx, pit); err != nil {
				c.log.Warn("search: close point in time", "err", err.Error())
			}
		}()
		req := SearchRequest{Query: o.Query, Sort: append([]Sort(nil), o.Sort...), Size: o.PageSize, Source: o.Source}
		if c.product == ProductElasticsearch {
			req.Sort = append(req.Sort, Sort{Field: "_shard_doc"})
		} else {
			req.Sort = append(req.Sort, Sort{Field: "_id"})
		}
		for {
			// With a point in time the index is not named in the path.
			res, err := c.search(ctx, "scan", index, esapi.SearchRequest{}, &req, pit, keep)
			if err != nil {
				yield(Hit{}, err)
				return
			}
			if res.PitID != "" {
				pit = res.PitID
			}
			hits := res.Hits.Hits
			for i := range hits {
				if !yield(hits[i], nil) {
					return
				}
			}
			if len(hits) < o.PageSize {
				return
			}
			req.SearchAfter = hits[len(hits)-1].SearchAfter()
		}
	}
}

// OpenPointInTime opens a point in time on index (a name, alias or pattern,
// as for Search) for keepAlive and returns its id; engines without point in
// time answer ErrUnsupported.
func (c *Client) OpenPointInTime(ctx context.Context, index string, keepAlive time.Duration) (string, error) {
	if err := validateTarget("open point in time", index); err != nil {
		return "", err
	}
	q := url.Values{"keep_alive": {formatDuration(keepAlive)}}
	var res struct {
		ID    string `json:"id"`     // Elasticsearch
		PitID string `json:"pit_id"` // OpenSearch
	}
	path := "/" + seg(index) + "/_pit"
	if c.product == ProductOpenSearch {
		if c.major < 2 || (c.major == 2 && c.minor < 4) {
			return "", &Error{Op: "open point in time", Index: index, Reason: "OpenSearch " + c.version + " has no point in time (2.4+)", kind: ErrUnsupported}
		}
		path = "/" + seg(index) + "/_search/point_in_time"
	}
	if err := c.call(ctx, "open point in time", index, raw("POST", path, q, nil), &res); err != nil {
		return "", err
	}
	if res.PitID != "" {
		return res.PitID, nil
	}
	return res.ID, nil
}

// ClosePointInTime releases a point in time opened by OpenPointInTime.
func (c *Client) ClosePointInTime(ctx context.Context, id string) error {
	if c.product == ProductOpenSearch {
		body, _ := json.Marshal(obj{"pit_id": []string{id}})
		return c.call(ctx, "close point in time", "", raw("DELETE", "/_search/point_in_time", nil, body), nil)
	}
	body, _ := json.Marshal(obj{"id": id})
	return c.call(ctx, "close point in time", "", raw("DELETE", "/_pit", nil, body), nil)
}
