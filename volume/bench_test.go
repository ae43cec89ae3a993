package volume

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Benchmark trees are built once per machine under os.TempDir() and reused
// (a marker file says a tree is complete); normal test runs never build
// them.
var (
	usageTreeOnce, archiveTreeOnce, tinyTreeOnce sync.Once
	usageTree, archiveTree, tinyTree             string
	usageTreeErr, archiveTreeErr, tinyTreeErr    error
)

// buildTree creates top×sub directories of files files each, of 0 to size
// bytes spread evenly, under root unless root/.complete exists.
func buildTree(root string, top, sub, files, size int) error {
	marker := filepath.Join(root, ".complete")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	buf := bytes.Repeat([]byte("lucid volume benchmark data\n"), size/28+1)
	for i := 0; i < top; i++ {
		for j := 0; j < sub; j++ {
			d := filepath.Join(root, fmt.Sprintf("d%03d", i), fmt.Sprintf("s%03d", j))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			for k := 0; k < files; k++ {
				n := int(uint64(i*sub*files+j*files+k+1) * 2654435761 % uint64(size+1))
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%04d", k)), buf[:n], 0o644); err != nil {
					return err
				}
			}
		}
	}
	return os.WriteFile(marker, nil, 0o644)
}

func benchUsageTree(b *testing.B) string {
	usageTreeOnce.Do(func() {
		usageTree = filepath.Join(os.TempDir(), "lucid-volume-bench-200k")
		// 20 × 50 directories × 200 files = 200,000 files of 0-1 KiB.
		usageTreeErr = buildTree(usageTree, 20, 50, 200, 1024)
	})
	if usageTreeErr != nil {
		b.Fatal(usageTreeErr)
	}
	return usageTree
}

func benchArchiveTree(b *testing.B) string {
	archiveTreeOnce.Do(func() {
		archiveTree = filepath.Join(os.TempDir(), "lucid-volume-bench-archive")
		// 4 × 10 directories × 50 files of 0-256 KiB: 2,000 files, ~256 MB.
		archiveTreeErr = buildTree(archiveTree, 4, 10, 50, 256<<10)
	})
	if archiveTreeErr != nil {
		b.Fatal(archiveTreeErr)
	}
	return archiveTree
}

func benchTinyTree(b *testing.B) string {
	tinyTreeOnce.Do(func() {
		tinyTree = filepath.Join(os.TempDir(), "lucid-volume-bench-tiny")
		// 4 × 25 directories × 200 files = 20,000 files of 0-1 KiB, ~10 MB:
		// the cost per file, not per byte.
		tinyTreeErr = buildTree(tinyTree, 4, 25, 200, 1024)
	})
	if tinyTreeErr != nil {
		b.Fatal(tinyTreeErr)
	}
	return tinyTree
}

// BenchmarkUsage compares the parallel usage walk with `du -sb` on the same
// 200,000-file tree (warm cache for both).
func BenchmarkUsage(b *testing.B) {
	dir := benchUsageTree(b)
	ctx := context.Background()
	want, err := ScanDir(ctx, dir, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sdk", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			u, err := scanDir(ctx, dir, walkWorkers(0), true)
			if err != nil || u.Bytes != want.Bytes {
				b.Fatal(err, u.Bytes)
			}
		}
		b.ReportMetric(float64(want.Files), "files")
	})
	b.Run("du", func(b *testing.B) {
		du, err := exec.LookPath("du")
		if err != nil {
			b.Skip("du not installed")
		}
		for i := 0; i < b.N; i++ {
			out, err := exec.Command(du, "-sb", dir).Output()
			if err != nil {
				b.Fatal(err)
			}
			if !bytes.HasPrefix(out, []byte(fmt.Sprint(want.Bytes))) {
				b.Fatalf("du says %s, sdk %d", out, want.Bytes)
			}
		}
		b.ReportMetric(float64(want.Files), "files")
	})
}

