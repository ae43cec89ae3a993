package volume

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestArchiveExtractRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	makeTree(t, src)
	var buf bytes.Buffer
	st, err := Archive(ctx, src, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 4 || st.Links != 1 || st.Symlinks != 2 || st.Dirs != 4 {
		t.Fatalf("archive stats %+v", st)
	}
	dst := filepath.Join(t.TempDir(), "out")
	xs, err := Extract(ctx, bytes.NewReader(buf.Bytes()), dst, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if xs.Files != st.Files || xs.Links != st.Links || xs.Symlinks != st.Symlinks || xs.Bytes != st.Bytes {
		t.Fatalf("extract stats %+v vs %+v", xs, st)
	}
	// Contents, modes and times are the same.
	want, got := snapshotTree(t, src), snapshotTree(t, dst)
	delete(want, ".")
	delete(got, ".")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d", len(got), len(want))
	}
	fi, _ := os.Stat(filepath.Join(dst, "top.txt"))
	if !fi.ModTime().Equal(time.Date(2020, 1, 2, 3, 4, 5, 600_000_000, time.UTC)) {
		t.Errorf("mtime not kept to the sub-second: %v", fi.ModTime())
	}
	if l, _ := os.Readlink(filepath.Join(dst, "link-to-deep")); l != "a/b/c/deep.txt" {
		t.Errorf("symlink target %q", l)
	}
	a, _ := os.Stat(filepath.Join(dst, "a", "data.bin"))
	b, _ := os.Stat(filepath.Join(dst, "hardlink.bin"))
	if !os.SameFile(a, b) {
		t.Errorf("hard link not kept")
	}
	// Deterministic: the same tree archives to the same bytes.
	var again bytes.Buffer
	if _, err := Archive(ctx, src, &again); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("archive not deterministic: %v", err)
	}
}

// entry is one header of a hand-made archive.
type entry struct {
	name, link string
	typ        byte
	body       string
	mode       int64
}

func makeTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode, Size: int64(len(e.body)), ModTime: time.Unix(1e9, 0), Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractRejectsHostileArchives(t *testing.T) {
	reg := func(name string) entry { return entry{name: name, typ: tar.TypeReg, body: "pwned"} }
	cases := []struct {
		name    string
		entries []entry
		want    error
	}{
		{"dotdot", []entry{reg("../evil")}, ErrUnsafePath},
		{"dotdot nested", []entry{reg("a/../../evil")}, ErrUnsafePath},
		{"dotdot in dir name", []entry{{name: "../d/", typ: tar.TypeDir}}, ErrUnsafePath},
		{"absolute", []entry{reg("/tmp/evil")}, ErrUnsafePath},
		{"symlink absolute", []entry{{name: "l", link: "/etc", typ: tar.TypeSymlink}}, ErrUnsafePath},
		{"symlink escape", []entry{{name: "l", link: "../outside", typ: tar.TypeSymlink}}, ErrUnsafePath},
		{"symlink then write through", []entry{{name: "l", link: "a", typ: tar.TypeSymlink}, {name: "a/", typ: tar.TypeDir}, reg("l/evil")}, ErrUnsafePath},
		{"symlink chain escape", []entry{{name: "l", link: ".", typ: tar.TypeSymlink}, {name: "s", link: "l/l/l/..", typ: tar.TypeSymlink}}, ErrUnsafePath},
		{"symlink replaces dir", []entry{{name: "d/", typ: tar.TypeDir}, {name: "d", link: "x", typ: tar.TypeSymlink}}, ErrUnsafePath},
		{"hardlink escape", []entry{{name: "h", link: "../outside/secret", typ: tar.TypeLink}}, ErrUnsafePath},
		{"hardlink absolute", []entry{{name: "h", link: "/etc/passwd", typ: tar.TypeLink}}, ErrUnsafePath},
		{"hardlink to symlink", []entry{{name: "s", link: "x", typ: tar.TypeSymlink}, {name: "h", link: "s", typ: tar.TypeLink}}, ErrUnsafePath},
		{"char device", []entry{{name: "null", typ: tar.TypeChar}}, ErrUnsafePath},
		{"block device", []entry{{name: "sda", typ: tar.TypeBlock}}, ErrUnsafePath},
		{"fifo", []entry{{name: "f", typ: tar.TypeFifo}}, ErrUnsafePath},
		{"long name", []entry{reg(strings.Repeat("a/", 2100) + "x")}, ErrUnsafePath},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			target := filepath.Join(parent, "target")
			outside := filepath.Join(parent, "outside")
			if err := os.MkdirAll(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshotTree(t, outside)
			_, err := Extract(context.Background(), bytes.NewReader(makeTar(t, tc.entries...)), target, ExtractOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "volume: ") {
				t.Errorf("message %q", err)
			}
			if !equalMaps(before, snapshotTree(t, outside)) {
				t.Fatal("outside directory changed")
			}
			assertInside(t, parent, target)
		})
	}
}

