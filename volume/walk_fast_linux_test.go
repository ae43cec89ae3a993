//go:build linux && (amd64 || arm64 || riscv64 || arm || 386)

package volume

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestScanDirBatches walks a tree with one and with four workers and wants
// the figures of du -sb: directories of more than one batch, hard links
// within and across directories and batches, symlinks and a fifo.
func TestScanDirBatches(t *testing.T) {
	dir := t.TempDir()
	files, dirs, others := 0, 1, 0
	for d := 0; d < 3; d++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs++
		for i := 0; i < 3*statBatch+5; i++ {
			p := filepath.Join(sub, fmt.Sprintf("f%03d", i))
			if err := os.WriteFile(p, make([]byte, (d*97+i*31)%5000), 0o644); err != nil {
				t.Fatal(err)
			}
			files++
		}
		// Two more names of f000 in this directory, one in the next.
		for _, l := range []string{filepath.Join(sub, "zz-link1"), filepath.Join(sub, "zz-link2"), filepath.Join(dir, fmt.Sprintf("cross%d", d))} {
			if err := os.Link(filepath.Join(sub, "f000"), l); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("f001", filepath.Join(sub, "sym")); err != nil {
			t.Fatal(err)
		}
		others++
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	others++
	var want int64
	if du, err := exec.LookPath("du"); err == nil {
		out, err := exec.Command(du, "-sb", dir).Output()
		if err != nil {
			t.Fatal(err)
		}
		want, _ = strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	}
	for _, n := range []int{1, 4} {
		u, err := ScanDir(context.Background(), dir, n)
		if err != nil {
			t.Fatal(err)
		}
		if u.Files != int64(files) || u.Dirs != int64(dirs) || u.Others != int64(others) || (want != 0 && u.Bytes != want) {
			t.Fatalf("%d workers: files %d dirs %d others %d bytes %d; want %d %d %d %d", n, u.Files, u.Dirs, u.Others, u.Bytes, files, dirs, others, want)
		}
	}
}
