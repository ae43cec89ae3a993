package volumepart_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeTree builds a tree with every kind of entry a volume holds: modes,
// old and sub-second times, symlinks (dangling too), hard links, empty
// directories, a large file and empty and tiny ones.
func makeTree(t testing.TB, dir string, large int64) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b", "c"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "empty", "nested-empty"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "top.txt"), []byte("hello volume\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "zero"), nil, 0o600))
	must(os.WriteFile(filepath.Join(dir, "one"), []byte{1}, 0o400))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "c", "deep.txt"), []byte("deep"), 0o640))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "script.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	f, err := os.OpenFile(filepath.Join(dir, "a", "large.bin"), os.O_CREATE|os.O_WRONLY, 0o600)
	must(err)
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for written := int64(0); written < large; {
		for i := range buf {
			buf[i] = byte(r.IntN(16)) // compressible but not trivially
		}
		n := min(int64(len(buf)), large-written)
		_, err := f.Write(buf[:n])
		must(err)
		written += n
	}
	must(f.Close())
	must(os.Link(filepath.Join(dir, "a", "large.bin"), filepath.Join(dir, "hardlink.bin")))
	must(os.Link(filepath.Join(dir, "top.txt"), filepath.Join(dir, "a", "b", "top-again.txt")))
	must(os.Symlink("a/b/c/deep.txt", filepath.Join(dir, "link-to-deep")))
	must(os.Symlink("missing-target", filepath.Join(dir, "dangling")))
	must(os.Symlink("../..", filepath.Join(dir, "a", "b", "up")))
	many := filepath.Join(dir, "many")
	must(os.Mkdir(many, 0o750))
	for i := 0; i < 300; i++ {
		must(os.WriteFile(filepath.Join(many, fmt.Sprintf("f%03d", i)), []byte(strings.Repeat("x", i)), 0o644))
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 600_000_001, time.UTC)
	must(os.Chtimes(filepath.Join(dir, "top.txt"), old, old))
	must(os.Chtimes(filepath.Join(dir, "a", "b"), old, old))
	must(os.Chtimes(filepath.Join(dir, "empty"), old, old))
	must(os.Chmod(filepath.Join(dir, "a", "b", "c"), 0o711))
}

// treeManifest lists every entry under dir with its type, permission
// bits, modification time (ns), size, content SHA-256, link target and,
// for files with several names, the group of names sharing the inode.
func treeManifest(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	inodes := map[uint64][]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		line := fmt.Sprintf("%s %s %d", rel, fi.Mode().String(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
			line = fmt.Sprintf("%s %s -> %s", rel, fi.Mode().String(), target) // symlink times are not kept by tar -x either
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			n, err := io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %d %s", n, hex.EncodeToString(h.Sum(nil))[:16])
			if st := fi.Sys().(*syscall.Stat_t); st.Nlink > 1 {
				inodes[st.Ino] = append(inodes[st.Ino], rel)
			}
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range inodes {
		sort.Strings(names)
		out = append(out, "hardlinks "+strings.Join(names, " "))
	}
	sort.Strings(out)
	return out
}

func diffTrees(t testing.TB, a, b []string) {
	t.Helper()
	if strings.Join(a, "\n") == strings.Join(b, "\n") {
		return
	}
	in := map[string]int{}
	for _, l := range a {
		in[l]++
	}
	for _, l := range b {
		in[l]--
	}
	var d []string
	for l, n := range in {
		if n > 0 {
			d = append(d, "- "+l)
		} else if n < 0 {
			d = append(d, "+ "+l)
		}
	}
	sort.Strings(d)
	t.Fatalf("trees differ (%d vs %d entries):\n%s", len(a), len(b), strings.Join(d, "\n"))
}
