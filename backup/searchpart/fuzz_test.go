package searchpart

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/backup"
)

// buildPart writes a part by hand: entries are (name, content) pairs.
func buildPart(t testing.TB, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: entries[i], Size: int64(len(entries[i+1])), Mode: 0o600}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(entries[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	goodHeader = `{"format":"lucid-search-part","version":1,"indices":["a","b"]}` + "\n"
	goodDef    = `{"settings":{"index":{"number_of_shards":"1"}},"mappings":{"properties":{"x":{"type":"long"}}},"aliases":{"r":{}}}` + "\n"
	goodDocs   = `{"index":{"_index":"a","_id":"1"}}` + "\n" + `{"x":1}` + "\n" + `{"index":{"_index":"a","_id":"2/ü"}}` + "\n" + `{"x":2,"y":[1,[2]]}` + "\n"
)

func goodPart(t testing.TB) []byte {
	return buildPart(t, HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", goodDocs,
		"a/docs-000001.ndjson", `{"index":{"_index":"a","_id":"3"}}`+"\n{}\n", "b/index.json", `{}`)
}

func TestReaderAccepts(t *testing.T) {
	st, err := Checker{}.Check(context.Background(), backup.PartManifest{}, bytes.NewReader(goodPart(t)))
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 3 || st.Counts["a"] != 3 || st.Counts["b"] != 0 || len(st.Counts) != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// A version 2 part hands each document's routing over; version 1 parts
// (no routing) are still read.
func TestReaderRouting(t *testing.T) {
	v2 := `{"format":"lucid-search-part","version":2,"indices":["a"]}`
	docs := `{"index":{"_index":"a","_id":"1","routing":"u42"}}` + "\n{}\n" + `{"index":{"_index":"a","_id":"2"}}` + "\n{}\n"
	got := map[string]string{}
	_, err := readPart(context.Background(), bytes.NewReader(buildPart(t, HeaderName, v2, "a/index.json", "{}", "a/docs-000000.ndjson", docs)),
		handler{doc: func(d doc) error { got[d.ID] = d.Routing; return nil }})
	if err != nil || len(got) != 2 || got["1"] != "u42" || got["2"] != "" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := (Checker{}).Check(context.Background(), backup.PartManifest{}, bytes.NewReader(goodPart(t))); err != nil {
		t.Fatalf("version 1: %v", err)
	}
}

func TestMatchWildcard(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"a", "a", true}, {"a", "ab", false}, {"*", "", true}, {"*", "x", true},
		{"lucid-sessions-*", "lucid-sessions-2026.11", true}, {"lucid-sessions-*", "lucid-blocks-2026.11", false},
		{"*-2026.11", "lucid-blocks-2026.11", true}, {"*-2026.11", "lucid-blocks-2026.12", false},
		{"a*b*c", "abc", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "acb", false}, {"a*a", "a", false},
		{"a*a", "aa", true}, {"a**", "a", true}, {"*b", "bab", true}, {"x*", "", false},
	} {
		if got := matchWildcard(c.pattern, c.name); got != c.want {
			t.Errorf("matchWildcard(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

// Each malformed part is ErrCorrupt (or ErrUnsupported for a newer
// version), never accepted.
func TestReaderRejects(t *testing.T) {
	cases := map[string][]string{
		"empty":           {},
		"no header":       {"a/index.json", goodDef},
		"bad format":      {HeaderName, `{"format":"x","version":1,"indices":[]}`},
		"version 0":       {HeaderName, `{"format":"lucid-search-part","version":0,"indices":[]}`},
		"bad index name":  {HeaderName, `{"format":"lucid-search-part","version":1,"indices":["A*"]}`},
		"duplicate index": {HeaderName, `{"format":"lucid-search-part","version":1,"indices":["a","a"]}`},
		"unlisted index":  {HeaderName, goodHeader, "c/index.json", goodDef},
		"missing def":     {HeaderName, goodHeader, "a/index.json", goodDef},
		"docs before def": {HeaderName, goodHeader, "a/docs-000000.ndjson", goodDocs},
		"def twice":       {HeaderName, goodHeader, "a/index.json", goodDef, "a/index.json", goodDef},
		"bad def":         {HeaderName, goodHeader, "a/index.json", `{"settings":`},
		"trailing def":    {HeaderName, goodHeader, "a/index.json", `{} {}`},
		"other entry":     {HeaderName, goodHeader, "a/index.json", goodDef, "a/notes.txt", "x"},
		"bad chunk name":  {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-1.ndjson", goodDocs},
		"other index":     {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"index":{"_index":"b","_id":"1"}}` + "\n{}\n"},
		"no id":           {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"index":{"_index":"a"}}` + "\n{}\n"},
		"delete action":   {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"delete":{"_index":"a","_id":"1"}}` + "\n"},
		"no source":       {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"index":{"_index":"a","_id":"1"}}` + "\n"},
		"array source":    {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"index":{"_index":"a","_id":"1"}}` + "\n[1]\n"},
		"bad source":      {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"index":{"_index":"a","_id":"1"}}` + "\n{\"x\":\n"},
		"routing in v1":   {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"index":{"_index":"a","_id":"1","routing":"r"}}` + "\n{}\n"},
		"no last newline": {HeaderName, goodHeader, "a/index.json", goodDef, "a/docs-000000.ndjson", `{"index":{"_index":"a","_id":"1"}}` + "\n{}"},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Checker{}.Check(context.Background(), backup.PartManifest{}, bytes.NewReader(buildPart(t, entries...)))
			if !errors.Is(err, backup.ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
	_, err := Checker{}.Check(context.Background(), backup.PartManifest{}, bytes.NewReader(buildPart(t, HeaderName, `{"format":"lucid-search-part","version":3,"indices":[]}`)))
	if !errors.Is(err, backup.ErrUnsupported) {
		t.Fatalf("version 3: %v", err)
	}
	// A truncated good part fails too.
	good := goodPart(t)
	for _, n := range []int{10, 600, len(good) / 2} {
		if _, err := (Checker{}).Check(context.Background(), backup.PartManifest{}, bytes.NewReader(good[:n])); !errors.Is(err, backup.ErrCorrupt) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
}

// FuzzReader feeds the part reader arbitrary bytes: it never panics, fails
// only with ErrCorrupt or ErrUnsupported, and what it accepts it counts
// consistently with the documents it hands over.
func FuzzReader(f *testing.F) {
	f.Add(goodPart(f))
	f.Add(buildPart(f, HeaderName, goodHeader))
	f.Add(buildPart(f, HeaderName, `{"format":"lucid-search-part","version":1,"indices":["x"]}`, "x/index.json", "{}", "x/docs-000000.ndjson", strings.Repeat(`{"index":{"_index":"x","_id":"i"}}`+"\n{}\n", 3)))
	f.Add(buildPart(f, HeaderName, `{"format":"lucid-search-part","version":2,"indices":["x"]}`, "x/index.json", "{}", "x/docs-000000.ndjson", strings.Repeat(`{"index":{"_index":"x","_id":"i","routing":"r"}}`+"\n{}\n", 3)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var docs int64
		idx := map[string]bool{}
		counts, err := readPart(context.Background(), bytes.NewReader(data), handler{
			index: func(name string, _ indexDef) error { idx[name] = true; return nil },
			doc: func(d doc) error {
				if !idx[d.Index] || d.ID == "" || len(d.Source) == 0 || d.Source[0] != '{' {
					t.Fatalf("bad document handed over: %+v", d)
				}
				docs++
				return nil
			},
		})
		if err != nil {
			if !errors.Is(err, backup.ErrCorrupt) && !errors.Is(err, backup.ErrUnsupported) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		var sum int64
		for name, n := range counts {
			if !idx[name] {
				t.Fatalf("counted index %q never defined", name)
			}
			sum += n
		}
		if sum != docs {
			t.Fatalf("counted %d, handed over %d", sum, docs)
		}
	})
}

func TestParseLucidSnapshotName(t *testing.T) {
	tm, ok := ParseLucidSnapshotName("snapshot_20260102_030405")
	if !ok || tm.Format("2006-01-02T15:04:05Z07:00") != "2026-01-02T03:04:05Z" {
		t.Fatalf("%v %v", tm, ok)
	}
	for _, bad := range []string{"", "snapshot_", "snapshot_20261302_030405", "snapshot_20260102-030405", "snap_20260102_030405", "snapshot_20260102_0304050"} {
		if _, ok := ParseLucidSnapshotName(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
