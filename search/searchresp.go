package search

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
)

// A search answer is read into one buffer owned by the result: hits'
// _source and sort values and the raw aggregations are slices of it (capped,
// so appending to one never overwrites its neighbour), not copies; the rest
// is read in one pass without reflection. Anything unexpected (escaped or
// duplicate keys, nulls where a value was expected) goes to encoding/json.

// respPool recycles the buffers answers are read into before they are
// copied, at their exact size, into the buffer the result keeps.
var respPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parseSearchResponse reads a _search answer; hint is the number of hits
// expected at most.
func parseSearchResponse(data []byte, hint int) (*searchResponse, error) {
	s := jsonScanner{b: data}
	r := &searchResponse{}
	if s.searchResponse(r, hint) {
		return r, nil
	}
	*r = searchResponse{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *jsonScanner) searchResponse(r *searchResponse, hint int) bool {
	var seen uint32
	ok := s.object(func(k []byte) bool {
		odd := false
		switch {
		case keyIs(k, `"took"`, &odd):
			v, ok := s.int()
			r.Took = int(v)
			return ok && once(&seen, 1)
		case keyIs(k, `"timed_out"`, &odd):
			v, ok := s.boolean()
			r.TimedOut = v
			return ok && once(&seen, 2)
		case keyIs(k, `"pit_id"`, &odd):
			v, ok := s.str()
			r.PitID = jsonString(v, r.PitID)
			return ok && once(&seen, 4)
		case keyIs(k, `"hits"`, &odd):
			return once(&seen, 8) && s.hitsObject(r, hint)
		case keyIs(k, `"aggregations"`, &odd):
			if !once(&seen, 16) {
				return false
			}
			if s.null() {
				return true
			}
			r.Aggs = Aggregations{}
			return s.object(func(k []byte) bool {
				name := jsonString(k, "")
				if _, dup := r.Aggs[name]; dup {
					return false
				}
				v, ok := s.raw()
				r.Aggs[name] = v
				return ok
			})
		case keyIs(k, `"suggest"`, &odd):
			v, ok := s.raw()
			return ok && once(&seen, 32) && json.Unmarshal(v, &r.Suggest) == nil
		}
		return !odd && s.skip()
	})
	s.ws()
	return ok && s.i == len(s.b)
}

func (s *jsonScanner) hitsObject(r *searchResponse, hint int) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		odd := false
		switch {
		case keyIs(k, `"total"`, &odd):
			var tseen uint32
			return once(&seen, 1) && s.object(func(k []byte) bool {
				odd := false
				switch {
				case keyIs(k, `"value"`, &odd):
					v, ok := s.int()
					r.Hits.Total.Value = v
					return ok && once(&tseen, 1)
				case keyIs(k, `"relation"`, &odd):
					v, ok := s.str()
					switch string(v) {
					case `"eq"`:
						r.Hits.Total.Relation = "eq"
					case `"gte"`:
						r.Hits.Total.Relation = "gte"
					default:
						r.Hits.Total.Relation = jsonString(v, "")
					}
					return ok && once(&tseen, 2)
				}
				return !odd && s.skip()
			})
		case keyIs(k, `"hits"`, &odd):
			if !once(&seen, 2) || !s.next('[') {
				return false
			}
			r.Hits.Hits = make([]Hit, 0, hint)
			if s.next(']') {
				return true
			}
			var scores []float64
			for {
				r.Hits.Hits = append(r.Hits.Hits, Hit{})
				h := &r.Hits.Hits[len(r.Hits.Hits)-1]
				if n := len(r.Hits.Hits); n > 1 {
					h.Index = r.Hits.Hits[n-2].Index // shared when equal
				}
				if !s.hit(h, &scores) {
					return false
				}
				if s.next(']') {
					return true
				}
				if !s.next(',') {
					return false
				}
			}
		}
		return !odd && s.skip()
	})
}

// hit reads one hit into h; h.Index holds the previous hit's index, kept
// if this one's is the same. Scores are allocated by the page in scores.
func (s *jsonScanner) hit(h *Hit, scores *[]float64) bool {
	prevIndex := h.Index
	h.Index = ""
	var seen uint32
	return s.object(func(k []byte) bool {
		odd := false
		switch {
		case keyIs(k, `"_index"`, &odd):
			v, ok := s.str()
			h.Index = jsonString(v, prevIndex)
			return ok && once(&seen, 1)
		case keyIs(k, `"_id"`, &odd):
			v, ok := s.str()
			h.ID = jsonString(v, "")
			return ok && once(&seen, 2)
		case keyIs(k, `"_score"`, &odd):
			if !once(&seen, 4) {
				return false
			}
			if s.null() {
				return true
			}
			v, ok := s.raw()
			if !ok || len(v) == 0 || v[0] == '"' || v[0] == '{' || v[0] == '[' || v[0] == 't' || v[0] == 'f' {
				return false
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return false
			}
			if len(*scores) == cap(*scores) {
				*scores = make([]float64, 0, max(16, 2*cap(*scores)))
			}
			*scores = append(*scores, f)
			h.Score = &(*scores)[len(*scores)-1]
			return true
		case keyIs(k, `"_source"`, &odd):
			v, ok := s.raw()
			h.Source = v
			return ok && once(&seen, 8)
		case keyIs(k, `"_routing"`, &odd):
			v, ok := s.str()
			h.Routing = jsonString(v, "")
			return ok && once(&seen, 64)
		case keyIs(k, `"sort"`, &odd):
			if !once(&seen, 16) {
				return false
			}
			if s.null() {
				return true
			}
			if !s.next('[') {
				return false
			}
			h.Sort = make([]json.RawMessage, 0, 2)
			if s.next(']') {
				return true
			}
			for {
				v, ok := s.raw()
				if !ok {
					return false
				}
				h.Sort = append(h.Sort, v)
				if s.next(']') {
					return true
				}
				if !s.next(',') {
					return false
				}
			}
		case keyIs(k, `"highlight"`, &odd):
			v, ok := s.raw()
			return ok && once(&seen, 32) && json.Unmarshal(v, &h.Highlight) == nil
		}
		return !odd && s.skip()
	})
}
