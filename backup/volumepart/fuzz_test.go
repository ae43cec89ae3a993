package volumepart

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/HamiGames/lucid-data/backup"
)

// FuzzIndex feeds parseIndex arbitrary bytes: it never panics, and what it
// accepts encodes back to an index that parses to the same entries.
func FuzzIndex(f *testing.F) {
	x := &index{base: "20260102T030405Z-0123abcd", scanned: 1767225600123456789, entries: []entry{
		{path: "a", typ: 'd', mode: 0o755, mtime: 1, ctime: 2, dev: 3, ino: 4, nlink: 2},
		{path: "a/f\n\x00x", typ: 'f', mode: 0o4644, uid: 1000, gid: 1000, size: 12, mtime: -5, ctime: 6, dev: 3, ino: 5, nlink: 2, racy: true},
		{path: "a/g", typ: 'f', size: 12, link: "a/f", nlink: 2},
		{path: "l", typ: 'l', mode: 0o777, target: "../\xff"},
	}}
	f.Add(x.encode())
	f.Add((&index{}).encode())
	f.Add([]byte("lucid-volume-index 1\nbase -\nscanned 0\nend 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := parseIndex(bytes.NewReader(b))
		if err != nil {
			return
		}
		y, err := parseIndex(bytes.NewReader(x.encode()))
		if err != nil {
			t.Fatalf("re-encoded index does not parse: %v", err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("round trip: %+v != %+v", x, y)
		}
	})
}

// FuzzCheck runs the Checker over arbitrary streams: it never panics and
// never accepts a stream without the reserved members.
func FuzzCheck(f *testing.F) {
	var buf bytes.Buffer
	dir := f.TempDir()
	if _, err := (Source{Dir: dir}).Stream(context.Background(), &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := Checker{}.Check(context.Background(), backup.PartManifest{Name: "v", FormatVersion: FormatVersion}, bytes.NewReader(b))
		if err == nil && !bytes.Contains(b, []byte(SumsMember)) {
			t.Fatal("a stream without its sums member passed")
		}
	})
}
