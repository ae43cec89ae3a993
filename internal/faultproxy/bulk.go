package faultproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// RejectBulkItems makes the proxy reject the next n items of _bulk requests
// with status (429 or 503), the way an overloaded engine rejects single items
// inside a 200 answer: the rejected items are not forwarded, so the engine
// never applies them, and the answer carries an item result with that status
// in their place. Items of later requests are rejected until n is used up.
func (p *HTTP) RejectBulkItems(n, status int) {
	p.f.mu.Lock()
	p.bulkLeft, p.bulkStatus = n, status
	p.f.mu.Unlock()
}

// takeBulk reserves up to n item rejections.
func (p *HTTP) takeBulk(n int) (int, int) {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	k := min(n, p.bulkLeft)
	p.bulkLeft -= k
	return k, p.bulkStatus
}

func (p *HTTP) bulkRejecting() bool {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	return p.bulkLeft > 0
}

// bulkItem is one action of an NDJSON _bulk body: its lines (action and,
// except for delete, source) and the action's name, index and id.
type bulkItem struct {
	lines  [][]byte
	action string
	index  string
	id     string
}

func parseBulk(body []byte) ([]bulkItem, bool) {
	var items []bulkItem
	lines := bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n"))
	for i := 0; i < len(lines); i++ {
		var meta map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if json.Unmarshal(lines[i], &meta) != nil || len(meta) != 1 {
			return nil, false
		}
		it := bulkItem{lines: [][]byte{lines[i]}}
		for a, m := range meta {
			it.action, it.index, it.id = a, m.Index, m.ID
		}
		if it.action != "delete" {
			if i+1 >= len(lines) {
				return nil, false
			}
			i++
			it.lines = append(it.lines, lines[i])
		}
		items = append(items, it)
	}
	return items, true
}

// serveBulk forwards the items it does not reject and splices rejections
// into the engine's answer at their original positions.
func (p *HTTP) serveBulk(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	items, ok := parseBulk(body)
	if !ok || len(items) == 0 || r.Header.Get("Content-Encoding") != "" {
		// Not ours to judge: let the engine answer.
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.served.Add(1)
		p.rp.ServeHTTP(w, r)
		return
	}
	k, status := p.takeBulk(len(items))
	p.rejected.Add(int64(k))
	var fwd bytes.Buffer
	for _, it := range items[k:] {
		for _, l := range it.lines {
			fwd.Write(l)
			fwd.WriteByte('\n')
		}
	}
	var engine []json.RawMessage
	if fwd.Len() > 0 {
		out, code, err := p.forward(r, fwd.Bytes())
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if code != http.StatusOK {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = w.Write(out)
			return
		}
		var res struct {
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(out, &res) != nil || len(res.Items) != len(items)-k {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		engine = res.Items
	}
	p.served.Add(1)
	reason := "rejected execution (injected by faultproxy)"
	var b strings.Builder
	b.WriteString(`{"took":0,"errors":true,"items":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if i >= k {
			b.Write(engine[i-k])
			continue
		}
		idx, _ := json.Marshal(it.index)
		id, _ := json.Marshal(it.id)
		act, _ := json.Marshal(it.action)
		b.WriteString(`{` + string(act) + `:{"_index":` + string(idx) + `,"_id":` + string(id) +
			`,"status":` + strconv.Itoa(status) + `,"error":{"type":"es_rejected_execution_exception","reason":"` + reason + `"}}}`)
	}
	b.WriteString(`]}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, b.String())
}

// forward sends body to the target with r's method, path, query and
// content type, and returns the answer.
func (p *HTTP) forward(r *http.Request, body []byte) ([]byte, int, error) {
	u := *p.target
	u.Path = strings.TrimRight(u.Path, "/") + r.URL.Path
	u.RawQuery = r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header = r.Header.Clone()
	// The answer is rewritten, so let the transport negotiate and undo
	// compression itself rather than pass the client's gzip through.
	req.Header.Del("Accept-Encoding")
	req.ContentLength = int64(len(body))
	resp, err := p.rp.Transport.RoundTrip(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return out, resp.StatusCode, err
}

// Rejected is the number of bulk items rejected by RejectBulkItems.
func (p *HTTP) Rejected() int64 { return p.rejected.Load() }
