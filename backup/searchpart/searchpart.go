// Package searchpart backs up and restores Elasticsearch / OpenSearch
// indices as parts of a backup: per index its settings, mappings and
// aliases, and its documents read with a point in time and search_after
// (search.Client.Scan), as NDJSON in _bulk form.
//
// # Format
//
// The part is a tar stream (format "tar", kind "search"):
//
//	searchpart.json               {"format":"lucid-search-part","version":1,"indices":[…]}
//	<index>/index.json            {"settings":{…},"mappings":{…},"aliases":{…}}: the body of PUT /<index>
//	<index>/docs-000000.ndjson    {"index":{"_index":"<index>","_id":"…"}} and the source, line by line
//	<index>/docs-000001.ndjson    …
//
// A tar rather than one NDJSON stream because _bulk refuses any line that is
// not an action, so index definitions cannot travel inside the NDJSON, and
// because one file of a large index would exceed the engine's
// http.max_content_length (100 MB by default) and could not be POSTed at
// all: documents are cut into chunks of at most Source.ChunkBytes (8 MiB by
// default), each a complete _bulk body that curl loads as is. The stream is
// written as the documents are read — only the chunk being filled is held in
// memory — and read back the same way. The settings leave out what the
// engine manages (index.uuid, index.creation_date, index.version,
// index.provided_name), so index.json creates the index on another cluster.
// A document written with a custom routing value keeps it: its action line
// carries "routing" (format version 2; version 1 parts, which have none, are
// read as before), so curl and Restorer put it on the same shard again.
// Documents of an index whose _source is disabled cannot be kept, nor whole
// documents where the mapping's _source includes or excludes fields: such
// an index fails the backup (ErrUnsupported naming it) rather than giving a
// part that restores documents without those fields.
//
// # Restoring with standard tools
//
// Decrypt, decompress and unpack the part, then create each index from its
// index.json and load its chunks with curl:
//
//	age -d -i key.txt search.tar.zst.age | zstd -d | tar -x -C /restore
//	cd /restore
//	for d in */; do
//	  i=${d%/}
//	  curl -fsS -X PUT -H 'Content-Type: application/json' --data-binary @"$i/index.json" "localhost:9200/$i"
//	  for f in "$i"/docs-*.ndjson; do
//	    [ -e "$f" ] || continue
//	    curl -fsS -H 'Content-Type: application/x-ndjson' --data-binary @"$f" localhost:9200/_bulk | grep -q '"errors":false'
//	  done
//	done
//
// Restorer does the same with the SDK's bulk indexer, restoring all the
// part's indices or those Include selects, under their own names or renamed
// (indices and aliases alike) into scratch ones, and checks the counts.
//
// # Engine snapshots
//
// Snapshots drives the engine's own snapshot API instead (register an fs
// repository, create, list, restore with rename, delete), and finds the
// snapshot_YYYYmmdd_HHMMSS snapshots of Lucid's lucid_backup repository.
// An fs repository needs its location under every node's path.repo; an
// engine without one (or without the named repository) answers
// backup.ErrUnsupported.
package searchpart

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/search"
)

// Kind is the part kind this package writes ("search"), the key of its
// Checker in backup.Config.Checkers.
const Kind = "search"

// Format and FormatVersion describe the part: a tar stream as the package
// doc says. Version 2 added the routing of action lines; this package reads
// versions 1 and 2.
const (
	Format        = "tar"
	FormatVersion = 2
)

// MetaIndices is the Meta key holding the selection a part was taken with
// (names and patterns, comma-separated).
const MetaIndices = "indices"

// DefaultChunkBytes is the default largest NDJSON chunk.
const DefaultChunkBytes = 8 << 20

// Source is a selection of indices as a part.
type Source struct {
	Client *search.Client
	// Indices are index names, aliases or wildcard patterns
	// ("lucid-sessions-*"), each checked by lucidkeys.ValidateIndexPattern.
	// An alias selects the indices it points to. A name that does not
	// exist fails the backup; a pattern may match nothing.
	Indices []string
	// PageSize is Scan's page size (default 1000).
	PageSize int
	// KeepAlive is how long the point in time survives between pages
	// (default 1m).
	KeepAlive time.Duration
	// ChunkBytes caps a docs-NNNNNN.ndjson chunk (default
	// DefaultChunkBytes). A document larger than it gets a chunk of its
	// own.
	ChunkBytes int
}

