package searchpart

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/search"
)

// HeaderName is the part's first tar entry: the format marker and the
// list of indices, so a reader knows every index before any data.
const HeaderName = "searchpart.json"

// headerFormat is the value of the header's "format" field.
const headerFormat = "lucid-search-part"

// header is the content of HeaderName.
type header struct {
	Format  string   `json:"format"`
	Version int      `json:"version"`
	Indices []string `json:"indices"`
}

// action is a _bulk action line: {"index":{"_index":…,"_id":…}}, with
// "routing" when the document has a custom routing value (version 2).
type action struct {
	Index *actionMeta `json:"index"`
}

type actionMeta struct {
	Index   string `json:"_index"`
	ID      string `json:"_id"`
	Routing string `json:"routing,omitempty"`
}

// maxLine bounds one NDJSON line the reader accepts (the engines' default
// http.max_content_length is 100 MB, so no document loaded with _bulk is
// larger), so corrupt input cannot make it allocate without bound.
const maxLine = 100 << 20

// maxIndexJSON bounds an index.json entry.
const maxIndexJSON = 16 << 20

// handler receives what readPart parses, in stream order. Any callback
// may be nil; an error it returns stops the read and is returned as is.
type handler struct {
	header func(indices []string) error
	index  func(name string, def indexDef) error
	doc    func(d doc) error
}

// doc is one document of a chunk. Source is a fresh slice the callee may
// keep.
type doc struct {
	Index, ID, Routing string
	Source             []byte
}

// indexDef is an index.json entry: the body of a create-index request,
// as search.Client.IndexSpecs reads it and CreateIndex takes it.
type indexDef = search.IndexSpec

func corrupt(format string, args ...any) error {
	return &backup.Error{Op: "search part", Kind: backup.ErrCorrupt, Msg: fmt.Sprintf(format, args...)}
}

// readPart parses a search part: the header, then per index its
// index.json and its docs-NNNNNN.ndjson chunks. Anything else — an unknown
// entry, an index the header does not list, documents before their index's
// definition, an action line for another index, a source that is not a JSON
// object — is backup.ErrCorrupt. It returns the documents counted per index.
func readPart(ctx context.Context, r io.Reader, h handler) (map[string]int64, error) {
	tr := tar.NewReader(r)
	th, err := tr.Next()
	if err != nil {
		return nil, corrupt("no header: %v", err)
	}
	if th.Name != HeaderName || th.Typeflag != tar.TypeReg {
		return nil, corrupt("first entry %.64q is not %s", th.Name, HeaderName)
	}
	var hd header
	if err := decodeJSON(io.LimitReader(tr, maxIndexJSON), &hd); err != nil {
		return nil, corrupt("header: %v", err)
	}
	if hd.Format != headerFormat {
		return nil, corrupt("header format %.32q", hd.Format)
	}
	if hd.Version < 1 {
		return nil, corrupt("header version %d", hd.Version)
	}
	if hd.Version > FormatVersion {
		return nil, &backup.Error{Op: "search part", Kind: backup.ErrUnsupported, Msg: fmt.Sprintf("part format version %d (this code reads up to %d)", hd.Version, FormatVersion)}
	}
	counts := make(map[string]int64, len(hd.Indices))
	defined := make(map[string]bool, len(hd.Indices))
	for _, name := range hd.Indices {
		if err := lucidkeys.ValidateIndexName(name); err != nil {
			return nil, corrupt("header lists a bad index name: %v", err)
		}
		if _, dup := counts[name]; dup {
			return nil, corrupt("header lists %s twice", name)
		}
		counts[name] = 0
	}
	if h.header != nil {
		if err := h.header(hd.Indices); err != nil {
			return nil, err
		}
	}
	br := bufio.NewReaderSize(nil, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		th, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, corrupt("tar: %v", err)
		}
		name, file, ok := strings.Cut(th.Name, "/")
		if _, listed := counts[name]; !ok || !listed || th.Typeflag != tar.TypeReg {
			return nil, corrupt("unexpected entry %.64q", th.Name)
		}
		switch {
		case file == "index.json":
			if defined[name] {
				return nil, corrupt("index %s defined twice", name)
			}
			defined[name] = true
			var def indexDef
			if err := decodeJSON(io.LimitReader(tr, maxIndexJSON), &def); err != nil {
				return nil, corrupt("%s: %v", th.Name, err)
			}
			if h.index != nil {
				if err := h.index(name, def); err != nil {
					return nil, err
				}
			}
		case validChunkName(file):
			if !defined[name] {
				return nil, corrupt("%s before %s/index.json", th.Name, name)
			}
			br.Reset(tr)
			n, err := readChunk(br, name, hd.Version, h.doc)
			counts[name] += n
			if err != nil {
				return nil, err
			}
		default:
			return nil, corrupt("unexpected entry %.64q", th.Name)
		}
	}
	for _, name := range hd.Indices {
		if !defined[name] {
			return nil, corrupt("index %s has no index.json", name)
		}
	}
	return counts, nil
}

// validChunkName reports whether s is "docs-" six digits ".ndjson".
func validChunkName(s string) bool {
	d, ok := strings.CutPrefix(s, "docs-")
	if !ok {
		return false
	}
	d, ok = strings.CutSuffix(d, ".ndjson")
	if !ok || len(d) != 6 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// readChunk reads one NDJSON chunk of index: action and source lines in
// pairs. It returns the documents read.
func readChunk(br *bufio.Reader, index string, version int, fn func(doc) error) (int64, error) {
	var n int64
	for {
		act, err := readLine(br)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		var a action
		if err := json.Unmarshal(act, &a); err != nil || a.Index == nil {
			return n, corrupt("%s: document %d: bad action line", index, n+1)
		}
		if a.Index.Index != index || a.Index.ID == "" {
			return n, corrupt("%s: document %d: action for index %.64q, id %.64q", index, n+1, a.Index.Index, a.Index.ID)
		}
		if a.Index.Routing != "" && version < 2 {
			return n, corrupt("%s: document %.64q: routing in a version %d part", index, a.Index.ID, version)
		}
		src, err := readLine(br)
		if err == io.EOF {
			return n, corrupt("%s: document %d: action line without source", index, n+1)
		}
		if err != nil {
			return n, err
		}
		if src[0] != '{' || !json.Valid(src) {
			return n, corrupt("%s: document %.64q: source is not a JSON object", index, a.Index.ID)
		}
		n++
		if fn != nil {
			if err := fn(doc{Index: index, ID: a.Index.ID, Routing: a.Index.Routing, Source: src}); err != nil {
				return n, err
			}
		}
	}
}

// readLine returns the next non-empty line without its newline, in a
// fresh slice (callers keep it). io.EOF only at a line boundary.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > maxLine {
			return nil, corrupt("line longer than %d bytes", maxLine)
		}
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, io.EOF
			}
			return nil, corrupt("chunk does not end with a newline")
		}
		if err != nil {
			return nil, corrupt("reading chunk: %v", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		return line, nil
	}
}

// decodeJSON decodes one JSON value from r into v (numbers kept exact) and
// requires nothing but white space after it.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}
