package volume

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

func TestScanDirMatchesDu(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir)
	u, err := ScanDir(context.Background(), dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 5 regular file names, one a hard link to another: 4 inodes.
	if u.Files != 4 || u.Dirs != 5 || u.Others != 2 {
		t.Fatalf("counts: files %d dirs %d others %d", u.Files, u.Dirs, u.Others)
	}
	if u.AllocatedBytes <= 0 || u.FS.Total == 0 || u.FS.Available == 0 || u.FS.Type == "" {
		t.Fatalf("usage %+v", u)
	}
	du, err := exec.LookPath("du")
	if err != nil {
		t.Skip("du not installed")
	}
	out, err := exec.Command(du, "-sb", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	if u.Bytes != want {
		t.Fatalf("bytes %d, du -sb says %d", u.Bytes, want)
	}
	// One worker gives the same figures.
	u1, err := ScanDir(context.Background(), dir, 1)
	if err != nil || u1.Bytes != u.Bytes || u1.Files != u.Files || u1.Dirs != u.Dirs {
		t.Fatalf("1 worker: %+v %v", u1, err)
	}
}

func TestScanDirCancelAndErrors(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 50; i++ {
		if err := os.MkdirAll(filepath.Join(dir, strconv.Itoa(i), "x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScanDir(ctx, dir, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: %v", err)
	}
	if _, err := ScanDir(context.Background(), filepath.Join(dir, "nope"), 4); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing dir: %v", err)
	}
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ScanDir(context.Background(), f, 4); !errors.Is(err, ErrInvalid) {
		t.Fatalf("file: %v", err)
	}
}

func TestUsageAndReserve(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "chunks", lucidkeys.VolumeChunks, 1<<20) // 1 MiB quota
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "c"), make([]byte, 600<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := m.Usage(ctx, "chunks")
	if err != nil {
		t.Fatal(err)
	}
	if u.Quota != 1<<20 || u.Bytes < 600<<10 || u.Percent < 58 || u.Percent > 70 {
		t.Fatalf("usage %+v", u)
	}
	r, err := m.Reserve(ctx, "chunks", 300<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reserve(ctx, "chunks", 200<<10); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("second reservation: %v, want ErrQuotaExceeded", err)
	}
	if err := m.CheckSpace(ctx, "chunks", 100<<10); err != nil {
		t.Fatalf("check within quota: %v", err)
	}
	r.Release()
	r.Release() // idempotent
	if got := m.Reserved("chunks"); got != 0 {
		t.Fatalf("reserved after release: %d", got)
	}
	if err := m.CheckSpace(ctx, "chunks", 400<<10); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if _, err := m.Resize(ctx, "chunks", 512<<10); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("shrink below usage: %v", err)
	}
	if _, err := m.Reserve(ctx, "chunks", -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative: %v", err)
	}
	if _, err := m.Reserve(ctx, "nope", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing volume: %v", err)
	}
}