var (
	_ backup.Source   = Source{}
	_ backup.Restorer = Restorer{}
	_ backup.Checker  = Checker{}
)

// Part returns a backup.Part named name for the indices selected by
// indices.
func Part(name string, c *search.Client, indices ...string) backup.Part {
	return backup.Part{Name: name, Source: Source{Client: c, Indices: indices}}
}

// Checkers returns the Config.Checkers entry of this kind, to merge with
// others' (or use as is).
func Checkers() map[string]backup.Checker { return map[string]backup.Checker{Kind: Checker{}} }

// Describe implements backup.Source.
func (s Source) Describe() backup.SourceInfo {
	info := backup.SourceInfo{Kind: Kind, Format: Format, FormatVersion: FormatVersion, Source: "search",
		Meta: map[string]string{MetaIndices: strings.Join(s.Indices, ",")}}
	if s.Client != nil {
		info.Source = string(s.Client.Product())
		info.SourceVersion = s.Client.Version()
	}
	return info
}

func invalid(msg string) error {
	return &backup.Error{Op: "search part", Kind: backup.ErrInvalid, Msg: msg}
}

// Stream implements backup.Source. Each index is read through its own
// point in time, so it is consistent in itself; indices are read one after
// the other. Stats.Counts holds the documents of each index by name,
// Records their sum.
func (s Source) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	if s.Client == nil || len(s.Indices) == 0 {
		return backup.Stats{}, invalid("no client or no indices")
	}
	for _, p := range s.Indices {
		if err := lucidkeys.ValidateIndexPattern(p); err != nil {
			return backup.Stats{}, &backup.Error{Op: "search part", Kind: backup.ErrInvalid, Err: err}
		}
	}
	defs, err := getIndices(ctx, s.Client, s.Indices)
	if err != nil {
		return backup.Stats{}, err
	}
	names := slices.Sorted(maps.Keys(defs))
	now := time.Now().Truncate(time.Second)
	tw := tar.NewWriter(w)
	put := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(b)), Mode: 0o600, ModTime: now, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	hb, err := json.Marshal(header{Format: headerFormat, Version: FormatVersion, Indices: names})
	if err != nil {
		return backup.Stats{}, err
	}
	if err := put(HeaderName, append(hb, '\n')); err != nil {
		return backup.Stats{}, err
	}
	st := backup.Stats{Counts: make(map[string]int64, len(names))}
	chunkMax := s.ChunkBytes
	if chunkMax <= 0 {
		chunkMax = DefaultChunkBytes
	}
	var buf bytes.Buffer
	for _, name := range names {
		def := defs[name]
		b, err := json.Marshal(def)
		if err != nil {
			return backup.Stats{}, err
		}
		if err := put(name+"/index.json", append(b, '\n')); err != nil {
			return backup.Stats{}, err
		}
		chunk, n := 0, int64(0)
		flush := func() error {
			if buf.Len() == 0 {
				return nil
			}
			err := put(fmt.Sprintf("%s/docs-%06d.ndjson", name, chunk), buf.Bytes())
			chunk++
			buf.Reset()
			return err
		}
		for h, err := range s.Client.Scan(ctx, name, search.ScanOptions{PageSize: s.PageSize, KeepAlive: s.KeepAlive}) {
			if err != nil {
				return backup.Stats{}, &backup.Error{Op: "search part", Msg: "reading " + name, Err: err}
			}
			src := []byte(h.Source)
			if len(src) == 0 || src[0] != '{' {
				src = bytes.TrimSpace(src)
			}
			if len(src) == 0 || src[0] != '{' {
				return backup.Stats{}, &backup.Error{Op: "search part", Kind: backup.ErrUnsupported, Msg: "index " + name + ": document " + h.ID + " has no _source (is _source disabled?)"}
			}
			if bytes.ContainsAny(src, "\r\n") {
				// A source indexed pretty-printed comes back as sent; NDJSON
				// needs it on one line.
				var c bytes.Buffer
				if err := json.Compact(&c, src); err != nil {
					return backup.Stats{}, err
				}
				src = c.Bytes()
			}
			act, err := json.Marshal(action{Index: &actionMeta{Index: name, ID: h.ID, Routing: h.Routing}})
			if err != nil {
				return backup.Stats{}, err
			}
			if buf.Len() > 0 && buf.Len()+len(act)+len(src)+2 > chunkMax {
				if err := flush(); err != nil {
					return backup.Stats{}, err
				}
			}
			buf.Write(act)
			buf.WriteByte('\n')
			buf.Write(src)
			buf.WriteByte('\n')
			n++
		}
		if err := flush(); err != nil {
			return backup.Stats{}, err
		}
		st.Counts[name] = n
		st.Records += n
	}
	if err := tw.Close(); err != nil {
		return backup.Stats{}, err
	}
	return st, nil
}

