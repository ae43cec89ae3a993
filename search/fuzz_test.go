package search

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// FuzzEscapeQueryString checks that escaped text has no unescaped
// query_string operator: every special character is preceded by a
// backslash, '<' and '>' are gone, and AND/OR/NOT are not words.
func FuzzEscapeQueryString(f *testing.F) {
	for _, s := range []string{"", `a AND b`, `title:* OR _id:*`, `\`, `\\"`, `((((`, "x\x00y", `NOT a`, `&&||`, "<>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := EscapeQueryString(s)
		escaped := false
		for _, r := range out {
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '<' || r == '>':
				t.Fatalf("%q -> %q keeps %q", s, out, r)
			case strings.ContainsRune(queryStringSpecial, r):
				t.Fatalf("%q -> %q has unescaped %q", s, out, r)
			}
		}
		if escaped {
			t.Fatalf("%q -> %q ends in a lone backslash", s, out)
		}
		for _, w := range strings.Fields(out) {
			if w == "AND" || w == "OR" || w == "NOT" {
				t.Fatalf("%q -> %q keeps operator %s", s, out, w)
			}
		}
		// It renders into valid JSON.
		b, err := json.Marshal(QueryString{Text: s})
		if err != nil || !json.Valid(b) {
			t.Fatalf("%q: %v", s, err)
		}
	})
}

