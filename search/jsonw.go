package search

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
)

// Request bodies are written by hand: the query builders used to build a
// map per clause and hand it to json.Marshal, which then re-validated the
// output of every nested MarshalJSON. The writers below produce the same
// bytes json.Marshal produced (keys in sorted order, HTML characters
// escaped) in one pass; anything they do not know goes to json.Marshal.

// appendJSONString appends s as a JSON string, exactly as json.Marshal
// renders it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			m, _ := json.Marshal(s) // a string always encodes
			return append(b, m...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendStrings appends a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendMarshal appends json.Marshal(v).
func appendMarshal(b []byte, v any) ([]byte, error) {
	m, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, m...), nil
}

// appendValue appends a query value (a term, a bound, a search_after key).
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	}
	return appendMarshal(b, v)
}

// appendFuzzOp appends the "fuzziness" and "operator" members of a match
// or multi_match, each with its trailing comma, when set.
func appendFuzzOp(b []byte, fuzziness, operator string) []byte {
	if fuzziness != "" {
		b = append(b, `"fuzziness":`...)
		b = append(appendJSONString(b, fuzziness), ',')
	}
	if operator != "" {
		b = append(b, `"operator":`...)
		b = append(appendJSONString(b, operator), ',')
	}
	return b
}

// appendQuery appends the query DSL of q (nil renders match_all).
func appendQuery(b []byte, q Query) ([]byte, error) {
	var err error
	switch q := q.(type) {
	case nil, MatchAll:
		return append(b, `{"match_all":{}}`...), nil
	case Bool:
		b = append(b, `{"bool":{`...)
		n := len(b)
		for _, c := range [...]struct {
			key string
			qs  []Query
			msm bool
		}{{`"filter":`, q.Filter, false}, {`"minimum_should_match":`, nil, true}, {`"must":`, q.Must, false}, {`"must_not":`, q.MustNot, false}, {`"should":`, q.Should, false}} {
			if c.msm {
				if q.MinimumShouldMatch != "" {
					b = appendKey(b, n, c.key)
					b = appendJSONString(b, q.MinimumShouldMatch)
				}
				continue
			}
			first := true
			for _, sub := range c.qs {
				if sub == nil {
					continue
				}
				if first {
					b = appendKey(b, n, c.key)
					b = append(b, '[')
					first = false
				} else {
					b = append(b, ',')
				}
				if b, err = appendQuery(b, sub); err != nil {
					return b, err
				}
			}
			if !first {
				b = append(b, ']')
			}
		}
		return append(b, "}}"...), nil
	case Term:
		b = append(b, `{"term":{`...)
		b = appendJSONString(b, q.Field)
		b = append(b, `:{"value":`...)
		if b, err = appendValue(b, q.Value); err != nil {
			return b, err
		}
		return append(b, "}}}"...), nil
	case Terms:
		b = append(b, `{"terms":{`...)
		b = appendJSONString(b, q.Field)
		b = append(b, ":["...)
		for i, v := range q.Values {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, v); err != nil {
				return b, err
			}
		}
		return append(b, "]}}"...), nil
	case Range:
		b = append(b, `{"range":{`...)
		b = appendJSONString(b, q.Field)
		b = append(b, ":{"...)
		n := len(b)
		if q.Format != "" {
			b = appendKey(b, n, `"format":`)
			b = appendJSONString(b, q.Format)
		}
		for _, bound := range [...]struct {
			key string
			v   any
		}{{`"gt":`, q.GT}, {`"gte":`, q.GTE}, {`"lt":`, q.LT}, {`"lte":`, q.LTE}} {
			if bound.v != nil {
				b = appendKey(b, n, bound.key)
				if b, err = appendValue(b, bound.v); err != nil {
					return b, err
				}
			}
		}
		if q.TimeZone != "" {
			b = appendKey(b, n, `"time_zone":`)
			b = appendJSONString(b, q.TimeZone)
		}
		return append(b, "}}}"...), nil
	case Match:
		b = append(b, `{"match":{`...)
		b = appendJSONString(b, q.Field)
		b = append(b, ":{"...)
		b = appendFuzzOp(b, q.Fuzziness, q.Operator)
		b = append(b, `"query":`...)
		b = appendJSONString(b, q.Text)
		return append(b, "}}}"...), nil
	case MultiMatch:
		b = append(b, `{"multi_match":{`...)
		if len(q.Fields) > 0 {
			b = append(b, `"fields":`...)
			b = append(appendStrings(b, q.Fields), ',')
		}
		b = appendFuzzOp(b, q.Fuzziness, q.Operator)
		b = append(b, `"query":`...)
		b = appendJSONString(b, q.Text)
		if q.Type != "" {
			b = append(b, `,"type":`...)
			b = appendJSONString(b, q.Type)
		}
		return append(b, "}}"...), nil
	case Prefix:
		b = append(b, `{"prefix":{`...)
		b = appendJSONString(b, q.Field)
		b = append(b, `:{"value":`...)
		b = appendJSONString(b, q.Value)
		return append(b, "}}}"...), nil
	case SimpleQueryString:
		return appendQueryString(b, `{"simple_query_string":{`, q.Fields, q.Text), nil
	case QueryString:
		return appendQueryString(b, `{"query_string":{`, q.Fields, EscapeQueryString(q.Text)), nil
	}
	// RawQuery (json.Marshal validates and compacts it), pointers and
	// types embedding a builder.
	return appendMarshal(b, q)
}

