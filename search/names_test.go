//go:build !lucidfuzz

package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv"
)

// guardRT sits between the SDK and the real engine. It decodes each
// request's path as the engine does (split on '/', then percent-decode each
// part), records the index, alias, template or policy the request targets,
// and forwards only requests whose target stays under the test's prefix
// without a list: so even the unfixed SDK cannot reach another test's or
// the node's indices while the test shows what it would have sent.
type guardRT struct {
	prefix string
	next   http.RoundTripper

	mu      sync.Mutex
	targets []string // decoded targets since the last take
	sent    int      // requests since the last take
}

// endpoints are the first path parts that name an API rather than an
// index; the value is the position of the named object, -1 for none and
// -2 for the last part.
var endpoints = map[string]int{
	"_cluster": -1, "_search": -1, "_bulk": -1, "_pit": -1, "_aliases": -1, "_cat": -1, "_nodes": -1,
	"_index_template": 1, "_alias": 1, "_ilm": -2, "_plugins": -2,
}

// pathTarget returns the object a request path names, decoded as the
// engine decodes it, or "" for an API without one.
func pathTarget(escaped string) string {
	parts := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for i, p := range parts {
		if d, err := url.PathUnescape(p); err == nil {
			parts[i] = d
		}
	}
	pos, ok := endpoints[parts[0]]
	switch {
	case !ok:
		return parts[0]
	case pos == -1:
		return ""
	case pos == -2:
		return parts[len(parts)-1]
	case pos < len(parts):
		return parts[pos]
	}
	return ""
}

func (g *guardRT) RoundTrip(req *http.Request) (*http.Response, error) {
	target := pathTarget(req.URL.EscapedPath())
	g.mu.Lock()
	g.sent++
	if target != "" {
		g.targets = append(g.targets, target)
	}
	g.mu.Unlock()
	if target != "" && (!strings.HasPrefix(target, g.prefix) || strings.Contains(target, ",")) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("test guard: refused to forward %s %q (target %q)", req.Method, req.URL.EscapedPath(), target)
	}
	return g.next.RoundTrip(req)
}

// newGuard returns a guard for prefix over a transport of its own, closed
// when the test ends (goleak sees idle connections).
func newGuard(t *testing.T, prefix string) *guardRT {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &guardRT{prefix: prefix, next: tr}
}

// take returns and resets what was recorded.
func (g *guardRT) take() (sent int, targets []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sent, targets = g.sent, g.targets
	g.sent, g.targets = 0, nil
	return sent, targets
}

// destructiveByPattern makes sure the node runs with
// action.destructive_requires_name false — OpenSearch's default, under
// which a DELETE of a pattern deletes every index it matches — for the
// rest of the test, reading the effective value from the cluster settings
// API, and restores the node's setting afterwards.
func destructiveByPattern(t *testing.T, ctx context.Context, c *Client) {
	t.Helper()
	read := func() string {
		var s map[string]map[string]any
		q := url.Values{"include_defaults": {"true"}, "flat_settings": {"true"}}
		if err := c.call(ctx, "cluster settings", "", raw("GET", "/_cluster/settings", q, nil), &s); err != nil {
			t.Fatalf("cluster settings: %v", err)
		}
		for _, level := range []string{"transient", "persistent", "defaults"} {
			if v, ok := s[level]["action.destructive_requires_name"]; ok {
				return fmt.Sprint(v)
			}
		}
		return "false" // absent: the engine's default, false on OpenSearch
	}
	v := read()
	t.Logf("%s %s: action.destructive_requires_name = %s", c.Product(), c.Version(), v)
	if v == "false" {
		return
	}
	set := func(v any) {
		body, _ := json.Marshal(obj{"transient": obj{"action.destructive_requires_name": v}})
		if err := c.call(ctx, "cluster settings", "", raw("PUT", "/_cluster/settings", nil, body), nil); err != nil {
			t.Fatalf("set destructive_requires_name: %v", err)
		}
	}
	set(false)
	t.Cleanup(func() { set(nil) })
	if v := read(); v != "false" {
		t.Fatalf("destructive_requires_name is %s after setting it false", v)
	}
}

