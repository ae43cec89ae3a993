package volumepart_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/internal/benchdata"
	"github.com/HamiGames/lucid-data/volume"
)

// The benchmarks compare the volume part with the command-line tools it
// promises interop with (tar, zstd, age: CLIs, so they never enter
// go.mod), and incremental parts with self-contained ones, on the same
// tree. Each iteration runs both sides in alternating order, so load on
// the shared machine falls on both. The load average is logged with each
// run.

// mixedData and cpuTime are internal/benchdata's, shared by every backup
// benchmark so that all of them measure the same bytes.
var (
	mixedData = benchdata.MixedData
	cpuTime   = benchdata.CPUTime
)

// mixedTree writes files of mixed sizes (0 to 128 KiB, one in 50 of 1 to
// 4 MiB) and content under dir, in 40 directories, until total bytes; it
// returns the files' paths.
func mixedTree(b *testing.B, dir string, total int64) []string {
	r := rand.New(rand.NewPCG(3, 4))
	var files []string
	var sum int64
	for i := 0; sum < total; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%40))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		n := int64(r.IntN(128 << 10))
		if i%50 == 0 {
			n = 1 << 20 * int64(1+r.IntN(4))
		}
		p := filepath.Join(sub, fmt.Sprintf("f%05d", i))
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := mixedData(f, n, uint64(i)); err != nil {
			b.Fatal(err)
		}
		f.Close()
		files = append(files, p)
		sum += n
	}
	syscall.Sync()
	return files
}

func logLoad(b *testing.B) {
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average %s", strings.TrimSpace(string(la)))
	}
}

// archiveSource is the format-1 volume part (volume.Archive's stream
// alone), the reference the format-2 part is held to.
type archiveSource struct{ dir string }

func (a archiveSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "volume-format-1", Format: "tar", FormatVersion: 1}
}

func (a archiveSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	st, err := volume.Archive(ctx, a.dir, w)
	return backup.Stats{Records: st.Files + st.Dirs + st.Symlinks + st.Links}, err
}

