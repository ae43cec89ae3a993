package search

import (
	"bytes"
	"encoding/json"
)

// bulkRespItem is one item of a _bulk answer. Strings are kept as the raw
// JSON (quotes included, nil when absent) and turned into Go strings only
// when the item is settled, so the common answer costs no allocation.
type bulkRespItem struct {
	index, id, res              []byte
	status                      int
	version, seqNo, primaryTerm int64
	err                         []byte // the raw "error" member, nil when absent
}

// result is the item's BulkItemResult (Attempts aside). Strings equal to
// those of item are shared rather than copied; an answer without _index
// (as a proxy may send) names item's index.
func (r *bulkRespItem) result(item *BulkItem) BulkItemResult {
	res := BulkItemResult{
		Index: jsonString(r.index, item.Index), ID: jsonString(r.id, item.ID), Status: r.status,
		Version: r.version, SeqNo: r.seqNo, PrimaryTerm: r.primaryTerm,
	}
	if res.Index == "" {
		res.Index = item.Index
	}
	if r.res != nil {
		switch string(r.res) {
		case `"created"`:
			res.Result = "created"
		case `"updated"`:
			res.Result = "updated"
		case `"deleted"`:
			res.Result = "deleted"
		case `"noop"`:
			res.Result = "noop"
		case `"not_found"`:
			res.Result = "not_found"
		default:
			res.Result = jsonString(r.res, "")
		}
	}
	return res
}

// engineError decodes the item's error member, nil if it has none.
func (r *bulkRespItem) engineError() *engineError {
	if r.err == nil || string(r.err) == "null" {
		return nil
	}
	var e engineError
	if json.Unmarshal(r.err, &e) != nil {
		return &engineError{Reason: string(r.err)}
	}
	return &e
}

// parseBulkResponse appends the items of the _bulk answer data to items.
// It reads the engine's answer in one pass without reflection; anything it
// does not expect (escaped keys, null or non-integer values, deep nesting)
// is handed to encoding/json instead, so no valid answer is misread.
func parseBulkResponse(data []byte, items []bulkRespItem) ([]bulkRespItem, error) {
	s := jsonScanner{b: data}
	n := len(items)
	if out, ok := s.response(items); ok {
		return out, nil
	}
	clear(items[n:cap(items)])
	return decodeBulkResponse(data, items[:n])
}

// decodeBulkResponse is parseBulkResponse by encoding/json.
func decodeBulkResponse(data []byte, items []bulkRespItem) ([]bulkRespItem, error) {
	type result struct {
		Index       *string         `json:"_index"`
		ID          *string         `json:"_id"`
		Status      int             `json:"status"`
		Result      *string         `json:"result"`
		Version     int64           `json:"_version"`
		SeqNo       int64           `json:"_seq_no"`
		PrimaryTerm int64           `json:"_primary_term"`
		Error       json.RawMessage `json:"error"`
	}
	var res struct {
		Items []map[string]result `json:"items"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return items, err
	}
	quote := func(s *string) []byte {
		if s == nil {
			return nil
		}
		b, _ := json.Marshal(*s)
		return b
	}
	for _, m := range res.Items {
		var r result
		for _, v := range m {
			r = v
		}
		items = append(items, bulkRespItem{index: quote(r.Index), id: quote(r.ID), res: quote(r.Result), status: r.Status,
			version: r.Version, seqNo: r.SeqNo, primaryTerm: r.PrimaryTerm, err: r.Error})
	}
	return items, nil
}

// response reads the whole answer, appending its items.
func (s *jsonScanner) response(items []bulkRespItem) ([]bulkRespItem, bool) {
	if !s.next('{') {
		return items, false
	}
	if !s.next('}') {
		seen := false
		for {
			k, ok := s.key()
			if !ok {
				return items, false
			}
			if string(k) == `"items"` {
				if seen {
					return items, false
				}
				seen = true
				if items, ok = s.items(items); !ok {
					return items, false
				}
			} else if bytes.EqualFold(k, []byte(`"items"`)) || !s.skip() {
				return items, false // encoding/json matches keys regardless of case
			}
			if s.next('}') {
				break
			}
			if !s.next(',') {
				return items, false
			}
		}
	}
	s.ws()
	return items, s.i == len(s.b)
}

// items reads the items array: [{action: {...}}, ...].
func (s *jsonScanner) items(items []bulkRespItem) ([]bulkRespItem, bool) {
	if !s.next('[') {
		return items, false
	}
	if s.next(']') {
		return items, true
	}
	for {
		if !s.next('{') {
			return items, false
		}
		if _, ok := s.key(); !ok {
			return items, false
		}
		var r bulkRespItem
		if !s.result(&r) || !s.next('}') {
			return items, false
		}
		items = append(items, r)
		if s.next(']') {
			return items, true
		}
		if !s.next(',') {
			return items, false
		}
	}
}

var resultKeys = [...]string{`"_index"`, `"_id"`, `"result"`, `"status"`, `"_version"`, `"_seq_no"`, `"_primary_term"`, `"error"`}

// result reads one item's result object.
func (s *jsonScanner) result(r *bulkRespItem) bool {
	return s.object(func(k []byte) bool {
		ok := false
		switch string(k) {
		case `"_index"`:
			r.index, ok = s.str()
		case `"_id"`:
			r.id, ok = s.str()
		case `"result"`:
			r.res, ok = s.str()
		case `"status"`:
			var v int64
			v, ok = s.int()
			r.status = int(v)
		case `"_version"`:
			r.version, ok = s.int()
		case `"_seq_no"`:
			r.seqNo, ok = s.int()
		case `"_primary_term"`:
			r.primaryTerm, ok = s.int()
		case `"error"`:
			s.ws()
			start := s.i
			ok = s.skip()
			r.err = s.b[start:s.i]
		default:
			// encoding/json matches keys regardless of case.
			for _, name := range resultKeys {
				if bytes.EqualFold(k, []byte(name)) {
					return false
				}
			}
			ok = s.skip()
		}
		return ok
	})
}