// getIndices returns the definitions of the indices the patterns select,
// by concrete name (search.Client.IndexSpecs, which leaves out the settings
// the engine manages). A name the SDK could not address on restore fails
// the backup now rather than the restore later.
func getIndices(ctx context.Context, c *search.Client, patterns []string) (map[string]search.IndexSpec, error) {
	defs, err := c.IndexSpecs(ctx, strings.Join(patterns, ","))
	if err != nil {
		var kind error
		switch {
		case errors.Is(err, search.ErrNotFound):
			kind = backup.ErrNotFound
		case errors.Is(err, search.ErrInvalid):
			kind = backup.ErrInvalid
		}
		return nil, &backup.Error{Op: "search part", Kind: kind, Msg: "get indices", Err: err}
	}
	for name, def := range defs {
		if err := lucidkeys.ValidateIndexName(name); err != nil {
			return nil, &backup.Error{Op: "search part", Kind: backup.ErrUnsupported, Msg: "index name the SDK cannot address", Err: err}
		}
		if field := filteredSource(def.Mappings); field != "" {
			return nil, &backup.Error{Op: "search part", Kind: backup.ErrUnsupported,
				Msg: "index " + name + ": its mapping's _source." + field + " keeps parts of each document out of _source, so they cannot be backed up"}
		}
	}
	return defs, nil
}

// filteredSource returns "includes" or "excludes" when the mapping stores
// only part of each document in _source, else "". Such documents come back
// without the filtered fields, and a restore from them would silently lose
// data, so their indices fail the backup instead.
func filteredSource(mappings map[string]any) string {
	src, _ := mappings["_source"].(map[string]any)
	for _, k := range []string{"includes", "excludes"} {
		if l, ok := src[k].([]any); ok && len(l) > 0 {
			return k
		}
	}
	return ""
}

// classify maps an engine's failure (its status, error type and whole
// answer, whose root causes name path.repo) to a backup sentinel, or nil.
func classify(status int, typ, body string) error {
	switch {
	case typ == "repository_missing_exception",
		typ == "repository_exception" && strings.Contains(body, "path.repo"):
		// The engine has no such repository, or cannot have an fs one.
		return backup.ErrUnsupported
	case typ == "resource_already_exists_exception", typ == "invalid_snapshot_name_exception" && strings.Contains(body, "already exists"):
		return backup.ErrExists
	case status == http.StatusNotFound:
		return backup.ErrNotFound
	case status == http.StatusBadRequest:
		return backup.ErrInvalid
	case status == http.StatusNotImplemented:
		return backup.ErrUnsupported
	}
	return nil
}

// requester is an esapi request.
type requester interface {
	Do(ctx context.Context, t esapi.Transport) (*esapi.Response, error)
}

// do sends req through c's transport and decodes a 2xx answer into out.
// A 404 is backup.ErrNotFound; other failures keep the engine's answer
// (truncated) or the transport error.
func do(ctx context.Context, c *search.Client, op string, req requester, out any) error {
	res, err := req.Do(ctx, c.Transport())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &backup.Error{Op: "search part", Msg: op, Err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return &backup.Error{Op: "search part", Msg: op, Err: err}
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		kind := classify(res.StatusCode, e.Error.Type, string(body))
		if len(body) > 512 {
			body = body[:512]
		}
		return &backup.Error{Op: "search part", Kind: kind,
			Msg: fmt.Sprintf("%s: HTTP %d: %s", op, res.StatusCode, body)}
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &backup.Error{Op: "search part", Msg: op + ": bad answer", Err: err}
	}
	return nil
}