// appendKey appends key, preceded by a comma unless the object's first
// member starts at n.
func appendKey(b []byte, n int, key string) []byte {
	if len(b) > n {
		b = append(b, ',')
	}
	return append(b, key...)
}

func appendQueryString(b []byte, head string, fields []string, text string) []byte {
	b = append(b, head...)
	if len(fields) > 0 {
		b = append(b, `"fields":`...)
		b = append(appendStrings(b, fields), ',')
	}
	b = append(b, `"lenient":true,"query":`...)
	b = appendJSONString(b, text)
	return append(b, "}}"...)
}

// appendSort appends {field: {"missing": ..., "order": ...}}.
func appendSort(b []byte, s Sort) []byte {
	b = append(b, '{')
	b = appendJSONString(b, s.Field)
	b = append(b, ":{"...)
	if s.Missing != "" {
		b = append(b, `"missing":`...)
		b = append(appendJSONString(b, s.Missing), ',')
	}
	if s.Desc {
		b = append(b, `"order":"desc"}}`...)
	} else {
		b = append(b, `"order":"asc"}}`...)
	}
	return b
}

// appendHighlight appends the highlight section.
func appendHighlight(b []byte, h *Highlight) []byte {
	fields := h.Fields
	if !slices.IsSorted(fields) {
		fields = slices.Sorted(slices.Values(fields))
	}
	b = append(b, `{"fields":{`...)
	for i, f := range fields {
		if i > 0 && f == fields[i-1] {
			continue // a map has each key once
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, f), ":{}"...)
	}
	b = append(b, '}')
	if h.FragmentSize > 0 {
		b = append(b, `,"fragment_size":`...)
		b = strconv.AppendInt(b, int64(h.FragmentSize), 10)
	}
	if h.NumberOfFragments > 0 {
		b = append(b, `,"number_of_fragments":`...)
		b = strconv.AppendInt(b, int64(h.NumberOfFragments), 10)
	}
	if h.PostTag != "" {
		b = append(b, `,"post_tags":[`...)
		b = append(appendJSONString(b, h.PostTag), ']')
	}
	if h.PreTag != "" {
		b = append(b, `,"pre_tags":[`...)
		b = append(appendJSONString(b, h.PreTag), ']')
	}
	return append(b, '}')
}

// appendBody appends the request body; pitID, when set, is the point in
// time to search, kept alive for keepAlive.
func (r *SearchRequest) appendBody(b []byte, pitID, keepAlive string) ([]byte, error) {
	var err error
	b = append(b, '{')
	n := len(b)
	switch {
	case r.NoSource:
		b = append(b, `"_source":false`...)
	case r.Source != nil:
		b = append(b, `"_source":`...)
		b = appendStrings(b, r.Source)
	}
	if len(r.Aggs) > 0 {
		b = appendKey(b, n, `"aggs":`)
		if b, err = appendMarshal(b, r.Aggs); err != nil {
			return b, err
		}
	}
	if r.From > 0 {
		b = appendKey(b, n, `"from":`)
		b = strconv.AppendInt(b, int64(r.From), 10)
	}
	if r.Highlight != nil {
		b = appendKey(b, n, `"highlight":`)
		b = appendHighlight(b, r.Highlight)
	}
	if pitID != "" {
		b = appendKey(b, n, `"pit":{"id":`)
		b = appendJSONString(b, pitID)
		b = append(b, `,"keep_alive":`...)
		b = append(appendJSONString(b, keepAlive), '}')
	}
	b = appendKey(b, n, `"query":`)
	if b, err = appendQuery(b, r.Query); err != nil {
		return b, err
	}
	if len(r.SearchAfter) > 0 {
		b = append(b, `,"search_after":[`...)
		for i, v := range r.SearchAfter {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, v); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	switch {
	case r.NoHits:
		b = append(b, `,"size":0`...)
	case r.Size > 0:
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, int64(r.Size), 10)
	}
	if len(r.Sort) > 0 {
		b = append(b, `,"sort":[`...)
		for i, s := range r.Sort {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSort(b, s)
		}
		b = append(b, ']')
	}
	if len(r.Suggest) > 0 {
		b = append(b, `,"suggest":`...)
		if b, err = appendMarshal(b, r.Suggest); err != nil {
			return b, err
		}
	}
	if r.Timeout > 0 {
		b = append(b, `,"timeout":`...)
		b = appendJSONString(b, formatDuration(r.Timeout))
	}
	if r.TrackTotalHits {
		b = append(b, `,"track_total_hits":true`...)
	}
	return append(b, '}'), nil
}

// bodyPool recycles request bodies. A body goes back only after a 2xx
// answer: the engine then read all of it, so the transport no longer does.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBody() *[]byte { return bodyPool.Get().(*[]byte) }

func putBody(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		bodyPool.Put(b)
	}
}
