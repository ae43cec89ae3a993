package volumepart

import (
	"os"
	"path/filepath"
	"testing"
)

// Deletions never reach outside the restore directory: a symlink on the
// way is not followed, a symlink named is removed itself, and names with
// ".." or a leading "/" never parse.
func TestRemovePathsStaysInside(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "esc")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "d", "e"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := removePaths(dir, []string{"esc/victim", "missing/x", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("removed %d", n)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("outside file: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "d")); !os.IsNotExist(err) {
		t.Fatalf("d: %v", err)
	}
	if _, err := removePaths(dir, []string{"esc"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "esc")); !os.IsNotExist(err) {
		t.Fatalf("esc: %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("outside file after removing the link: %v", err)
	}
	for _, bad := range []string{"../x\x00", "/etc/passwd\x00", "a/../../x\x00", "a//b\x00", "x"} {
		if _, err := parseDeleted([]byte(bad)); err == nil {
			t.Fatalf("%q parsed", bad)
		}
	}
}

// makeWritable opens read-only directories of a part's index to their
// owner (the part's directory entries set their modes back).
func TestMakeWritable(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "a", "ro")
	if err := os.MkdirAll(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	ro2 := filepath.Join(dir, "ro2")
	if err := os.Mkdir(ro2, 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ro2", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	err := makeWritable(dir, []entry{{path: "a", typ: 'd'}, {path: "a/ro", typ: 'd'}, {path: "l", typ: 'd'}, {path: "gone/x", typ: 'd'}})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(ro)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Fatalf("mode %v", fi.Mode())
	}
	// Named through a symlink: not followed.
	if fi, err := os.Stat(ro2); err != nil || fi.Mode().Perm() != 0o555 {
		t.Fatalf("ro2: %v %v", fi.Mode(), err)
	}
}
