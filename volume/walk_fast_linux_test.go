//go:build linux && (amd64 || arm64 || riscv64 || arm || 386)

package volume

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestScanDirStatModes walks the same tree with only blocking and with only
// raw fstatat calls (after the first batch) and wants the figures of du -sb
// from both: directories of more than one batch, hard links within and
// across directories and batches, symlinks and a fifo.
func TestScanDirStatModes(t *testing.T) {
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
	t.Cleanup(func() { statMode.Store(0) })
	for _, mode := range []struct {
		name string
		mode int32
	}{{"blocking", statBlocking}, {"raw", statRaw}} {
		statMode.Store(mode.mode)
		for _, n := range []int{1, 4} {
			u, err := ScanDir(context.Background(), dir, n)
			if err != nil {
				t.Fatal(err)
			}
			if u.Files != int64(files) || u.Dirs != int64(dirs) || u.Others != int64(others) || (want != 0 && u.Bytes != want) {
				t.Fatalf("%s, %d workers: files %d dirs %d others %d bytes %d; want %d %d %d %d", mode.name, n, u.Files, u.Dirs, u.Others, u.Bytes, files, dirs, others, want)
			}
		}
		// The mode a worker ends a directory in is the one the batches chose.
		w := &walker{ctx: context.Background(), root: dir, links: map[devIno]struct{}{}}
		ws := &walkState{buf: make([]byte, 32<<10), blocking: 1}
		var tot walkTotals
		if err := w.readDirFast(filepath.Join(dir, "d0"), &tot, ws); err != nil {
			t.Fatal(err)
		}
		if (ws.blocking > 0) != (mode.mode == statBlocking) {
			t.Fatalf("%s: %d blocking batches to go after a directory", mode.name, ws.blocking)
		}
	}
}

// TestStatBatchSwitch: a batch that slept turns blocking calls on until
// slowBatches batches in a row have not, and sleeps sees a thread sleep.
func TestStatBatchSwitch(t *testing.T) {
	ws := &walkState{blocking: 1}
	if ws.batchDone(false); ws.blocking != 0 {
		t.Fatalf("after a first fast batch: %d", ws.blocking)
	}
	ws.batchDone(true)
	ws.batchDone(false)
	ws.batchDone(true) // a sleep restarts the count
	for i := 0; i < slowBatches-1; i++ {
		if ws.batchDone(false); ws.blocking == 0 {
			t.Fatalf("raw again after %d fast batches", i+1)
		}
	}
	if ws.batchDone(false); ws.blocking != 0 {
		t.Fatalf("still %d blocking batches after %d fast ones", ws.blocking, slowBatches)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := sleeps()
	time.Sleep(2 * time.Millisecond)
	if after := sleeps(); after <= before {
		t.Fatalf("voluntary switches %d -> %d across a sleep", before, after)
	}
}