// assertInside fails if anything other than parent/target/..., parent/outside
// and its secret exists under parent, or if a symlink under target resolves
// outside it.
func assertInside(t testing.TB, parent, target string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "target" && e.Name() != "outside" {
			t.Fatalf("created outside the target: %s", e.Name())
		}
	}
	oe, _ := os.ReadDir(filepath.Join(parent, "outside"))
	if len(oe) != 1 {
		t.Fatalf("outside holds %d entries", len(oe))
	}
	_ = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, _ := filepath.Rel(target, p)
		if !resolvesInside(target, filepath.ToSlash(rel)) {
			t.Fatalf("symlink %s resolves outside the target", rel)
		}
		return nil
	})
}

func TestExtractExistingSymlinkOnDisk(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "target")
	outside := filepath.Join(parent, "outside")
	for _, d := range []string{target, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink planted in the target before extraction.
	if err := os.Symlink(outside, filepath.Join(target, "planted")); err != nil {
		t.Fatal(err)
	}
	for _, e := range []entry{
		{name: "planted/secret", typ: tar.TypeReg, body: "overwritten"},
		{name: "planted/", typ: tar.TypeDir},
		{name: "planted/new/", typ: tar.TypeDir},
	} {
		_, err := Extract(context.Background(), bytes.NewReader(makeTar(t, e)), target, ExtractOptions{})
		if !errors.Is(err, ErrUnsafePath) {
			t.Fatalf("%s: err = %v", e.name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "s" {
		t.Fatal("wrote through the planted symlink")
	}
	// A regular file entry replaces a symlink at its own path (the link,
	// not its target).
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(target, "f")); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(context.Background(), bytes.NewReader(makeTar(t, entry{name: "f", typ: tar.TypeReg, body: "new"})), target, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "s" {
		t.Fatal("wrote through a symlink at the final component")
	}
	if fi, _ := os.Lstat(filepath.Join(target, "f")); !fi.Mode().IsRegular() {
		t.Fatal("symlink not replaced")
	}
}

func TestExtractLimitsAndCorruption(t *testing.T) {
	ctx := context.Background()
	data := makeTar(t, entry{name: "a", typ: tar.TypeReg, body: strings.Repeat("x", 1000)}, entry{name: "b", typ: tar.TypeReg, body: "y"})
	if _, err := Extract(ctx, bytes.NewReader(data), t.TempDir(), ExtractOptions{MaxBytes: 500}); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("max bytes: %v", err)
	}
	if _, err := Extract(ctx, bytes.NewReader(data), t.TempDir(), ExtractOptions{MaxEntries: 1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("max entries: %v", err)
	}
	if _, err := Extract(ctx, bytes.NewReader(data[:700]), t.TempDir(), ExtractOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	// A huge PAX header is refused by archive/tar before any allocation.
	var huge bytes.Buffer
	tw := tar.NewWriter(&huge)
	err := tw.WriteHeader(&tar.Header{Name: "x", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"comment": strings.Repeat("z", 2<<20)}, Format: tar.FormatPAX})
	if err == nil {
		_ = tw.Close()
		if _, err := Extract(ctx, bytes.NewReader(huge.Bytes()), t.TempDir(), ExtractOptions{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("huge header: %v", err)
		}
	}
	// Setuid bits are dropped, the metadata file is never overwritten.
	dir := t.TempDir()
	st, err := Extract(ctx, bytes.NewReader(makeTar(t,
		entry{name: "suid", typ: tar.TypeReg, body: "x", mode: 0o4755},
		entry{name: MetadataFile, typ: tar.TypeReg, body: "{}"},
	)), dir, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "suid")); fi.Mode() != 0o755 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, MetadataFile)); !os.IsNotExist(err) || st.Skipped != 1 {
		t.Fatalf("metadata entry extracted: %v %+v", err, st)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Extract(cctx, bytes.NewReader(data), t.TempDir(), ExtractOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(makeTar(f, entry{name: "a/b", typ: tar.TypeReg, body: "x"}))
	f.Add(makeTar(f, entry{name: "../x", typ: tar.TypeReg, body: "x"}))
	f.Add(makeTar(f, entry{name: "l", link: "..", typ: tar.TypeSymlink}, entry{name: "l/x", typ: tar.TypeReg, body: "x"}))
	f.Add(makeTar(f, entry{name: "l", link: ".", typ: tar.TypeSymlink}, entry{name: "s", link: "l/l/..", typ: tar.TypeSymlink}))
	f.Add(makeTar(f, entry{name: "d/", typ: tar.TypeDir}, entry{name: "h", link: "d/../../x", typ: tar.TypeLink}))
	f.Add(makeTar(f, entry{name: "f", typ: tar.TypeReg, body: "x"}, entry{name: "h", link: "f", typ: tar.TypeLink}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		target := filepath.Join(parent, "target")
		outside := filepath.Join(parent, "outside")
		if err := os.MkdirAll(outside, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = Extract(context.Background(), bytes.NewReader(data), target, ExtractOptions{MaxBytes: 1 << 20, MaxEntries: 1000})
		if b, err := os.ReadFile(filepath.Join(outside, "secret")); err != nil || string(b) != "s" {
			t.Fatal("outside file changed")
		}
		assertInside(t, parent, target)
		// Make everything removable for t.TempDir's cleanup.
		_ = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
}
