//go:build linux

package volume

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// visit is what a test keeps of an entry.
func visit(e *WalkEntry) string {
	s := fmt.Sprintf("%s %v %o", e.Path, e.Type, e.Perm)
	if e.Target != "" {
		s += " -> " + e.Target
	}
	if e.Link != "" {
		s += " = " + e.Link
	}
	return s
}

// walkAll walks dir with w (made with newTreeWalker's options), returning
// the visits.
func walkAll(t *testing.T, dir string, opts *WalkOptions, afterStat func(name string)) ([]string, error) {
	t.Helper()
	var got []string
	w := newTreeWalker(context.Background(), opts, func(e *WalkEntry) error {
		got = append(got, visit(e))
		return nil
	})
	w.afterStat = afterStat
	return got, w.run(dir)
}

// TestWalk: order, types, modes, targets, hard links, reserved names at
// the top only, a fifo passed on unopened, and no descriptor left open.
func TestWalk(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir)
	for _, p := range []string{reservedPrefix + ".json", "a/" + reservedPrefix + ".kept"} {
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(dir, "a", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(filepath.Join(dir, "a", "b", "script.sh"), 0o4755); err != nil {
		t.Fatal(err)
	}
	fds := openFDs()
	got, err := walkAll(t, dir, &WalkOptions{SkipReserved: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a d--------- 755",
		"a/.lucid-volume.kept ---------- 600",
		"a/b d--------- 755",
		"a/b/c d--------- 755",
		"a/b/c/deep.txt ---------- 640",
		"a/b/script.sh ---------- 4755",
		"a/data.bin ---------- 600",
		"a/fifo p--------- 644",
		"dangling L--------- 777 -> missing-target",
		"empty d--------- 700",
		"hardlink.bin ---------- 600 = a/data.bin",
		"link-to-deep L--------- 777 -> a/b/c/deep.txt",
		"top.txt ---------- 644",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := openFDs(); n != fds {
		t.Fatalf("%d descriptors open after the walk, %d before", n, fds)
	}
	// Without SkipReserved the package's files are visited too.
	got, err = walkAll(t, dir, nil, nil)
	if err != nil || len(got) != len(want)+1 || got[0] != ".lucid-volume.json ---------- 600" {
		t.Fatalf("without SkipReserved: %v %q", err, got)
	}

	// A top that is a symlink to a directory, or a file: no visits.
	l := filepath.Join(t.TempDir(), "l")
	if err := os.Symlink(dir, l); err != nil {
		t.Fatal(err)
	}
	for _, top := range []string{l, filepath.Join(dir, "top.txt"), filepath.Join(dir, "link-to-deep")} {
		if got, err := walkAll(t, top, nil, nil); err != nil || len(got) != 0 {
			t.Fatalf("walk of %s: %v %q", top, err, got)
		}
	}
	// A missing top: ErrNotFound, the cause kept.
	err = Walk(context.Background(), filepath.Join(dir, "missing"), nil, func(*WalkEntry) error { return nil })
	var pe *fs.PathError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &pe) || pe.Op != "lstat" {
		t.Fatalf("missing top: %v", err)
	}
}

// TestWalkSymlinkLoop: symlinks to ".", ".." and outside are visited as
// symlinks, never followed.
func TestWalkSymlinkLoop(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for l, target := range map[string]string{"self": ".", "d/up": "..", "d/loop": "loop", "out": outside} {
		if err := os.Symlink(target, filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := walkAll(t, dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "d d--------- 755\nd/loop L--------- 777 -> loop\nd/up L--------- 777 -> ..\nout L--------- 777 -> " + outside + "\nself L--------- 777 -> ."
	if strings.Join(got, "\n") != want {
		t.Fatalf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// TestWalkRaces changes the tree between an entry's stat and the calls
// after it: a directory swapped for a symlink to outside is never entered
// (the walk fails, or with SkipVanished leaves it out), a symlink removed
// fails the walk or is left out, an entry removed before its stat is left
// out, a file swapped for a symlink is not followed, one swapped for a
// fifo does not block the open, and one swapped for a fifo or renamed over
// by another file is refused (ErrEntryReplaced).
func TestWalkRaces(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		for _, d := range []string{"a", "b", "c"} {
			if err := os.MkdirAll(filepath.Join(dir, d, "in"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("target", filepath.Join(dir, "l")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "z"), []byte("zz"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	swapDir := func(dir string) func(string) {
		return func(name string) {
			if name == "b" {
				if err := os.Rename(filepath.Join(dir, "b"), filepath.Join(dir, ".old-b")); err != nil {
					t.Error(err)
				}
				if err := os.Symlink(outside, filepath.Join(dir, "b")); err != nil {
					t.Error(err)
				}
			}
		}
	}
	t.Run("dir swapped for a symlink", func(t *testing.T) {
		dir := setup(t)
		fds := openFDs()
		_, err := walkAll(t, dir, nil, swapDir(dir))
		if !errors.Is(err, unix.ENOTDIR) && !errors.Is(err, unix.ELOOP) {
			t.Fatalf("want ENOTDIR or ELOOP, got %v", err)
		}
		if n := openFDs(); n != fds {
			t.Fatalf("%d descriptors open after the failed walk, %d before", n, fds)
		}
		dir = setup(t)
		got, err := walkAll(t, dir, &WalkOptions{SkipVanished: true}, swapDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		// ".old-b" was listed before the rename, so it is not visited.
		want := "a d--------- 755\na/in d--------- 755\nc d--------- 755\nc/in d--------- 755\nl L--------- 777 -> target\nz ---------- 644"
		if strings.Join(got, "\n") != want {
			t.Fatalf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
		}
	})
	t.Run("symlink removed", func(t *testing.T) {
		rm := func(dir string) func(string) {
			return func(name string) {
				if name == "l" {
					os.Remove(filepath.Join(dir, "l"))
				}
			}
		}
		dir := setup(t)
		if _, err := walkAll(t, dir, nil, rm(dir)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("want ENOENT, got %v", err)
		}
		dir = setup(t)
		got, err := walkAll(t, dir, &WalkOptions{SkipVanished: true}, rm(dir))
		if err != nil || len(got) != 7 || got[6] != "z ---------- 644" {
			t.Fatalf("%v %q", err, got)
		}
	})
	t.Run("vanished before its stat", func(t *testing.T) {
		dir := setup(t)
		got, err := walkAll(t, dir, nil, func(name string) {
			if name == "a" {
				os.RemoveAll(filepath.Join(dir, "c"))
				os.Remove(filepath.Join(dir, "z"))
			}
		})
		if err != nil || strings.Join(got, ",") != "a d--------- 755,a/in d--------- 755,b d--------- 755,b/in d--------- 755,l L--------- 777 -> target" {
			t.Fatalf("%v %q", err, got)
		}
	})
	t.Run("file swapped", func(t *testing.T) {
		for _, swap := range []string{"symlink", "fifo", "file"} {
			dir := setup(t)
			z := filepath.Join(dir, "z")
			w := newTreeWalker(context.Background(), nil, func(e *WalkEntry) error {
				if e.Name != "z" {
					return nil
				}
				switch swap {
				case "symlink":
					os.Remove(z)
					if err := os.Symlink(filepath.Join(outside, "secret"), z); err != nil {
						return err
					}
				case "fifo":
					os.Remove(z)
					if err := unix.Mkfifo(z, 0o644); err != nil {
						return err
					}
				case "file": // an atomic replace, as a live service writes
					if err := os.WriteFile(z+".new", []byte("longer than before"), 0o644); err != nil {
						return err
					}
					if err := os.Rename(z+".new", z); err != nil {
						return err
					}
				}
				done := make(chan error, 1)
				go func() {
					f, err := e.Open()
					if err == nil {
						var b [8]byte
						_, err = f.Read(b[:]) // a fifo without a writer: EOF
						f.Close()
					}
					done <- err
				}()
				select {
				case err := <-done:
					return err
				case <-time.After(10 * time.Second):
					t.Fatal("open blocked")
					return nil
				}
			})
			err := w.run(dir)
			switch swap {
			case "symlink":
				if !errors.Is(err, unix.ELOOP) {
					t.Fatalf("file swapped for a symlink: want ELOOP, got %v", err)
				}
			case "fifo":
				if !errors.Is(err, ErrEntryReplaced) {
					t.Fatalf("file swapped for a fifo: want ErrEntryReplaced, got %v", err)
				}
			case "file":
				if !errors.Is(err, ErrEntryReplaced) {
					t.Fatalf("file renamed over: want ErrEntryReplaced, got %v", err)
				}
			}
		}
	})
}

// TestWalkControl: fs.SkipDir, fs.SkipAll, fn's error returned unchanged,
// ctx checked before each entry, Open on a directory refused.
func TestWalkControl(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir)
	ctx := context.Background()
	var got []string
	fds := openFDs()
	err := Walk(ctx, dir, nil, func(e *WalkEntry) error {
		got = append(got, e.Path)
		switch e.Path {
		case "a/b":
			return fs.SkipDir // its contents left out
		case "a/data.bin":
			return fs.SkipDir // the rest of a/ left out
		case "hardlink.bin":
			return fs.SkipAll
		}
		return nil
	})
	if err != nil || strings.Join(got, ",") != "a,a/b,a/data.bin,dangling,empty,hardlink.bin" {
		t.Fatalf("%v %q", err, got)
	}
	if n := openFDs(); n != fds {
		t.Fatalf("%d descriptors open after the walk, %d before", n, fds)
	}

	mine := errors.New("mine")
	if err := Walk(ctx, dir, nil, func(e *WalkEntry) error {
		if e.Path == "a/b/c" {
			return mine
		}
		return nil
	}); err != mine {
		t.Fatalf("fn's error: got %v", err)
	}
	if err := Walk(ctx, dir, nil, func(e *WalkEntry) error {
		if _, err := e.Open(); e.IsDir() && !errors.Is(err, ErrInvalid) {
			return fmt.Errorf("Open of a directory: %v", err)
		}
		return fs.SkipAll
	}); err != nil {
		t.Fatal(err)
	}

	// A file left open is closed by the walk; a second Open meanwhile is
	// refused.
	fds = openFDs()
	if err := Walk(ctx, dir, nil, func(e *WalkEntry) error {
		if !e.IsRegular() || e.Link != "" {
			return nil
		}
		if _, err := e.Open(); err != nil {
			return err
		}
		if _, err := e.Open(); !errors.Is(err, ErrInvalid) {
			return fmt.Errorf("second Open: %v, want ErrInvalid", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := openFDs(); n != fds {
		t.Fatalf("%d descriptors open after files left open, %d before", n, fds)
	}

	var kept *WalkEntry
	if err := Walk(ctx, dir, nil, func(e *WalkEntry) error {
		if e.Path == "top.txt" {
			kept = e
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f, err := kept.Open()
	if err == nil {
		f.Close()
	}
	if !errors.Is(err, unix.EBADF) {
		t.Fatalf("Open past the call: %v, want EBADF", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	n := 0
	err = Walk(cctx, dir, nil, func(e *WalkEntry) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("cancelled: %v after %d entries", err, n)
	}
}

// TestWalkTopSwapped: a top directory replaced between its Lstat and its
// open — by a symlink to a tree elsewhere, or by another directory — is
// never walked: the walk fails naming it.
func TestWalkTopSwapped(t *testing.T) {
	for _, by := range []string{"symlink", "directory"} {
		t.Run(by, func(t *testing.T) {
			base := t.TempDir()
			top, outside := filepath.Join(base, "top"), filepath.Join(base, "outside")
			for _, d := range []string{top, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := walkAll(t, top, nil, func(name string) {
				if name != "" {
					return
				}
				if err := os.Rename(top, top+".old"); err != nil {
					t.Fatal(err)
				}
				var err error
				if by == "symlink" {
					err = os.Symlink(outside, top)
				} else {
					err = os.Rename(outside, top)
				}
				if err != nil {
					t.Fatal(err)
				}
			})
			if err == nil || len(got) != 0 {
				t.Fatalf("walk of a swapped top: visits %q, err %v; want none and an error", got, err)
			}
			if !strings.Contains(err.Error(), top) {
				t.Errorf("error %q does not name the top", err)
			}
		})
	}
}