// Checker parses a search part for backup.Manager.Verify: every entry,
// every action and source line, counting documents per index; nothing is
// sent anywhere.
type Checker struct{}

// Check implements backup.Checker.
func (Checker) Check(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	if p.FormatVersion > FormatVersion {
		return backup.Stats{}, &backup.Error{Op: "check", Part: p.Name, Kind: backup.ErrUnsupported, Msg: "search part format version too new"}
	}
	counts, err := readPart(ctx, r, handler{})
	if err != nil {
		return backup.Stats{}, err
	}
	return countStats(counts), nil
}

func countStats(counts map[string]int64) backup.Stats {
	st := backup.Stats{Counts: counts}
	for _, n := range counts {
		st.Records += n
	}
	return st
}

// Restorer restores a search part into the cluster of Client: each index
// created from its settings and mappings, its aliases re-created, its
// documents loaded through the SDK's bulk indexer, then refreshed and its
// count compared with the part's.
type Restorer struct {
	Client *search.Client
	// Rename maps an index or alias name to the name to restore it as.
	Rename map[string]string
	// Prefix and NewPrefix rename every index and alias starting with
	// Prefix (that Rename does not name) to start with NewPrefix instead:
	// "lucid-" and "scratch-lucid-" restore lucid-sessions-2026.11 as
	// scratch-lucid-sessions-2026.11 with its aliases renamed alike.
	Prefix, NewPrefix string
	// Include, when not empty, restores only the part's indices it
	// selects: index names, or patterns whose '*' matches any run of
	// characters ("lucid-sessions-2026.*"), as the part's source names
	// them (before Rename and Prefix). The other indices are read, so the
	// part is still checked whole, and skipped; their aliases are not
	// created. A name (no '*') that the part does not hold is
	// backup.ErrNotFound before anything is written, a pattern may match
	// nothing. Aliases do not select: name the indices behind them.
	Include []string
	// Overwrite deletes a target index that exists before creating it
	// again; without it any existing target is refused with
	// backup.ErrExists before anything is written.
	Overwrite bool
	// Bulk configures the bulk indexer (zero: the SDK's defaults).
	Bulk search.BulkConfig
}

// included reports whether Include selects the part's index name.
func (r Restorer) included(name string) bool {
	if len(r.Include) == 0 {
		return true
	}
	for _, p := range r.Include {
		if matchWildcard(p, name) {
			return true
		}
	}
	return false
}

// matchWildcard reports whether name matches pattern, whose '*' stand for
// any run of characters (the engines' index pattern syntax; no other
// character is special).
func matchWildcard(pattern, name string) bool {
	first, rest, star := strings.Cut(pattern, "*")
	if !star {
		return pattern == name
	}
	if !strings.HasPrefix(name, first) {
		return false
	}
	name = name[len(first):]
	for {
		seg, more, star := strings.Cut(rest, "*")
		if !star {
			// The last segment is anchored at the end.
			return strings.HasSuffix(name, seg)
		}
		i := strings.Index(name, seg)
		if i < 0 {
			return false
		}
		name, rest = name[i+len(seg):], more
	}
}

// target returns the name name is restored as.
func (r Restorer) target(name string) string {
	if n, ok := r.Rename[name]; ok {
		return n
	}
	if r.Prefix != "" || r.NewPrefix != "" {
		if rest, ok := strings.CutPrefix(name, r.Prefix); ok {
			return r.NewPrefix + rest
		}
	}
	return name
}

