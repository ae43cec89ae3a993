package backup_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/internal/benchdata"
)

// The benchmarks compare the SDK with the command-line tools it promises
// interop with, on the same bytes: the peers are CLIs, so they never enter
// go.mod. Each iteration runs both, in alternating order (as
// internal/bench/pair does), so load on this shared machine falls on both.
// Metrics: sdk-MB/s, cli-MB/s and speedup-x (SDK time over CLI time,
// inverted: > 1 means the SDK is faster).

// mixedData and cpuTime are internal/benchdata's, shared by every backup
// benchmark so that all of them measure the same bytes.
var (
	mixedData = benchdata.MixedData
	cpuTime   = benchdata.CPUTime
)

type fileSource struct{ path string }

func (f fileSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "file", Format: "bin"}
}
func (f fileSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return backup.Stats{}, err
	}
	defer fh.Close()
	_, err = io.Copy(w, fh)
	return backup.Stats{Records: 1}, err
}

func needCLI(b *testing.B, tools ...string) {
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			b.Skipf("%s not installed", t)
		}
	}
}

// paired runs sdk and cli alternately per iteration and reports both:
// wall-clock rates and, as the load of a shared machine skews wall time
// (it favours the side running more threads), the CPU time each used.
func paired(b *testing.B, bytes int64, sdk, cli func() error) {
	var sdkT, cliT, sdkCPU, cliCPU time.Duration
	i := 0
	run := func(f func() error, into, cpu *time.Duration, who int) {
		c0, t0 := cpuTime(who), time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*into += time.Since(t0)
		*cpu += cpuTime(who) - c0
	}
	b.SetBytes(2 * bytes)
	for b.Loop() {
		if i%2 == 0 {
			run(sdk, &sdkT, &sdkCPU, syscall.RUSAGE_SELF)
			run(cli, &cliT, &cliCPU, syscall.RUSAGE_CHILDREN)
		} else {
			run(cli, &cliT, &cliCPU, syscall.RUSAGE_CHILDREN)
			run(sdk, &sdkT, &sdkCPU, syscall.RUSAGE_SELF)
		}
		i++
	}
	mb := float64(bytes) * float64(i) / 1e6
	b.ReportMetric(mb/sdkT.Seconds(), "sdk-MB/s")
	b.ReportMetric(mb/cliT.Seconds(), "cli-MB/s")
	b.ReportMetric(cliT.Seconds()/sdkT.Seconds(), "speedup-x")
	b.ReportMetric(sdkCPU.Seconds()/float64(i), "sdk-cpu-s/op")
	b.ReportMetric(cliCPU.Seconds()/float64(i), "cli-cpu-s/op")
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average %s", strings.TrimSpace(string(la)))
	}
}

func shell(cmd string) error {
	out, err := exec.Command("bash", "-o", "pipefail", "-c", cmd).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", cmd, err, out)
	}
	return nil
}

// BenchmarkPipeline: 128 MiB of mixed data, zstd level 1 and 3 + age to a
// local directory (fsync included) vs `zstd -<level> -T0 | age -r` to a
// file, then `sync` of that file.
func BenchmarkPipeline(b *testing.B) {
	needCLI(b, "zstd", "age")
	const size = 128 << 20
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	f, err := os.Create(data)
	if err != nil {
		b.Fatal(err)
	}
	if err := mixedData(f, size, 1); err != nil {
		b.Fatal(err)
	}
	f.Close()
	syscall.Sync() // the data's writeback must not land on the first timed iterations
	id, _ := age.GenerateX25519Identity()
	for _, level := range []int{1, 3} {
		b.Run(fmt.Sprintf("zstd=%d", level), func(b *testing.B) {
			m, err := backup.NewLocal(filepath.Join(dir, "sdk"), backup.Config{Level: level, Recipients: []age.Recipient{id.Recipient()}})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			out := filepath.Join(dir, "cli.zst.age")
			paired(b, size, func() error {
				// Backups are deleted after the benchmark, untimed, as the
				// CLI's output is replaced untimed.
				_, err := m.Backup(ctx, []backup.Part{{Name: "data", Source: fileSource{data}}}, nil)
				return err
			}, func() error {
				os.Remove(out)
				return shell(fmt.Sprintf("zstd -q -%d -T0 -c %s | age -r %s -o %s && sync %s", level, data, id.Recipient(), out, out))
			})
		})
	}
}