// TestHostileIndexNames sends names that percent-decode, expand or split
// into other names through every call that takes an index, alias or
// pattern, on a node where DELETE of a pattern deletes what it matches.
// Each call must either refuse with ErrInvalid before any request, or
// reach exactly the index of that name: the neighbours a and b survive.
func TestHostileIndexNames(t *testing.T) {
	prefix := testenv.Namespace(t) + "-"
	g := newGuard(t, prefix)
	c := newTestClient(t, Config{IndexPrefix: prefix, Transport: g, MaxRetries: -1})
	ctx := ctxT(t)
	destructiveByPattern(t, ctx, c)

	a, b := prefix+"a", prefix+"b"
	ensureNeighbours := func(after string) {
		t.Helper()
		for _, n := range []string{a, b} {
			ok, err := c.IndexExists(ctx, n)
			if err != nil {
				t.Fatalf("exists %s: %v", n, err)
			}
			if ok {
				continue
			}
			if after != "" {
				t.Errorf("%s: index %s is gone", after, n)
			}
			if err := c.CreateIndex(ctx, n, IndexSpec{Settings: map[string]any{"number_of_replicas": 0}}); err != nil {
				t.Fatalf("create %s: %v", n, err)
			}
		}
		g.take()
	}
	ensureNeighbours("")

	doc := map[string]any{"k": "v"}
	ops := []struct {
		name    string
		pattern bool // the call takes patterns, so '*' and ',' may be legitimate
		call    func(name string) error
	}{
		{"CreateIndex", false, func(n string) error { return c.CreateIndex(ctx, n, IndexSpec{}) }},
		{"DeleteIndex", false, func(n string) error { return c.DeleteIndex(ctx, n) }},
		{"IndexExists", false, func(n string) error { _, err := c.IndexExists(ctx, n); return err }},
		{"Refresh", false, func(n string) error { return c.Refresh(ctx, n) }},
		{"Index", false, func(n string) error { _, err := c.Index(ctx, n, "1", doc, nil); return err }},
		{"Index(no id)", false, func(n string) error { _, err := c.Index(ctx, n, "", doc, nil); return err }},
		{"Get", false, func(n string) error { _, err := c.Get(ctx, n, "1", nil); return err }},
		{"Update", false, func(n string) error { _, err := c.Update(ctx, n, "1", doc, nil); return err }},
		{"Delete", false, func(n string) error { _, err := c.Delete(ctx, n, "1", nil); return err }},
		{"Bulk", false, func(n string) error {
			bi := c.NewBulkIndexer(BulkConfig{})
			err := bi.Add(ctx, BulkItem{Index: n, ID: "1", Body: doc})
			if err == nil {
				err = bi.Flush(ctx)
			}
			if cerr := bi.Close(ctx); err == nil {
				err = cerr
			}
			return err
		}},
		{"Search", true, func(n string) error { _, err := c.Search(ctx, n, SearchRequest{}); return err }},
		{"IndexSpecs", true, func(n string) error { _, err := c.IndexSpecs(ctx, n); return err }},
		{"FullTextSearch", true, func(n string) error { _, err := c.FullTextSearch(ctx, n, "v", nil); return err }},
		{"OpenPointInTime", true, func(n string) error {
			id, err := c.OpenPointInTime(ctx, n, time.Minute)
			if err == nil {
				err = c.ClosePointInTime(ctx, id)
			}
			return err
		}},
	}

	hostile := []string{
		"%5fall", "%5Fall", "_all", "*", "%2a", ",", "%2c", "/", "%2f", "?", "#", " ", "%20", "%3f", "%23",
		"-*", "%2d*", "%2b", "%", "%%", "%zz", "%25", "%255fall",
		prefix + "%2a", prefix + "%2A", prefix + "*", prefix + "a*",
		prefix + "%5fall", prefix + "a%2c" + prefix + "b", prefix + "a," + prefix + "b",
		prefix + "a%2c%5fall", prefix + "a%2c-" + prefix + "b",
		prefix + "a/_doc", prefix + "a%2f_doc", prefix + "a%2f..%2f_all",
		prefix + "a?x=1", prefix + "a%3fx=1", prefix + "a#x", prefix + "a%23x",
		prefix + "a b", prefix + "a%20b", prefix + "a\tb", prefix + "a%09b",
		prefix + "%25", prefix + "a%", prefix + "a%2",
		prefix + "A", "%41" + prefix,
	}
	for _, op := range ops {
		for _, name := range hostile {
			err := op.call(name)
			sent, targets := g.take()
			if sent == 0 {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("%s(%q) sent nothing and returned %v, want ErrInvalid", op.name, name, err)
				}
			} else {
				if errors.Is(err, ErrInvalid) && !op.pattern {
					// An engine 400 maps to ErrInvalid too; what matters is the target.
					t.Logf("%s(%q): engine refused: %v", op.name, name, err)
				}
				for _, got := range targets {
					if got != name {
						t.Errorf("%s(%q) sent a request for %q, not for the name given", op.name, name, got)
					}
				}
				if !op.pattern {
					t.Errorf("%s(%q) reached the engine (err %v); a name with these bytes must be refused first", op.name, name, err)
				}
			}
			ensureNeighbours(fmt.Sprintf("%s(%q)", op.name, name))
		}
	}

	// A prefix that holds a '%' would hide an escape in every name the
	// SDK builds from it.
	for _, p := range []string{"%5f", prefix + "%2a-", prefix + "%25-"} {
		c2, err := Connect(ctx, Config{Addresses: c.cfg.Addresses, IndexPrefix: p, Transport: g, MaxRetries: -1})
		if err == nil {
			c2.Close()
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Connect(IndexPrefix %q) = %v, want ErrInvalid", p, err)
		}
		g.take()
	}
}