// Restore implements backup.Restorer. Documents the engine rejects fail
// the restore (the first rejection is reported); a count that differs from
// the part's or the manifest's after the refresh is backup.ErrCorrupt.
// Indices already created stay on failure: restore under a new name (Rename,
// Prefix) when a half restore must not be seen.
func (r Restorer) Restore(ctx context.Context, p backup.PartManifest, rd io.Reader) (backup.Stats, error) {
	if r.Client == nil {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "no client"}
	}
	if p.Kind != Kind || p.Format != Format {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "not a search part: " + p.Kind + "/" + p.Format}
	}
	if p.FormatVersion > FormatVersion {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrUnsupported, Msg: "search part format version too new"}
	}
	var (
		mu      sync.Mutex
		failure error
	)
	fail := func(err error) {
		mu.Lock()
		if failure == nil {
			failure = err
		}
		mu.Unlock()
	}
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return failure
	}
	bulk := r.Client.NewBulkIndexer(r.Bulk)
	closed := false
	defer func() {
		if !closed {
			_ = bulk.Close(context.WithoutCancel(ctx))
		}
	}()
	onFailure := func(item search.BulkItem, res search.BulkItemResult, err error) {
		fail(&backup.Error{Op: "restore", Part: p.Name, Msg: fmt.Sprintf("document %s of %s: status %d", item.ID, item.Index, res.Status), Err: err})
	}
	h := handler{
		header: func(indices []string) error {
			for _, sel := range r.Include {
				if strings.Contains(sel, "*") || slices.Contains(indices, sel) {
					continue
				}
				return &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrNotFound, Msg: "the part holds no index " + sel}
			}
			for _, name := range indices {
				if !r.included(name) {
					continue
				}
				t := r.target(name)
				if err := lucidkeys.ValidateIndexName(t); err != nil {
					return &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "target of " + name, Err: err}
				}
				if r.Overwrite {
					continue
				}
				ok, err := r.Client.IndexExists(ctx, t)
				if err != nil {
					return err
				}
				if ok {
					return &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrExists, Msg: "index " + t + " exists (set Overwrite to replace it)"}
				}
			}
			return nil
		},
		index: func(name string, def indexDef) error {
			if !r.included(name) {
				return nil
			}
			t := r.target(name)
			if r.Overwrite {
				if err := r.Client.DeleteIndex(ctx, t); err != nil && !errors.Is(err, search.ErrNotFound) {
					return err
				}
			}
			spec := search.IndexSpec{Settings: def.Settings, Mappings: def.Mappings}
			if len(def.Aliases) > 0 {
				spec.Aliases = make(map[string]any, len(def.Aliases))
				for a, v := range def.Aliases {
					spec.Aliases[r.target(a)] = v
				}
			}
			if err := r.Client.CreateIndex(ctx, t, spec); err != nil {
				return &backup.Error{Op: "restore", Part: p.Name, Msg: "creating " + t, Err: err}
			}
			return nil
		},
		doc: func(d doc) error {
			if !r.included(d.Index) {
				return nil
			}
			if err := failed(); err != nil {
				return err
			}
			return bulk.Add(ctx, search.BulkItem{Index: r.target(d.Index), ID: d.ID, Routing: d.Routing, Body: json.RawMessage(d.Source), OnFailure: onFailure})
		},
	}
	counts, err := readPart(ctx, rd, h)
	closed = true
	if cerr := bulk.Close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = failed()
	}
	if err != nil {
		return backup.Stats{}, err
	}
	for name, n := range counts {
		if want, ok := p.Counts[name]; !ok || want != n {
			return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Msg: fmt.Sprintf("index %s: part holds %d documents, manifest says %d", name, n, want)}
		}
		if !r.included(name) {
			continue
		}
		t := r.target(name)
		if err := r.Client.Refresh(ctx, t); err != nil {
			return backup.Stats{}, err
		}
		res, err := r.Client.Search(ctx, t, search.SearchRequest{NoHits: true, TrackTotalHits: true})
		if err != nil {
			return backup.Stats{}, err
		}
		if res.Total != n {
			return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Msg: fmt.Sprintf("index %s holds %d documents after the restore, the part %d (ids repeated, or written to meanwhile?)", t, res.Total, n)}
		}
	}
	if len(counts) != len(p.Counts) {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Msg: "the part's indices differ from the manifest's"}
	}
	return countStats(counts), nil
}
