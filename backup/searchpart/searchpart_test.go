//go:build !lucidfuzz

package searchpart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/searchpart"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/faultproxy"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/search"
)

// env is one test's engine: a client, the node's URL and a fresh index
// prefix; every index under the prefix is deleted when the test ends.
type env struct {
	c      *search.Client
	url    string
	prefix string
}

func newEnv(t *testing.T, cfg search.Config) env {
	t.Helper()
	srv := testenv.Search(t)
	if cfg.Addresses == nil {
		cfg.Addresses = []string{srv.URL}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := search.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := env{c: c, url: srv.URL, prefix: testenv.Namespace(t) + "-"}
	t.Cleanup(func() {
		_ = c.Close()
		var idx map[string]any
		getJSON(t, srv.URL+"/"+e.prefix+"*?expand_wildcards=all&allow_no_indices=true", &idx)
		for name := range idx {
			req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/"+name, nil)
			if res, err := plainClient().Do(req); err == nil {
				res.Body.Close()
			}
		}
	})
	return e
}

// plainClient is an HTTP client that keeps no idle connection, so no
// goroutine of its outlives the request (goleak).
func plainClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	res, err := plainClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func newManager(t testing.TB, comp backup.Compression, plaintext bool) *backup.Manager {
	t.Helper()
	cfg := backup.Config{Compression: comp, Checkers: searchpart.Checkers(), Plaintext: plaintext}
	if !plaintext {
		cfg.Passphrase = "searchpart test"
		cfg.ScryptWorkFactor = 10
	}
	m, err := backup.NewLocal(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// seed creates index name with a mapping, settings and the aliases given,
// and n documents of varied shapes; it returns them by id.
func seed(t *testing.T, e env, name string, aliases map[string]any, n int) map[string]any {
	t.Helper()
	ctx := context.Background()
	spec := search.IndexSpec{
		Settings: map[string]any{"number_of_shards": 1, "number_of_replicas": 0,
			"analysis": map[string]any{"analyzer": map[string]any{"folded": map[string]any{"type": "custom", "tokenizer": "standard", "filter": []any{"lowercase", "asciifolding"}}}}},
		Mappings: map[string]any{"properties": map[string]any{
			"user_id":    map[string]any{"type": "keyword"},
			"title":      map[string]any{"type": "text", "analyzer": "folded"},
			"created_at": map[string]any{"type": "date"},
			"n":          map[string]any{"type": "long"},
			"tags":       map[string]any{"type": "keyword"},
			"chunks":     map[string]any{"type": "nested", "properties": map[string]any{"i": map[string]any{"type": "integer"}}},
		}},
		Aliases: aliases,
	}
	if err := e.c.CreateIndex(ctx, name, spec); err != nil {
		t.Fatal(err)
	}
	docs := make(map[string]any, n)
	bulk := e.c.NewBulkIndexer(search.BulkConfig{})
	var failed atomic.Int64
	for i := range n {
		id := fmt.Sprintf("doc-%05d", i)
		var doc map[string]any
		switch i % 5 {
		case 0:
			id = fmt.Sprintf("odd id/%d ü+%%2F?#", i)
			doc = map[string]any{"user_id": "u1", "title": "Crème brûlée \"quoted\"\n line", "n": int64(1) << 53}
		case 1:
			doc = map[string]any{"user_id": "u2", "tags": []any{"a", "b", []any{"c", []any{"d"}}}, "created_at": "2026-11-02T03:04:05.123Z"}
		case 2:
			doc = map[string]any{"chunks": []any{map[string]any{"i": 1}, map[string]any{"i": 2}}, "free": map[string]any{"deep": map[string]any{"x": nil, "y": true, "z": 1.5e-7}}}
		case 3:
			size := 2 << 10
			if i == 3 {
				size = 1 << 20 // one document of 4 MiB, several chunks' worth
			}
			doc = map[string]any{"title": strings.Repeat("big ", size), "n": -3}
		default:
			doc = map[string]any{"empty": map[string]any{}, "arr": []any{}, "emoji": "🙂\u2028\u0000"}
		}
		b, _ := json.Marshal(doc)
		var back any
		_ = json.Unmarshal(b, &back)
		docs[id] = back
		if err := bulk.Add(ctx, search.BulkItem{Index: name, ID: id, Body: b,
			OnFailure: func(search.BulkItem, search.BulkItemResult, error) { failed.Add(1) }}); err != nil {
			t.Fatal(err)
		}
	}
	if err := bulk.Close(ctx); err != nil || failed.Load() != 0 {
		t.Fatalf("seed: %v, %d failed", err, failed.Load())
	}
	if err := e.c.Refresh(ctx, name); err != nil {
		t.Fatal(err)
	}
	return docs
}

// docsOf reads every document of index by id, through Scan.
func docsOf(t testing.TB, c *search.Client, index string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for h, err := range c.Scan(context.Background(), index, search.ScanOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(h.Source, &v); err != nil {
			t.Fatal(err)
		}
		out[h.ID] = v
	}
	return out
}

// diffDocs compares two document sets item by item.
func diffDocs(t testing.TB, what string, want, got map[string]any) {
	t.Helper()
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Fatalf("%s: document %q missing", what, id)
		}
		if !reflect.DeepEqual(w, g) {
			t.Fatalf("%s: document %q differs:\nwant %v\n got %v", what, id, w, g)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d documents, want %d", what, len(got), len(want))
	}
}

// definition is what GET /<index> says of an index, with what must differ
// between two copies (uuid, creation date, name) removed.
func definition(t testing.TB, url, index string) map[string]any {
	t.Helper()
	var all map[string]map[string]any
	getJSON(t, url+"/"+index, &all)
	d := all[index]
	ix := d["settings"].(map[string]any)["index"].(map[string]any)
	for _, k := range []string{"uuid", "creation_date", "version", "provided_name"} {
		delete(ix, k)
	}
	return d
}

func TestSearchRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, search.Config{})
	p := e.prefix
	oct, nov := p+"lucid-sessions-2026.10", p+"lucid-sessions-2026.11"
	want := map[string]map[string]any{
		oct: seed(t, e, oct, map[string]any{p + "lucid-sessions": map[string]any{}}, 300),
		nov: seed(t, e, nov, map[string]any{
			p + "lucid-sessions":       map[string]any{},
			p + "lucid-sessions-write": map[string]any{"is_write_index": true},
			p + "u1-sessions":          map[string]any{"filter": map[string]any{"term": map[string]any{"user_id": "u1"}}, "routing": "1"},
		}, 500),
	}
	// An index the pattern does not select stays out.
	seed(t, e, p+"lucid-blocks-2026.11", nil, 3)

	for _, comp := range []backup.Compression{backup.Zstd, backup.None} {
		t.Run(string(comp), func(t *testing.T) {
			m := newManager(t, comp, comp == backup.None)
			src := searchpart.Source{Client: e.c, Indices: []string{p + "lucid-sessions-*"}, PageSize: 100, ChunkBytes: 64 << 10}
			man, err := m.Backup(ctx, []backup.Part{{Name: "search", Source: src}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			pm := man.Parts[0]
			if pm.Kind != "search" || pm.Format != "tar" || pm.Records != 800 || pm.Counts[oct] != 300 || pm.Counts[nov] != 500 || len(pm.Counts) != 2 || pm.Source != "opensearch" && pm.Source != "elasticsearch" {
				t.Fatalf("part %+v", pm)
			}
			rep, err := m.Verify(ctx, man.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Parts[0].Parsed || rep.Parts[0].Stats.Records != 800 {
				t.Fatalf("verify %+v", rep.Parts[0])
			}

			np := p + "r" + string(comp[0]) + "-"
			r := searchpart.Restorer{Client: e.c, Prefix: p, NewPrefix: np}
			st, err := m.Restore(ctx, man.ID, "search", r)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != 800 {
				t.Fatalf("restored %+v", st)
			}
			for _, idx := range []string{oct, nov} {
				ridx := np + strings.TrimPrefix(idx, p)
				diffDocs(t, ridx, want[idx], docsOf(t, e.c, ridx))
				wd, gd := definition(t, e.url, idx), definition(t, e.url, ridx)
				if !reflect.DeepEqual(wd["mappings"], gd["mappings"]) || !reflect.DeepEqual(wd["settings"], gd["settings"]) {
					t.Fatalf("%s definition differs:\nwant %v\n got %v", ridx, wd, gd)
				}
				wa := map[string]any{}
				for a, v := range wd["aliases"].(map[string]any) {
					wa[np+strings.TrimPrefix(a, p)] = v
				}
				if !reflect.DeepEqual(wa, gd["aliases"]) {
					t.Fatalf("%s aliases: want %v got %v", ridx, wa, gd["aliases"])
				}
			}
			// The renamed filtered alias works.
			res, err := e.c.Search(ctx, np+"u1-sessions", search.SearchRequest{NoHits: true, TrackTotalHits: true})
			if err != nil || res.Total != 500/5 {
				t.Fatalf("filtered alias: %v %+v", err, res)
			}

			// A second restore is refused before anything is written, unless asked.
			if _, err := m.Restore(ctx, man.ID, "search", r); !errors.Is(err, backup.ErrExists) || errkind.Of(err) != errkind.AlreadyExists {
				t.Fatalf("restore over existing indices: %v", err)
			}
			if _, err := e.c.Index(ctx, np+"lucid-sessions-2026.10", "extra", map[string]any{"x": 1}, nil); err != nil {
				t.Fatal(err)
			}
			r.Overwrite = true
			if _, err := m.Restore(ctx, man.ID, "search", r); err != nil {
				t.Fatal(err)
			}
			diffDocs(t, "overwritten", want[oct], docsOf(t, e.c, np+"lucid-sessions-2026.10"))

			// A name map renames single indices and aliases; the prefix rule
			// takes the rest (the write and filtered aliases).
			mp := p + "m" + string(comp[0]) + "-"
			r = searchpart.Restorer{Client: e.c, Rename: map[string]string{oct: mp + "oct", nov: mp + "nov", p + "lucid-sessions": mp + "read"}, Prefix: p, NewPrefix: mp}
			if _, err := m.Restore(ctx, man.ID, "search", r); err != nil {
				t.Fatal(err)
			}
			diffDocs(t, "renamed", want[oct], docsOf(t, e.c, mp+"oct"))
			diffDocs(t, "renamed", want[nov], docsOf(t, e.c, mp+"nov"))
			res, err = e.c.Search(ctx, mp+"read", search.SearchRequest{NoHits: true, TrackTotalHits: true})
			if err != nil || res.Total != 800 {
				t.Fatalf("renamed read alias: %v %+v", err, res)
			}
			if res, err = e.c.Search(ctx, mp+"lucid-sessions-write", search.SearchRequest{NoHits: true, TrackTotalHits: true}); err != nil || res.Total != 500 {
				t.Fatalf("renamed write alias: %v %+v", err, res)
			}
		})
	}
}

// The NDJSON loads with curl alone: the unpacked plaintext part's
// index.json creates the index (PUT), each chunk goes to _bulk as is.
func TestSearchCurlInterop(t *testing.T) {
	for _, tool := range []string{"curl", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testenv.Required() {
				t.Fatalf("%s not installed (LUCID_REQUIRE_SERVERS=1)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	ctx := context.Background()
	e := newEnv(t, search.Config{})
	name := e.prefix + "lucid-blocks-2026.11"
	want := seed(t, e, name, map[string]any{e.prefix + "lucid-blocks": map[string]any{}}, 900)
	wantDef := definition(t, e.url, name)
	rt := e.prefix + "lucid-routed"
	wantRouting := routed(t, e, rt, 40)
	m := newManager(t, backup.None, true)
	man, err := m.Backup(ctx, []backup.Part{{Name: "search", Source: searchpart.Source{Client: e.c, Indices: []string{name, rt}, ChunkBytes: 128 << 10}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	obj := filepath.Join(m.Sink().(*backup.LocalSink).Dir(), man.ID, man.Parts[0].Object)
	run(t, "", "tar", "-x", "-f", obj, "-C", dir)
	chunks, _ := filepath.Glob(filepath.Join(dir, name, "docs-*.ndjson"))
	if len(chunks) < 2 {
		t.Fatalf("%d chunks, want several", len(chunks))
	}
	rchunks, _ := filepath.Glob(filepath.Join(dir, rt, "docs-*.ndjson"))
	for _, n := range []string{name, rt} {
		if err := e.c.DeleteIndex(ctx, n); err != nil {
			t.Fatal(err)
		}
		run(t, dir, "curl", "-fsS", "-X", "PUT", "-H", "Content-Type: application/json", "--data-binary", "@"+n+"/index.json", e.url+"/"+n)
	}
	for _, f := range append(chunks, rchunks...) {
		out := run(t, dir, "curl", "-fsS", "-H", "Content-Type: application/x-ndjson", "--data-binary", "@"+f, e.url+"/_bulk")
		if !bytes.Contains(out, []byte(`"errors":false`)) {
			t.Fatalf("_bulk of %s: %.500s", f, out)
		}
	}
	if err := e.c.Refresh(ctx, name); err != nil {
		t.Fatal(err)
	}
	diffDocs(t, "curl", want, docsOf(t, e.c, name))
	if err := e.c.Refresh(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if got := routingOf(t, e.c, rt); !reflect.DeepEqual(got, wantRouting) {
		t.Fatalf("routing after curl:\n got %q\nwant %q", got, wantRouting)
	}
	gotDef := definition(t, e.url, name)
	if !reflect.DeepEqual(wantDef, gotDef) {
		t.Fatalf("definition after curl:\nwant %v\n got %v", wantDef, gotDef)
	}
}

func run(t testing.TB, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	return out
}

// cutAfter is a round tripper that cuts the fault proxy just before the
// n-th request passes, so the engine becomes unreachable mid-backup at the
// same point however fast the machine is.
type cutAfter struct {
	n     int64
	seen  atomic.Int64
	proxy *faultproxy.HTTP
	next  http.RoundTripper
}

func (c *cutAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.seen.Add(1) == c.n {
		c.proxy.Cut()
	}
	return c.next.RoundTrip(r)
}

// The engine unreachable mid-backup: the backup fails, no manifest is
// written, nothing is listed and nothing stays in the sink.
func TestSearchSourceUnreachable(t *testing.T) {
	ctx := context.Background()
	srv := testenv.Search(t)
	proxy, err := faultproxy.NewHTTP(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	tr := &cutAfter{proxy: proxy, next: &http.Transport{}}
	defer tr.next.(*http.Transport).CloseIdleConnections()
	e := newEnv(t, search.Config{Addresses: []string{proxy.URL()}, Transport: tr, MaxRetries: 1, RetryBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	name := e.prefix + "lucid-sessions-2026.11"
	direct, err := search.Connect(ctx, search.Config{Addresses: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	seed(t, env{c: direct, url: srv.URL, prefix: e.prefix}, name, nil, 600)

	m := newManager(t, backup.Zstd, false)
	// A few pages in (Connect and the seed went directly), the proxy cuts.
	tr.n = tr.seen.Load() + 5
	_, err = m.Backup(ctx, []backup.Part{{Name: "search", Source: searchpart.Source{Client: e.c, Indices: []string{name}, PageSize: 50}}}, nil)
	if err == nil {
		t.Fatal("backup through a cut engine succeeded")
	}
	t.Logf("backup error: %v", err)
	if !strings.Contains(err.Error(), "search") {
		t.Fatalf("error does not name the part: %v", err)
	}
	list, lerr := m.List(ctx)
	if lerr != nil || len(list) != 0 {
		t.Fatalf("listed %v, %v", list, lerr)
	}
	inc, ierr := m.Incomplete(ctx)
	if ierr != nil || len(inc) != 0 {
		t.Fatalf("incomplete %v, %v", inc, ierr)
	}
	// No object of any name stays behind (the local sink may keep the
	// backup's empty directory).
	err = filepath.WalkDir(m.Sink().(*backup.LocalSink).Dir(), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("sink holds %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Restorer used directly: a manifest whose counts differ from the part's
// is ErrCorrupt, and a document the engine rejects fails the restore.
func TestSearchRestorerChecks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, search.Config{})
	name := e.prefix + "lucid-blocks-2026.11"
	seed(t, e, name, nil, 20)
	var part bytes.Buffer
	st, err := searchpart.Source{Client: e.c, Indices: []string{name}}.Stream(ctx, &part)
	if err != nil || st.Records != 20 {
		t.Fatalf("stream: %+v %v", st, err)
	}
	pm := backup.PartManifest{Name: "search", Kind: searchpart.Kind, Format: searchpart.Format, FormatVersion: searchpart.FormatVersion,
		Records: 21, Counts: map[string]int64{name: 21}}
	r := searchpart.Restorer{Client: e.c, Prefix: e.prefix, NewPrefix: e.prefix + "c-"}
	if _, err := r.Restore(ctx, pm, bytes.NewReader(part.Bytes())); !errors.Is(err, backup.ErrCorrupt) {
		t.Fatalf("restore against a manifest counting 21: %v", err)
	}

	// The same part with one source no longer fitting the mapping ("n" is
	// a long).
	bad := bytes.Replace(part.Bytes(), []byte(`"n":-3`), []byte(`"n":{}`), 1)
	if bytes.Equal(bad, part.Bytes()) {
		t.Fatal("no document to spoil")
	}
	pm.Records, pm.Counts = 20, map[string]int64{name: 20}
	r.NewPrefix = e.prefix + "d-"
	if _, err := r.Restore(ctx, pm, bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "status 400") {
		t.Fatalf("restore of a rejected document: %v", err)
	}
}

// routed creates index name with three shards and n documents, every other
// one written with a custom routing value; it returns each id's routing.
func routed(t *testing.T, e env, name string, n int) map[string]string {
	t.Helper()
	ctx := context.Background()
	if err := e.c.CreateIndex(ctx, name, search.IndexSpec{Settings: map[string]any{"number_of_shards": 3, "number_of_replicas": 0}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	bulk := e.c.NewBulkIndexer(search.BulkConfig{})
	var failed atomic.Int64
	for i := range n {
		id, r := fmt.Sprintf("r%03d", i), ""
		if i%2 == 0 {
			r = fmt.Sprintf("tenant \"%d\"/ü", i%7)
		}
		want[id] = r
		if err := bulk.Add(ctx, search.BulkItem{Index: name, ID: id, Routing: r, Body: map[string]any{"i": i},
			OnFailure: func(search.BulkItem, search.BulkItemResult, error) { failed.Add(1) }}); err != nil {
			t.Fatal(err)
		}
	}
	if err := bulk.Close(ctx); err != nil || failed.Load() != 0 {
		t.Fatalf("routed: %v, %d failed", err, failed.Load())
	}
	if err := e.c.Refresh(ctx, name); err != nil {
		t.Fatal(err)
	}
	return want
}

// routingOf reads every document's routing of index by id.
func routingOf(t testing.TB, c *search.Client, index string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for h, err := range c.Scan(context.Background(), index, search.ScanOptions{Source: []string{"i"}}) {
		if err != nil {
			t.Fatal(err)
		}
		out[h.ID] = h.Routing
	}
	return out
}

// exists reports whether index (or alias) exists.
func exists(t testing.TB, c *search.Client, index string) bool {
	t.Helper()
	ok, err := c.IndexExists(context.Background(), index)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestSearchSelectiveRestore restores some indices of a part: by name into
// scratch names (the others, and their aliases, left out), by pattern into
// the original place, and a routed index whose documents keep their
// routing. A selection the part does not hold, or an included target that
// exists, is refused before anything is written.
func TestSearchSelectiveRestore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, search.Config{})
	p := e.prefix
	oct, nov, blocks, rt := p+"lucid-sessions-2026.10", p+"lucid-sessions-2026.11", p+"lucid-blocks-2026.11", p+"lucid-routed"
	read := map[string]any{p + "lucid-sessions": map[string]any{}}
	want := map[string]map[string]any{
		oct:    seed(t, e, oct, read, 40),
		nov:    seed(t, e, nov, read, 60),
		blocks: seed(t, e, blocks, map[string]any{p + "lucid-blocks": map[string]any{}}, 25),
	}
	wantRouting := routed(t, e, rt, 50)
	m := newManager(t, backup.Zstd, false)
	man, err := m.Backup(ctx, []backup.Part{searchpart.Part("search", e.c, p+"lucid-*")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pm := man.Parts[0]; pm.Records != 175 || len(pm.Counts) != 4 || pm.FormatVersion != 2 {
		t.Fatalf("part %+v", pm)
	}

	// One index by name, into scratch names: only it and its aliases.
	sp := p + "scratch-"
	r := searchpart.Restorer{Client: e.c, Include: []string{nov}, Prefix: p, NewPrefix: sp}
	st, err := m.Restore(ctx, man.ID, "search", r)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 175 { // the part's counts, checked whole against the manifest
		t.Fatalf("restore stats %+v", st)
	}
	diffDocs(t, "selected", want[nov], docsOf(t, e.c, sp+"lucid-sessions-2026.11"))
	for _, n := range []string{sp + "lucid-sessions-2026.10", sp + "lucid-blocks-2026.11", sp + "lucid-blocks", sp + "lucid-routed"} {
		if exists(t, e.c, n) {
			t.Errorf("%s restored, not selected", n)
		}
	}
	if res, err := e.c.Search(ctx, sp+"lucid-sessions", search.SearchRequest{NoHits: true, TrackTotalHits: true}); err != nil || res.Total != 60 {
		t.Fatalf("scratch read alias: %v %+v", err, res)
	}

	// By pattern into the original place: the blocks index was lost; the
	// originals of the indices not selected exist and are left alone.
	if err := e.c.DeleteIndex(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Index(ctx, oct, "marker", map[string]any{"n": 1}, &search.WriteOptions{Refresh: search.RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Restore(ctx, man.ID, "search", searchpart.Restorer{Client: e.c, Include: []string{p + "lucid-blocks-*"}}); err != nil {
		t.Fatal(err)
	}
	diffDocs(t, "original place", want[blocks], docsOf(t, e.c, blocks))
	if res, err := e.c.Search(ctx, p+"lucid-blocks", search.SearchRequest{NoHits: true, TrackTotalHits: true}); err != nil || res.Total != 25 {
		t.Fatalf("original alias: %v %+v", err, res)
	}
	if got := docsOf(t, e.c, oct); len(got) != 41 || got["marker"] == nil {
		t.Fatalf("an index not selected was touched: %d documents", len(got))
	}

	// The routed index, renamed: every document keeps its routing.
	if _, err := m.Restore(ctx, man.ID, "search", searchpart.Restorer{Client: e.c, Include: []string{rt}, Rename: map[string]string{rt: p + "routed-copy"}}); err != nil {
		t.Fatal(err)
	}
	if got := routingOf(t, e.c, p+"routed-copy"); !reflect.DeepEqual(got, wantRouting) {
		t.Fatalf("routing after restore:\n got %q\nwant %q", got, wantRouting)
	}

	// Refusals, before anything is written.
	for _, c := range []struct {
		r    searchpart.Restorer
		kind error
	}{
		{searchpart.Restorer{Client: e.c, Include: []string{nov, p + "lucid-nothing"}, Prefix: p, NewPrefix: p + "x-"}, backup.ErrNotFound},
		{searchpart.Restorer{Client: e.c, Include: []string{p + "lucid-sessions"}, Prefix: p, NewPrefix: p + "x-"}, backup.ErrNotFound}, // an alias does not select
		{searchpart.Restorer{Client: e.c, Include: []string{p + "lucid-sessions-*"}}, backup.ErrExists},
	} {
		if _, err := m.Restore(ctx, man.ID, "search", c.r); !errors.Is(err, c.kind) {
			t.Errorf("restore %v: %v, want %v", c.r.Include, err, c.kind)
		}
	}
	if exists(t, e.c, p+"x-lucid-sessions-2026.11") {
		t.Error("a refused restore created an index")
	}
	// A pattern that selects nothing restores nothing, and succeeds.
	if _, err := m.Restore(ctx, man.ID, "search", searchpart.Restorer{Client: e.c, Include: []string{p + "nothing-*"}}); err != nil {
		t.Fatal(err)
	}
}

// An index whose mapping keeps fields out of _source (includes or
// excludes) fails the backup with ErrUnsupported naming it: its documents
// would come back without those fields. No manifest is written.
func TestSearchFilteredSourceRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, search.Config{})
	for _, field := range []string{"excludes", "includes"} {
		name := e.prefix + "filtered-" + field
		list := []any{"secret"}
		if field == "includes" {
			list = []any{"public"}
		}
		if err := e.c.CreateIndex(ctx, name, search.IndexSpec{Mappings: map[string]any{"_source": map[string]any{field: list}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.Index(ctx, name, "1", map[string]any{"public": "p", "secret": "s"}, &search.WriteOptions{Refresh: search.RefreshTrue}); err != nil {
			t.Fatal(err)
		}
		m := newManager(t, backup.None, true)
		_, err := m.Backup(ctx, []backup.Part{searchpart.Part("search", e.c, name)}, nil)
		if !errors.Is(err, backup.ErrUnsupported) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "_source."+field) {
			t.Fatalf("%s: backup: %v", field, err)
		}
		if l, err := m.List(ctx); err != nil || len(l) != 0 {
			t.Fatalf("%s: listed %v %v", field, l, err)
		}
	}
}