// FuzzEncodeDoc feeds arbitrary bytes as a document: either ErrInvalid or
// a single JSON object on one bulk line.
func FuzzEncodeDoc(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, "{\n\"a\":\n1}", `[]`, `"x"`, `{"a":`, ``, ` {"a":"\n"} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		item := BulkItem{Index: "x", Body: b}
		out, err := encodeBulkItem(&item)
		if err != nil {
			return
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%q -> %d lines", b, len(lines))
		}
		// UseNumber: a number beyond float64 is still valid JSON, and the
		// body is passed on as written (the engine decides what it accepts).
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(lines[1]))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil || dec.More() {
			t.Fatalf("%q -> body %q: %v", b, lines[1], err)
		}
	})
}

// FuzzBulkResponse checks the hand-written _bulk answer reader against
// encoding/json: on any valid JSON it either gives up (and the answer goes
// to encoding/json) or reads exactly what encoding/json reads.
func FuzzBulkResponse(f *testing.F) {
	for _, s := range []string{
		`{"took":3,"errors":false,"items":[{"index":{"_index":"i","_id":"1","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}}]}`,
		`{"errors":true,"items":[{"create":{"_index":"i","_id":"2","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[2]: version conflict","index":"i","shard":"0"}}},{"delete":{"_index":"i","_id":"x","_version":1,"result":"not_found","status":404}}]}`,
		`{"errors":true,"items":[{"index":{"_index":"","_id":"\u00e9\"\\","status":429,"error":"rejected"}}]}`,
		`{"items":[{"index":{"_id":null,"status":201.0}}]}`,
		`{"items":[]}`, `{}`, `{"items":[{"update":{}}]} `, `{"items":[{"index":{"status":-1,"_seq_no":123456789012345678}}]}`,
		`{"items":[{"index":{"_index":"a\xffb","result":"weird","error":null}}]}`,
		`{"iTems":[{}]}`, `{"items":[{"create":{"_id":"2","stAtus":100}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseBulkResponse(data, nil)
		if !json.Valid(data) {
			return
		}
		s := jsonScanner{b: data}
		fast, ok := s.response(nil)
		want, werr := decodeBulkResponse(data, nil)
		if !ok {
			if (err == nil) != (werr == nil) || len(got) != len(want) {
				t.Fatalf("fallback: %v %d vs %v %d", err, len(got), werr, len(want))
			}
			return
		}
		if werr != nil {
			// encoding/json refuses what the scanner read (e.g. a
			// status too large for int): the reader is lenient, never
			// wrong about an answer encoding/json reads.
			return
		}
		if len(fast) != len(want) {
			t.Fatalf("%d items, encoding/json %d", len(fast), len(want))
		}
		item := &BulkItem{Index: "i", ID: "1"}
		for i := range fast {
			a, b := fast[i].result(item), want[i].result(item)
			if a != b || fast[i].status != want[i].status {
				t.Fatalf("item %d: %+v, encoding/json %+v", i, a, b)
			}
			ea, eb := fast[i].engineError(), want[i].engineError()
			if (ea == nil) != (eb == nil) || (ea != nil && (ea.Type != eb.Type || ea.Reason != eb.Reason)) {
				t.Fatalf("item %d error: %+v, encoding/json %+v", i, ea, eb)
			}
		}
	})
}

// FuzzSearchResponse checks the one-pass _search answer reader against
// encoding/json: on valid JSON it either gives up (and the answer goes to
// encoding/json) or reads exactly what encoding/json reads.
func FuzzSearchResponse(f *testing.F) {
	for _, s := range []string{
		`{"took":5,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":100,"relation":"eq"},"max_score":2.5,"hits":[{"_index":"i","_id":"1","_score":2.5,"_source":{"title":"chunk upload 1","n":[1,{"a":null}]}},{"_index":"i","_id":"2","_score":1.25e-3,"_source":{}}]}}`,
		`{"took":1,"timed_out":true,"pit_id":"abc==","hits":{"total":{"value":10000,"relation":"gte"},"max_score":null,"hits":[{"_index":"j","_id":"x\"y","_score":null,"_source":{"a":"\u00e9"},"sort":[1700000000000,"k",null],"highlight":{"title":["<em>chunk</em>"]}}]},"aggregations":{"by":{"buckets":[{"key":"a","doc_count":3}]},"st":{"count":0,"min":null}},"suggest":{"s":[{"text":"uplaod","offset":0,"length":6,"options":[{"text":"upload","score":0.8,"freq":3}]}]}}`,
		`{"hits":{"hits":[]}}`, `{}`, `{"hits":{"total":{"value":0}},"aggregations":null}`,
		`{"took":1.5}`, `{"Took":2,"HITS":{}}`, `{"hits":{"hits":[{"_score":"1"}]}}`, `{"hits":{"hits":[{"sort":[]},{"sort":null}]}}`,
		`{"hits":{"hits":[{"_index":"a"},{"_index":"a"},{"_index":"b"},{}]}}`, `{"hits":{"hits":[{"_id":"1","_routing":"u\"42\"","_source":{}},{"_routing":null},{"_routing":1},{"_routing":"a","_routing":"b"}]}}`, `{"aggregations":{"a":1,"a":2}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseSearchResponse(data, 3)
		if !json.Valid(data) {
			return
		}
		var want searchResponse
		werr := json.Unmarshal(data, &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("error %v, encoding/json %v", err, werr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("read\n%+v\nencoding/json\n%+v", *got, want)
		}
	})
}

// captureTransport records the request esapi built and sends nothing.
type captureTransport struct{ req *http.Request }

var errCaptured = errors.New("captured")

func (c *captureTransport) Perform(req *http.Request) (*http.Response, error) {
	c.req = req
	return nil, errCaptured
}

// FuzzPathSegment checks the escaping of names and ids in URL paths: seg
// emits only unreserved bytes and %XX, decodes back to its input, and goes
// on the wire verbatim through esapi's own path building (index, document
// id) and rawRequest's, so the engine, decoding each segment once, reads
// exactly the name given. For names lucidkeys.ValidateIndexName accepts it
// also checks that the decoded target is that one name: never a pattern,
// list, exclusion or "_all".
func FuzzPathSegment(f *testing.F) {
	for _, s := range []string{"lucid-sessions-2026.10", "%5fall", "a,b", "a/b", "a?b#c", "a b", "a+b=c&d@e", "日本", "\xff", "", "~._-"} {
		f.Add(s, "id/1?x")
	}
	f.Fuzz(func(t *testing.T, name, id string) {
		e := seg(name)
		for i := 0; i < len(e); i++ {
			switch c := e[i]; {
			case unreserved(c):
			case c == '%' && i+2 < len(e) && strings.ContainsRune("0123456789ABCDEF", rune(e[i+1])) && strings.ContainsRune("0123456789ABCDEF", rune(e[i+2])):
				i += 2
			default:
				t.Fatalf("seg(%q) = %q has byte %q", name, e, c)
			}
		}
		if back, err := url.PathUnescape(e); err != nil || back != name {
			t.Fatalf("seg(%q) = %q decodes to %q, %v", name, e, back, err)
		}
		if name == "" || id == "" {
			return // esapi refuses empty path parts itself
		}
		ei := seg(id)
		var ct captureTransport
		ctx := context.Background()
		want := "/" + e + "/_doc/" + ei
		if _, err := (esapi.GetRequest{Index: e, DocumentID: ei}).Do(ctx, &ct); !errors.Is(err, errCaptured) {
			t.Fatalf("esapi get %q/%q: %v", name, id, err)
		}
		if got := ct.req.URL.EscapedPath(); got != want {
			t.Fatalf("esapi sends %q for %q/%q, want %q", got, name, id, want)
		}
		parts := strings.Split(strings.TrimPrefix(ct.req.URL.EscapedPath(), "/"), "/")
		gotName, err1 := url.PathUnescape(parts[0])
		gotID, err2 := url.PathUnescape(parts[len(parts)-1])
		if len(parts) != 3 || err1 != nil || err2 != nil || gotName != name || gotID != id {
			t.Fatalf("engine would read %q as index %q, id %q", want, gotName, gotID)
		}
		if _, err := (esapi.IndicesDeleteRequest{Index: []string{e}}).Do(ctx, &ct); !errors.Is(err, errCaptured) {
			t.Fatalf("esapi delete %q: %v", name, err)
		}
		if got := ct.req.URL.EscapedPath(); got != "/"+e {
			t.Fatalf("esapi deletes %q for %q", got, name)
		}
		if _, err := raw("GET", "/"+e+"/_settings", url.Values{"x": {"1"}}, nil).Do(ctx, &ct); !errors.Is(err, errCaptured) {
			t.Fatalf("raw %q: %v", name, err)
		}
		if got := ct.req.URL.EscapedPath(); got != "/"+e+"/_settings" || ct.req.URL.RawQuery != "x=1" {
			t.Fatalf("raw sends %q ? %q for %q", got, ct.req.URL.RawQuery, name)
		}
		if lucidkeys.ValidateIndexName(name) == nil {
			if strings.ContainsAny(gotName, "%*,/?#") || strings.ContainsAny(gotName[:1], "-_+") {
				t.Fatalf("valid name %q reaches the engine as %q", name, gotName)
			}
		}
	})
}
