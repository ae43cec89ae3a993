package volume

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// canary is a target directory and, beside it, a directory holding one known
// file: what an escaping archive would reach.
type canary struct {
	parent, target, outside string
	before                  map[string]string
}

func newCanary(t testing.TB) *canary {
	t.Helper()
	parent := t.TempDir()
	c := &canary{parent: parent, target: filepath.Join(parent, "target"), outside: filepath.Join(parent, "outside")}
	if err := os.MkdirAll(c.outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.before = snapshotTree(t, c.outside)
	return c
}

// check fails if anything changed or appeared outside the target, or if a
// symlink in the target resolves outside it.
func (c *canary) check(t testing.TB) {
	t.Helper()
	if !equalMaps(c.before, snapshotTree(t, c.outside)) {
		t.Fatal("the canary directory beside the target changed")
	}
	assertInside(t, c.parent, c.target)
}

// TestExtractIssue18Escape is the archive of issue 18 and its variants: a
// directory entry replacing a file, then a symlink taking the name, then a
// file written through it.
func TestExtractIssue18Escape(t *testing.T) {
	reg := func(name string) entry { return entry{name: name, typ: tar.TypeReg, body: "pwned"} }
	sym := func(name, link string) entry { return entry{name: name, link: link, typ: tar.TypeSymlink} }
	seq := func(link, last string) []entry {
		return []entry{sym("l", "."), reg("a"), {name: "a/", typ: tar.TypeDir}, sym("a", link), reg(last)}
	}
	cases := []struct {
		name    string
		entries func(c *canary) []entry
	}{
		// The issue's archive aimed at the canary instead of /tmp.
		{"sibling escape", func(*canary) []entry { return seq("l/l/l/../outside", "a/pwned") }},
		{"absolute link target", func(c *canary) []entry { return seq(c.outside, "a/pwned") }},
		{"overwrite outside file", func(*canary) []entry { return seq("l/l/l/../outside", "a/secret") }},
		{"deeper write", func(*canary) []entry {
			e := seq("l/l/l/../outside", "a/x/")
			e[len(e)-1].typ = tar.TypeDir
			return append(e, reg("a/x/pwned"))
		}},
		{"link over file over dir", func(*canary) []entry {
			return []entry{sym("l", "."), {name: "a/", typ: tar.TypeDir}, reg("a"), sym("a", "l/l/../outside"), reg("a/pwned")}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCanary(t)
			_, err := Extract(context.Background(), bytes.NewReader(makeTar(t, tc.entries(c)...)), c.target, ExtractOptions{})
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("err = %v, want ErrUnsafePath", err)
			}
			c.check(t)
		})
	}
	// The same through RestoreFrom.
	t.Run("RestoreFrom", func(t *testing.T) {
		ctx := context.Background()
		parent := t.TempDir()
		m := managerAt(t, filepath.Join(parent, "root"))
		if _, err := m.Create(ctx, "sessions", lucidkeys.VolumeSessions, 0); err != nil {
			t.Fatal(err)
		}
		outside := filepath.Join(parent, "outside")
		if err := os.MkdirAll(outside, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := snapshotTree(t, outside)
		// The temporary directory is root/.sessions.restore-*: two levels
		// below parent.
		data := makeTar(t, seq("l/l/l/../../outside", "a/secret")...)
		if err := m.RestoreFrom(ctx, bytes.NewReader(data), "sessions"); !errors.Is(err, ErrUnsafePath) {
			t.Fatalf("err = %v, want ErrUnsafePath", err)
		}
		if !equalMaps(before, snapshotTree(t, outside)) {
			t.Fatal("RestoreFrom changed the directory beside the volume root")
		}
	})
}

// managerAt is a DirManager on root for tests.
func managerAt(t testing.TB, root string) *DirManager {
	t.Helper()
	m, err := newDirManager(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExtractFileThenDir: a directory entry replaces a file of the same name
// extracted before it, and entries below it land in the new directory.
func TestExtractFileThenDir(t *testing.T) {
	c := newCanary(t)
	data := makeTar(t,
		entry{name: "a", typ: tar.TypeReg, body: "file first"},
		entry{name: "a/", typ: tar.TypeDir, mode: 0o750},
		entry{name: "a/b", typ: tar.TypeReg, body: "below"},
	)
	st, err := Extract(context.Background(), bytes.NewReader(data), c.target, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(c.target, "a", "b")); err != nil || string(b) != "below" {
		t.Fatalf("a/b = %q, %v", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(c.target, "a")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Fatalf("a: %v %v", fi, err)
	}
	if st.Dirs != 1 || st.Files != 2 {
		t.Fatalf("stats %+v", st)
	}
	c.check(t)
}

// TestExtractLinkCompletedLater: a symlink that is harmless when written can
// leave the target once another entry, in the same or a later extraction
// into the same directory, supplies a link it goes through.
func TestExtractLinkCompletedLater(t *testing.T) {
	sym := func(name, link string) entry { return entry{name: name, link: link, typ: tar.TypeSymlink} }
	cases := []struct {
		name   string
		passes [][]entry
	}{
		{"second extraction", [][]entry{
			{sym("x", "m/y/../..")},
			{{name: "m/", typ: tar.TypeDir}, sym("m/y", "..")},
		}},
		{"same extraction", [][]entry{
			{sym("x", "m/y/../../outside"), {name: "m/", typ: tar.TypeDir}, sym("m/y", "..")},
		}},
		{"later link first", [][]entry{
			{{name: "m/", typ: tar.TypeDir}, sym("m/y", "..")},
			{sym("x", "m/y/../outside")},
		}},
		{"dot dot after dot", [][]entry{
			{{name: "m/", typ: tar.TypeDir}, sym("m/y", "./../..")},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCanary(t)
			refused := false
			for _, p := range tc.passes {
				_, err := Extract(context.Background(), bytes.NewReader(makeTar(t, p...)), c.target, ExtractOptions{})
				if errors.Is(err, ErrUnsafePath) {
					refused = true
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if !refused {
				t.Fatal("no extraction refused the escaping link")
			}
			c.check(t)
		})
	}
	// Links that climb only as far as their own directory allows, then
	// descend, are kept.
	c := newCanary(t)
	data := makeTar(t,
		entry{name: "d/e/", typ: tar.TypeDir},
		sym("d/e/up", "../../d"),
		sym("d/e/dot", "./../e/../../d"),
		sym("d/e/l", "./up/e"),
	)
	_, err := Extract(context.Background(), bytes.NewReader(data), c.target, ExtractOptions{})
	if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), "d/e/dot") {
		t.Fatalf("err = %v, want ErrUnsafePath for d/e/dot", err)
	}
	c.check(t)
	c = newCanary(t)
	data = makeTar(t,
		entry{name: "d/e/", typ: tar.TypeDir},
		sym("d/e/up", "../../d"),
		sym("d/e/l", "./up/e/.//up"),
	)
	if _, err := Extract(context.Background(), bytes.NewReader(data), c.target, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.Readlink(filepath.Join(c.target, "d", "e", "l")); l != "./up/e/.//up" {
		t.Fatalf("link target %q", l)
	}
	c.check(t)
}

// TestExtractQuotaCountsAllocation: entries without content still take
// space (an inode and a block each); a quota counting only content bytes let
// 20,000 empty directories into a 1 MiB volume.
func TestExtractQuotaCountsAllocation(t *testing.T) {
	ents := make([]entry, 20_000)
	for i := range ents {
		ents[i] = entry{name: "d" + strings.Repeat("0", 5-len(itoa(i))) + itoa(i) + "/", typ: tar.TypeDir}
	}
	data := makeTar(t, ents...)
	dir := t.TempDir()
	_, err := Extract(context.Background(), bytes.NewReader(data), dir, ExtractOptions{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("err = %v, want ErrQuotaExceeded", err)
	}
	u, err := ScanDir(context.Background(), dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if u.Dirs > 1+(1<<20)/512 {
		t.Fatalf("%d directories extracted into a 1 MiB limit", u.Dirs)
	}
	// Empty files and symlinks too.
	for _, typ := range []byte{tar.TypeReg, tar.TypeSymlink} {
		for i := range ents {
			ents[i] = entry{name: "f" + itoa(i), typ: typ}
			if typ == tar.TypeSymlink {
				ents[i].link = "x"
			}
		}
		_, err := Extract(context.Background(), bytes.NewReader(makeTar(t, ents...)), t.TempDir(), ExtractOptions{MaxBytes: 1 << 20})
		if !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("type %c: err = %v, want ErrQuotaExceeded", typ, err)
		}
	}
	// RestoreFrom limits to the volume's quota the same way.
	ctx := context.Background()
	m := managerAt(t, t.TempDir())
	if _, err := m.Create(ctx, "chunks", lucidkeys.VolumeChunks, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := m.RestoreFrom(ctx, bytes.NewReader(data), "chunks"); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("RestoreFrom: err = %v, want ErrQuotaExceeded", err)
	}
	// A small archive still fits.
	if _, err := Extract(ctx, bytes.NewReader(makeTar(t, ents[:10]...)), t.TempDir(), ExtractOptions{MaxBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// slowTar serves a tar stream of one entry "big" of size bytes of zeros;
// after stallAt bytes of content it calls stall once, then goes on.
type slowTar struct {
	hdr     []byte
	size    int64
	served  int64 // content bytes served
	stallAt int64
	stall   func()
	stalled bool
}

func newSlowTar(t testing.TB, size, stallAt int64, stall func()) *slowTar {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	// WriteHeader wrote the header blocks; the content follows from Read.
	return &slowTar{hdr: buf.Bytes(), size: size, stallAt: stallAt, stall: stall}
}

func (s *slowTar) Read(p []byte) (int, error) {
	if len(s.hdr) > 0 {
		n := copy(p, s.hdr)
		s.hdr = s.hdr[n:]
		return n, nil
	}
	if s.served >= s.size {
		return 0, io.EOF // no trailer: a truncated stream if ever reached
	}
	if s.served >= s.stallAt && !s.stalled {
		s.stalled = true
		s.stall()
	}
	n := int64(min(len(p), 64<<10))
	n = min(n, s.size-s.served)
	clear(p[:n])
	s.served += n
	return int(n), nil
}

// TestExtractCancelInsideEntry: a deadline passing while one large entry is
// copied stops the copy, reports context.DeadlineExceeded, and leaves no
// partial file behind.
func TestExtractCancelInsideEntry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The stream stalls after 4 MiB until the deadline has passed.
	r := newSlowTar(t, 64<<20, 4<<20, func() { <-ctx.Done() })
	dir := t.TempDir()
	_, err := Extract(ctx, r, dir, ExtractOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if r.served > 6<<20 {
		t.Fatalf("read %d bytes of the entry after the deadline", r.served)
	}
	if _, err := os.Lstat(filepath.Join(dir, "big")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("partial file left: %v", err)
	}
	// Cancellation the same way, through RestoreFrom: the volume is untouched.
	cctx, ccancel := context.WithCancel(context.Background())
	m := managerAt(t, t.TempDir())
	v, err := m.Create(cctx, "chunks", lucidkeys.VolumeChunks, 0)
	if err != nil {
		t.Fatal(err)
	}
	r = newSlowTar(t, 64<<20, 1<<20, ccancel)
	if err := m.RestoreFrom(cctx, r, "chunks"); !errors.Is(err, context.Canceled) {
		t.Fatalf("RestoreFrom: err = %v, want context.Canceled", err)
	}
	if r.served > 3<<20 {
		t.Fatalf("RestoreFrom read %d bytes after cancellation", r.served)
	}
	if _, err := os.Lstat(filepath.Join(v.Path, "big")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("volume changed: %v", err)
	}
}

// TestExtractDeepTree goes deeper than the directories Extract keeps open,
// with entries going back and forth between deep and shallow directories
// and a hard link between them.
func TestExtractDeepTree(t *testing.T) {
	c := newCanary(t)
	deep := strings.Repeat("d/", maxOpenDirs+40)
	data := makeTar(t,
		entry{name: deep + "f", typ: tar.TypeReg, body: "deep"},
		entry{name: "top", typ: tar.TypeReg, body: "top"},
		entry{name: deep + "h", link: "top", typ: tar.TypeLink},
		entry{name: "d/d/g", typ: tar.TypeReg, body: "g"},
		entry{name: deep + "l", link: strings.Repeat("../", maxOpenDirs+40) + "top", typ: tar.TypeSymlink},
		entry{name: deep + "x/", typ: tar.TypeDir, mode: 0o500},
		entry{name: deep[:len(deep)-2] + "/", typ: tar.TypeDir, mode: 0o700},
	)
	fds := openFDs()
	st, err := Extract(context.Background(), bytes.NewReader(data), c.target, ExtractOptions{MaxBytes: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if n := openFDs(); n != fds {
		t.Errorf("%d descriptors open before Extract, %d after", fds, n)
	}
	if st.Files != 3 || st.Links != 1 || st.Symlinks != 1 || st.Dirs != 2 {
		t.Fatalf("stats %+v", st)
	}
	p := filepath.Join(c.target, filepath.FromSlash(deep))
	if b, err := os.ReadFile(filepath.Join(p, "l")); err != nil || string(b) != "top" {
		t.Fatalf("deep symlink: %q %v", b, err)
	}
	a, _ := os.Stat(filepath.Join(p, "h"))
	b, _ := os.Stat(filepath.Join(c.target, "top"))
	if !os.SameFile(a, b) {
		t.Fatal("deep hard link not kept")
	}
	if fi, err := os.Stat(filepath.Join(p, "x")); err != nil || fi.Mode().Perm() != 0o500 {
		t.Fatalf("deep directory mode: %v %v", fi, err)
	}
	c.check(t)
}

// openFDs counts the process's open descriptors (-1 where /proc is missing).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}
