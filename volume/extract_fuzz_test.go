package volume

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genEntries turns fuzz bytes into one or two sequences of archive entries
// (files, directories, symlinks, hard links) over a small set of names, so
// names repeat and entries replace one another. Each entry takes one byte
// of kind and flags, then names of one to three elements. c is the canary,
// whose absolute path some targets use. plant reports whether the target
// should hold a symlink to the canary before extraction.
func genEntries(data []byte, c *canary) (passes [][]entry, plant bool) {
	i := 0
	next := func() byte {
		if i >= len(data) {
			return 0
		}
		i++
		return data[i-1]
	}
	names := []string{"a", "b", "l", "m", "y", "..", ".", "planted", "outside", "", "x", "secret"}
	name := func(n int, abs bool) string {
		var b strings.Builder
		if abs {
			b.WriteString("/")
		}
		for k := 0; k < n; k++ {
			if k > 0 {
				b.WriteString("/")
			}
			b.WriteString(names[int(next())%len(names)])
		}
		return b.String()
	}
	plant = next()&1 != 0
	cur := []entry{}
	for i < len(data) && len(passes) < 2 {
		op := next()
		e := entry{name: name(1+int(next())%3, op&0x10 != 0), body: "x"}
		switch op % 4 {
		case 0:
			e.typ = tar.TypeReg
		case 1:
			e.typ, e.name = tar.TypeDir, e.name+"/"
		case 2:
			e.typ = tar.TypeSymlink
		case 3:
			e.typ = tar.TypeLink
		}
		if e.typ == tar.TypeSymlink || e.typ == tar.TypeLink {
			e.link = name(1+int(next())%5, op&0x20 != 0)
			if op&0x40 != 0 {
				e.link = filepath.Join(c.outside, e.link)
			}
			if e.link == "" {
				e.link = "."
			}
		}
		cur = append(cur, e)
		if op&0x80 != 0 {
			passes, cur = append(passes, cur), nil
		}
	}
	if len(cur) > 0 {
		passes = append(passes, cur)
	}
	return passes, plant
}

// FuzzExtractEntries extracts generated entry sequences, once or twice into
// the same target, and checks that nothing appeared or changed beside the
// target, that no file in it is the canary's file, and that no symlink in it
// resolves outside (but the one planted on purpose).
func FuzzExtractEntries(f *testing.F) {
	f.Add([]byte{0})
	// The archive: l -> ., a, a/, a -> l/l/../outside, a/secret.
	f.Add([]byte{0, 2, 0, 2, 0, 6, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 2, 2, 5, 8, 0, 1, 0, 11})
	// x -> m/y/../.. then, in a second extraction, m/ and m/y -> ..
	f.Add([]byte{0, 0x82, 0, 10, 3, 3, 4, 5, 5, 1, 0, 3, 2, 1, 3, 4, 0, 5})
	// Writes and links through a planted symlink to the canary.
	f.Add([]byte{1, 0, 1, 7, 11, 1, 1, 7, 10, 3, 0, 0, 1, 7, 11, 2, 0, 0, 1, 7, 11})
	// Absolute names and targets, and the canary's own path as a target.
	f.Add([]byte{0, 0x42, 0, 0, 0, 11, 0x23, 0, 0, 1, 8, 11, 0x10, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newCanary(t)
		passes, plant := genEntries(data, c)
		if os.Getenv("LUCID_FUZZ_DEBUG") != "" {
			t.Logf("plant=%v passes=%+v", plant, passes)
		}
		if err := os.MkdirAll(c.target, 0o755); err != nil {
			t.Fatal(err)
		}
		if plant {
			if err := os.Symlink("../outside", filepath.Join(c.target, "planted")); err != nil {
				t.Fatal(err)
			}
		}
		secret, err := os.Stat(filepath.Join(c.outside, "secret"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range passes {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range p {
				h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o755, Format: tar.FormatPAX}
				if e.typ == tar.TypeReg {
					h.Size = int64(len(e.body))
				}
				if tw.WriteHeader(h) != nil {
					continue // a name archive/tar cannot encode
				}
				_, _ = tw.Write([]byte(e.body))
			}
			_ = tw.Close()
			_, _ = Extract(context.Background(), bytes.NewReader(buf.Bytes()), c.target, ExtractOptions{MaxBytes: 1 << 20, MaxEntries: 200})
		}
		if !equalMaps(c.before, snapshotTree(t, c.outside)) {
			t.Fatal("the canary directory beside the target changed")
		}
		ents, err := os.ReadDir(c.parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() != "target" && e.Name() != "outside" {
				t.Fatalf("created outside the target: %s", e.Name())
			}
		}
		_ = filepath.WalkDir(c.target, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(c.target, p)
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				// A loop (x -> m/y/x/a with m/y -> ..) is refused by the kernel
				// with ELOOP and reaches nothing: only an escape fails.
				if rel != "planted" && resolve(c.target, filepath.ToSlash(rel)) == resolvedOutside {
					t.Fatalf("symlink %s -> %s resolves outside the target", rel, readlink(p))
				}
			case d.Type().IsRegular():
				if fi, err := os.Lstat(p); err == nil && os.SameFile(fi, secret) {
					t.Fatalf("%s is a hard link to the canary's file", rel)
				}
			case d.IsDir():
				_ = os.Chmod(p, 0o755) // removable by t.TempDir's cleanup
			}
			return nil
		})
	})
}

func readlink(p string) string {
	l, _ := os.Readlink(p)
	return l
}