// BenchmarkVolumePart: a tree of 2,000 files (128 MiB, sizes from 0 to
// 1 MiB, mixed content) as a volume part with zstd 1 + age vs
// `tar -c | zstd -1 -T0 | age -r` to a file, then `sync`.
func BenchmarkVolumePart(b *testing.B) {
	needCLI(b, "tar", "zstd", "age")
	dir := b.TempDir()
	tree := filepath.Join(dir, "tree")
	r := rand.New(rand.NewPCG(3, 4))
	var total int64
	for i := 0; total < 128<<20; i++ {
		sub := filepath.Join(tree, fmt.Sprintf("d%02d", i%40))
		os.MkdirAll(sub, 0o755)
		n := int64(r.IntN(128 << 10))
		if i%50 == 0 {
			n = 1 << 20 * int64(1+r.IntN(4))
		}
		f, err := os.Create(filepath.Join(sub, fmt.Sprintf("f%05d", i)))
		if err != nil {
			b.Fatal(err)
		}
		if err := mixedData(f, n, uint64(i)); err != nil {
			b.Fatal(err)
		}
		f.Close()
		total += n
	}
	syscall.Sync()
	id, _ := age.GenerateX25519Identity()
	m, err := backup.NewLocal(filepath.Join(dir, "sdk"), backup.Config{Level: 1, Recipients: []age.Recipient{id.Recipient()}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "cli.tar.zst.age")
	paired(b, total, func() error {
		_, err := m.Backup(ctx, []backup.Part{volumepart.Part("tree", tree)}, nil)
		return err
	}, func() error {
		os.Remove(out)
		return shell(fmt.Sprintf("tar -C %s -cf - . | zstd -q -1 -T0 | age -r %s -o %s && sync %s", tree, id.Recipient(), out, out))
	})
}

// TestPeakRSS measures the pipeline's peak RSS on a 2 GiB part in a child
// process (so nothing else of the test binary counts), writing and then
// verifying. It is run by hand: LUCID_BACKUP_RSS=1 go test -run TestPeakRSS -v ./backup
func TestPeakRSS(t *testing.T) {
	if os.Getenv("LUCID_BACKUP_RSS_CHILD") != "" {
		rssChild(t)
		return
	}
	if os.Getenv("LUCID_BACKUP_RSS") == "" {
		t.Skip("set LUCID_BACKUP_RSS=1 to measure (writes 2 GiB through the pipeline)")
	}
	for _, mode := range []string{"backup", "verify"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSS$", "-test.v")
		cmd.Env = append(os.Environ(), "LUCID_BACKUP_RSS_CHILD="+mode, "LUCID_BACKUP_RSS_DIR="+filepath.Join(os.TempDir(), "lucid-rss"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s child: %v\n%s", mode, err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		t.Logf("%s of a 2 GiB part: peak RSS %.1f MiB, user %.1fs sys %.1fs, wall %s\n%s", mode, float64(ru.Maxrss)/1024,
			time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds(), "see child", strings.TrimSpace(string(out)))
	}
	os.RemoveAll(filepath.Join(os.TempDir(), "lucid-rss"))
}

type genSource struct{ size int64 }

func (g genSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "lines", Format: "txt"}
}
func (g genSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	cw := &countLines{w: w}
	err := mixedData(cw, g.size, 9)
	return backup.Stats{Records: cw.n, Counts: map[string]int64{"lines": cw.n}}, err
}

type countLines struct {
	w io.Writer
	n int64
}

func (c *countLines) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			c.n++
		}
	}
	return c.w.Write(p)
}

func rssChild(t *testing.T) {
	dir := os.Getenv("LUCID_BACKUP_RSS_DIR")
	ctx := context.Background()
	key := filepath.Join(dir, "key")
	if os.Getenv("LUCID_BACKUP_RSS_CHILD") == "backup" {
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o700)
		id, _ := age.GenerateX25519Identity()
		os.WriteFile(key, []byte(id.String()), 0o600)
		conc, _ := strconv.Atoi(os.Getenv("LUCID_BACKUP_RSS_CONCURRENCY"))
		m, err := backup.NewLocal(filepath.Join(dir, "b"), backup.Config{Recipients: []age.Recipient{id.Recipient()}, Concurrency: conc})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		man, err := m.Backup(ctx, []backup.Part{{Name: "big", Source: genSource{size: 2 << 30}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("Go heap: HeapSys %d MiB, HeapInuse %d MiB, NumGC %d", ms.HeapSys>>20, ms.HeapInuse>>20, ms.NumGC)
		t.Logf("backup %s: %d plain bytes, %d stored, %d lines, %s", man.ID, man.Parts[0].Plain.Size, man.Parts[0].Stored.Size, man.Parts[0].Records, time.Since(t0))
		return
	}
	kb, _ := os.ReadFile(key)
	id, err := age.ParseX25519Identity(string(kb))
	if err != nil {
		t.Fatal(err)
	}
	m, err := backup.NewLocal(filepath.Join(dir, "b"), backup.Config{Identities: []age.Identity{id}, Plaintext: true, Checkers: checkers()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := m.List(ctx)
	if err != nil || len(l) != 1 {
		t.Fatalf("list %v %v", l, err)
	}
	t0 := time.Now()
	rep, err := m.Verify(ctx, l[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verify: %d records, %s", rep.Parts[0].Stats.Records, time.Since(t0))
}