// BenchmarkVolumePartVsCLI: a tree of about 2,000 files (128 MiB, sizes
// from 0 to 4 MiB, mixed content) as a self-contained volume part with
// zstd 1 + age, as the format-1 part (volume.Archive's stream, no index
// and no per-file SHA-256) through the same pipeline, and as `tar -c |
// zstd -1 -T0 | age -r` to a file, then `sync`; the three in rotating
// order. Metrics: sdk-MB/s, v1-MB/s, cli-MB/s, speedup-x (CLI time over
// the part's: > 1 means the SDK is faster), v2-over-v1-x (format 1's
// time over format 2's) and the CPU time of each side per backup.
func BenchmarkVolumePartVsCLI(b *testing.B) {
	for _, t := range []string{"tar", "zstd", "age"} {
		if _, err := exec.LookPath(t); err != nil {
			b.Skipf("%s not installed", t)
		}
	}
	dir := b.TempDir()
	tree := filepath.Join(dir, "tree")
	mixedTree(b, tree, 128<<20)
	var total int64
	filepath.Walk(tree, func(_ string, fi os.FileInfo, _ error) error {
		if fi.Mode().IsRegular() {
			total += fi.Size()
		}
		return nil
	})
	id, _ := age.GenerateX25519Identity()
	m, err := backup.NewLocal(filepath.Join(dir, "sdk"), backup.Config{Level: 1, Recipients: []age.Recipient{id.Recipient()}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "cli.tar.zst.age")
	var sdkT, v1T, cliT, sdkCPU, v1CPU, cliCPU time.Duration
	part := func(p backup.Part, into, cpu *time.Duration) func() {
		return func() {
			c0, t0 := cpuTime(syscall.RUSAGE_SELF), time.Now()
			man, err := m.Backup(ctx, []backup.Part{p}, nil)
			if err != nil {
				b.Fatal(err)
			}
			*into += time.Since(t0)
			*cpu += cpuTime(syscall.RUSAGE_SELF) - c0
			if err := m.Delete(ctx, man.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	cli := func() {
		os.Remove(out)
		c0, t0 := cpuTime(syscall.RUSAGE_CHILDREN), time.Now()
		cmd := fmt.Sprintf("tar -C %s -cf - . | zstd -q -1 -T0 | age -r %s -o %s && sync %s", tree, id.Recipient(), out, out)
		if o, err := exec.Command("bash", "-o", "pipefail", "-c", cmd).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v: %s", cmd, err, o)
		}
		cliT += time.Since(t0)
		cliCPU += cpuTime(syscall.RUSAGE_CHILDREN) - c0
	}
	runs := []func(){part(volumepart.Part("tree", tree), &sdkT, &sdkCPU), part(backup.Part{Name: "tree", Source: archiveSource{tree}}, &v1T, &v1CPU), cli}
	b.SetBytes(3 * total)
	i := 0
	for b.Loop() {
		for k := range runs {
			runs[(i+k)%len(runs)]()
		}
		i++
	}
	mb := float64(total) * float64(i) / 1e6
	b.ReportMetric(mb/sdkT.Seconds(), "sdk-MB/s")
	b.ReportMetric(mb/v1T.Seconds(), "v1-MB/s")
	b.ReportMetric(mb/cliT.Seconds(), "cli-MB/s")
	b.ReportMetric(cliT.Seconds()/sdkT.Seconds(), "speedup-x")
	b.ReportMetric(v1T.Seconds()/sdkT.Seconds(), "v2-over-v1-x")
	b.ReportMetric(sdkCPU.Seconds()/float64(i), "sdk-cpu-s/op")
	b.ReportMetric(v1CPU.Seconds()/float64(i), "v1-cpu-s/op")
	b.ReportMetric(cliCPU.Seconds()/float64(i), "cli-cpu-s/op")
	logLoad(b)
}

// BenchmarkIncremental: a 256 MiB tree of about 4,000 files of mixed sizes;
// each iteration rewrites the same 1 % of its files (drawn at random,
// new content of the same size) and takes, in alternating order, a
// self-contained part and a part incremental on a self-contained backup
// taken before any change. Metrics: full-s and incr-s (seconds per
// backup), full-MB and incr-MB (stored bytes), time-% and bytes-% (the
// incremental's over the full one's), full-cpu-s and incr-cpu-s.
func BenchmarkIncremental(b *testing.B) {
	dir := b.TempDir()
	tree := filepath.Join(dir, "tree")
	files := mixedTree(b, tree, 256<<20)
	id, _ := age.GenerateX25519Identity()
	m, err := backup.NewLocal(filepath.Join(dir, "sdk"), backup.Config{Level: 1, Recipients: []age.Recipient{id.Recipient()},
		Identities: []age.Identity{id}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	time.Sleep(2100 * time.Millisecond) // past the racy window of the base's scan
	base, err := m.Backup(ctx, []backup.Part{volumepart.Part("tree", tree)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	// 1 % of the files, drawn at random (with a fixed seed): their sizes
	// mix as the tree's do.
	var changed []string
	for _, k := range rand.New(rand.NewPCG(5, 6)).Perm(len(files))[:len(files)/100] {
		changed = append(changed, files[k])
	}
	b.Logf("%d files, %d changed per iteration, base stores %d bytes", len(files), len(changed), base.Parts[0].Stored.Size)
	var fullT, incT, fullCPU, incCPU time.Duration
	var fullB, incB int64
	run := func(p backup.Part, t *time.Duration, n *int64) {
		cpu := &fullCPU
		if t == &incT {
			cpu = &incCPU
		}
		c0, t0 := cpuTime(syscall.RUSAGE_SELF), time.Now()
		man, err := m.Backup(ctx, []backup.Part{p}, nil)
		if err != nil {
			b.Fatal(err)
		}
		*t += time.Since(t0)
		*cpu += cpuTime(syscall.RUSAGE_SELF) - c0
		*n += man.Parts[0].Stored.Size
		if err := m.Delete(ctx, man.ID); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		for k, p := range changed {
			fi, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := mixedData(f, fi.Size(), uint64(1000000*(i+1)+k)); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		syscall.Sync()
		b.StartTimer()
		full, inc := volumepart.Part("tree", tree), volumepart.Incremental(m, "tree", tree, base.ID)
		if i%2 == 0 {
			run(full, &fullT, &fullB)
			run(inc, &incT, &incB)
		} else {
			run(inc, &incT, &incB)
			run(full, &fullT, &fullB)
		}
		i++
	}
	n := float64(i)
	b.ReportMetric(fullT.Seconds()/n, "full-s")
	b.ReportMetric(incT.Seconds()/n, "incr-s")
	b.ReportMetric(float64(fullB)/n/1e6, "full-MB")
	b.ReportMetric(float64(incB)/n/1e6, "incr-MB")
	b.ReportMetric(100*incT.Seconds()/fullT.Seconds(), "time-%")
	b.ReportMetric(100*float64(incB)/float64(fullB), "bytes-%")
	b.ReportMetric(fullCPU.Seconds()/n, "full-cpu-s")
	b.ReportMetric(incCPU.Seconds()/n, "incr-cpu-s")
	logLoad(b)
}