// TestOddIndexNamesReachExactly checks names the engine allows whose bytes
// need escaping in a path ('+', ';', '=', '&', '@', '!', '(', non-ASCII):
// every call reaches the index of exactly that name, which the engine
// reports back under that name, and the neighbours survive.
func TestOddIndexNamesReachExactly(t *testing.T) {
	prefix := testenv.Namespace(t) + "-"
	g := newGuard(t, prefix)
	c := newTestClient(t, Config{IndexPrefix: prefix, Transport: g, MaxRetries: -1})
	ctx := ctxT(t)
	a := prefix + "a"
	if err := c.CreateIndex(ctx, a, IndexSpec{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{prefix + "x+y", prefix + "a;b=c&d@e", prefix + "p!q'(r)~s$t", prefix + "é€日本", prefix + "a.b", prefix + "_all", prefix + "-a"} {
		check := func(what string, err error) {
			t.Helper()
			_, targets := g.take()
			if err != nil {
				t.Errorf("%s(%q): %v", what, name, err)
			}
			for _, got := range targets {
				if got != name {
					t.Errorf("%s(%q) sent a request for %q", what, name, got)
				}
			}
		}
		g.take()
		check("CreateIndex", c.CreateIndex(ctx, name, IndexSpec{}))
		ok, err := c.IndexExists(ctx, name)
		check("IndexExists", err)
		if !ok {
			t.Errorf("IndexExists(%q) = false after create", name)
		}
		res, err := c.Index(ctx, name, "id+1;x", map[string]any{"k": "v"}, &WriteOptions{Refresh: RefreshTrue})
		check("Index", err)
		if err == nil && (res.Index != name || res.ID != "id+1;x") {
			t.Errorf("Index(%q) wrote to %q id %q", name, res.Index, res.ID)
		}
		d, err := c.Get(ctx, name, "id+1;x", nil)
		check("Get", err)
		if err == nil && d.Index != name {
			t.Errorf("Get(%q) read from %q", name, d.Index)
		}
		sr, err := c.Search(ctx, name, SearchRequest{})
		check("Search", err)
		if err == nil && (sr.Total != 1 || len(sr.Hits) != 1 || sr.Hits[0].Index != name) {
			t.Errorf("Search(%q) = %d hits %+v", name, sr.Total, sr.Hits)
		}
		check("Refresh", c.Refresh(ctx, name))
		_, err = c.Delete(ctx, name, "id+1;x", nil)
		check("Delete", err)
		check("DeleteIndex", c.DeleteIndex(ctx, name))
		if ok, err := c.IndexExists(ctx, name); err != nil || ok {
			t.Errorf("IndexExists(%q) after delete = %v, %v", name, ok, err)
		}
		if ok, err := c.IndexExists(ctx, a); err != nil || !ok {
			t.Fatalf("neighbour %s gone after %q: %v, %v", a, name, ok, err)
		}
		g.take()
	}
}
