package volume

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// makeTree writes a small tree with files, nested dirs, a symlink, a hard
// link, an empty dir and unusual modes under dir.
func makeTree(t testing.TB, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b", "c"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "empty"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "top.txt"), []byte("hello volume\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a", "data.bin"), make([]byte, 100_000), 0o600))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "c", "deep.txt"), []byte("deep"), 0o640))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "script.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(os.Link(filepath.Join(dir, "a", "data.bin"), filepath.Join(dir, "hardlink.bin")))
	must(os.Symlink("a/b/c/deep.txt", filepath.Join(dir, "link-to-deep")))
	must(os.Symlink("missing-target", filepath.Join(dir, "dangling")))
	old := time.Date(2020, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	must(os.Chtimes(filepath.Join(dir, "top.txt"), old, old))
	must(os.Chtimes(filepath.Join(dir, "a", "b"), old, old))
}

// snapshotTree records every path under dir with its mode, size and mtime,
// for "nothing changed" comparisons.
func snapshotTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fi.Mode().String() + " " + fi.ModTime().String() + " " + string(rune(fi.Size()%1000))
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			out[rel] += string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