// BenchmarkStatFS is the cost of one statfs call with conversion.
func BenchmarkStatFS(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := StatFS(ctx, dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArchive compares Archive with `tar -c` of the same tree, both
// streaming to a discarding writer (GNU tar would skip reading the files if
// told to write to /dev/null, so it writes to a pipe).
func BenchmarkArchive(b *testing.B) {
	benchArchive(b, benchArchiveTree(b))
}

// BenchmarkArchiveTiny is BenchmarkArchive on 20,000 files of at most 1 KiB,
// where the cost per file (walk, stat, open, header) dominates.
func BenchmarkArchiveTiny(b *testing.B) {
	benchArchive(b, benchTinyTree(b))
}

// benchArchive compares Archive with `tar -c` of dir.
func benchArchive(b *testing.B, dir string) {
	ctx := context.Background()
	st, err := Archive(ctx, dir, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sdk", func(b *testing.B) {
		b.SetBytes(st.Bytes)
		for i := 0; i < b.N; i++ {
			if _, err := Archive(ctx, dir, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tar", func(b *testing.B) {
		tarPath, err := exec.LookPath("tar")
		if err != nil {
			b.Skip("tar not installed")
		}
		b.SetBytes(st.Bytes)
		for i := 0; i < b.N; i++ {
			cmd := exec.Command(tarPath, "-c", "-f", "-", "-C", dir, ".")
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkExtract measures extraction of the archive tree's tar stream.
func BenchmarkExtract(b *testing.B) {
	benchExtract(b, benchArchiveTree(b))
}

// BenchmarkExtractTiny is BenchmarkExtract on the 20,000 small files of
// BenchmarkArchiveTiny, where the system calls per entry dominate.
func BenchmarkExtractTiny(b *testing.B) {
	benchExtract(b, benchTinyTree(b))
}

func benchExtract(b *testing.B, dir string) {
	ctx := context.Background()
	var buf bytes.Buffer
	st, err := Archive(ctx, dir, &buf)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := b.TempDir()
		if _, err := Extract(ctx, bytes.NewReader(buf.Bytes()), out, ExtractOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = os.RemoveAll(out)
		b.StartTimer()
	}
}

// BenchmarkVolumeOps times the volume operations (target: < 1 s
// each) on a volume holding 1,000 small files.
func BenchmarkVolumeOps(b *testing.B) {
	ctx := context.Background()
	m, err := New(Config{Root: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	v, err := m.Create(ctx, "sessions", lucidkeys.VolumeSessions, 0)
	if err != nil {
		b.Fatal(err)
	}
	if err := buildTree(filepath.Join(v.Path, "tree"), 1, 10, 100, 1024); err != nil {
		b.Fatal(err)
	}
	snaps := b.TempDir()
	b.Run("create-delete", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := m.Create(ctx, "tmp", lucidkeys.VolumeLogs, 0); err != nil {
				b.Fatal(err)
			}
			if err := m.Delete(ctx, "tmp", false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("resize", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := m.Resize(ctx, "sessions", int64(10+i%2)<<30); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := m.List(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("usage", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := m.Usage(ctx, "sessions"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("health", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := m.Health(ctx, "sessions"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reserve", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r, err := m.Reserve(ctx, "sessions", 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			r.Release()
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, err := m.Snapshot(ctx, "sessions", snaps)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = os.Remove(p)
			b.StartTimer()
		}
	})
	b.Run("manifest-verify", func(b *testing.B) {
		if _, err := m.CreateManifest(ctx, "sessions"); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			if _, err := m.VerifyIntegrity(ctx, "sessions"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var tickTreeOnce sync.Once

// benchTickManager is a manager whose one volume, "chunks", holds the
// 200,000-file tree of BenchmarkUsage's shape.
func benchTickManager(b *testing.B) *DirManager {
	b.Helper()
	root := filepath.Join(os.TempDir(), "lucid-volume-bench-monitor")
	var err error
	tickTreeOnce.Do(func() { err = buildTree(filepath.Join(root, "chunks", "data"), 20, 50, 200, 1024) })
	if err != nil {
		b.Fatal(err)
	}
	m, err := newDirManager(Config{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Create(context.Background(), "chunks", lucidkeys.VolumeChunks, 0); err != nil && !errors.Is(err, ErrExists) {
		b.Fatal(err)
	}
	return m
}

// BenchmarkMonitorTick is the cost of one monitor tick (Poll) over a
// volume of 200,000 files, after the monitor's first walk. Before the
// monitor was statfs-based each tick walked the volume.
func BenchmarkMonitorTick(b *testing.B) {
	m := benchTickManager(b)
	mon := m.NewMonitor(MonitorOptions{OnEvent: func(Event) {}})
	defer mon.Close()
	ctx := context.Background()
	if _, err := mon.Walk(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := mon.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
