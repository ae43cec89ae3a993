//go:build linux && !lucidfuzz

package volume

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"golang.org/x/sys/unix"
)

// fillDisk writes until the filesystem is full and returns the file.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	_ = f.Sync()
	return p
}

func TestLoopFilesystem(t *testing.T) {
	mnt := testenv.LoopFS(t, 24)
	ctx := context.Background()
	m, err := New(Config{Root: filepath.Join(mnt, "data")})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Create(ctx, "chunks", lucidkeys.VolumeChunks, 8<<20) // 8 MiB quota
	if err != nil {
		t.Fatal(err)
	}

	// statfs figures of the small filesystem.
	fs, err := StatFS(ctx, v.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Type != "ext2/ext3/ext4" || fs.Total < 16<<20 || fs.Total > 24<<20 || fs.Available == 0 || fs.Available > fs.Free || fs.Inodes == 0 || fs.ReadOnly {
		t.Fatalf("statfs %+v", fs)
	}
	mi, err := findMount(v.Path)
	if err != nil || mi.mountPoint != mnt || mi.fsType != "ext4" {
		t.Fatalf("mount %+v %v", mi, err)
	}

	// Soft quota: Reserve refuses writes past it.
	r, err := m.Reserve(ctx, "chunks", 6<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "c1"), make([]byte, 6<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Release()
	if _, err := m.Reserve(ctx, "chunks", 3<<20); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("past the quota: %v", err)
	}
	// Filesystem space: a quota larger than the disk does not help.
	if _, err := m.Resize(ctx, "chunks", 1<<30); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reserve(ctx, "chunks", 64<<20); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("past the disk: %v", err)
	}

	// Hard quotas: not configured here, said plainly.
	err = m.SetHardQuota(ctx, "chunks", 8<<20)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "project quotas are not configured") {
		t.Fatalf("hard quota: %v", err)
	}

	// Defragment runs e4defrag on ext4 when it is installed.
	if _, lerr := exec.LookPath("e4defrag"); lerr == nil {
		if err := m.Defragment(ctx, "chunks"); err != nil {
			t.Fatalf("defragment: %v", err)
		}
	} else if err := m.Defragment(ctx, "chunks"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("defragment without e4defrag: %v", err)
	}

	// Performance of a loop device: it has diskstats.
	p, err := m.Performance(ctx, "chunks", 20*time.Millisecond)
	if err != nil || p.DeviceErr != nil || !strings.HasPrefix(p.Device, "loop") {
		t.Fatalf("performance: %+v %v", p, err)
	}

	// DirDeviceIO counts what reaches the device: 4 MiB written and
	// fsynced show up in its written bytes.
	before, err := DirDeviceIO(v.Path)
	if err != nil || before.Device != p.Device {
		t.Fatalf("device I/O: %+v %v (performance device %s)", before, err, p.Device)
	}
	wf, err := os.Create(filepath.Join(v.Path, "io-probe"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wf.Write(make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	if err := wf.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = wf.Close()
	after, err := DirDeviceIO(v.Path)
	if err != nil || after.WrittenBytes < before.WrittenBytes+4<<20 || after.Writes <= before.Writes {
		t.Fatalf("device I/O after 4 MiB fsynced: before %+v, after %+v, %v", before, after, err)
	}
	_ = os.Remove(filepath.Join(v.Path, "io-probe"))
	if _, err := DirDeviceIO("/proc"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("device I/O of /proc: %v, want ErrUnsupported", err)
	}

	// Fill the disk: health and the monitor report it.
	var events []Event
	mon := m.NewMonitor(MonitorOptions{OnEvent: func(e Event) { events = append(events, e) }})
	defer mon.Close()
	if _, err := mon.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	filler := fillDisk(t, v.Path)
	h, err := m.Health(ctx, "chunks")
	if err != nil {
		t.Fatal(err)
	}
	if h.DiskLevel != LevelCritical || h.Status != LevelCritical || h.Healthy() {
		t.Fatalf("full disk health: %+v", h)
	}
	full := false
	for _, pr := range h.Problems {
		full = full || strings.Contains(pr, "filesystem full")
	}
	if !full {
		t.Fatalf("problems %q", h.Problems)
	}
	if r := m.CheckVolume(ctx, "chunks"); r.Status != health.Down || !errors.Is(r.Err, ErrNoSpace) {
		t.Fatalf("full disk CheckVolume: %+v", r)
	}
	evs, err := mon.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		found = found || (e.Scope == ScopeDisk && e.To == LevelCritical)
	}
	if !found {
		t.Fatalf("no disk-full event: %v", evs)
	}
	if _, err := m.Reserve(ctx, "chunks", 1<<20); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("reserve on a full disk: %v", err)
	}
	// Free it: the monitor reports the drop back.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	evs, err = mon.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	back := false
	for _, e := range evs {
		back = back || (e.Scope == ScopeDisk && e.To < LevelCritical)
	}
	if !back {
		t.Fatalf("no recovery event: %v", evs)
	}

	// Read-only filesystem.
	if err := unix.Mount("", mnt, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount ro: %v", err)
	}
	h, err = m.Health(ctx, "chunks")
	if err != nil {
		t.Fatal(err)
	}
	if !h.ReadOnlyFS || h.Writable || h.Status != LevelCritical {
		t.Fatalf("read-only health: %+v", h)
	}
	if r := m.CheckVolume(ctx, "chunks"); r.Status != health.Down || r.Details["read_only"] != true {
		t.Fatalf("read-only CheckVolume: %+v", r)
	}
	if r := m.Check(ctx); r.Status != health.Down || r.Details["chunks.status"] != "down" {
		t.Fatalf("read-only Check: %+v", r)
	}
	if err := unix.Mount("", mnt, "", unix.MS_REMOUNT, ""); err != nil {
		t.Fatalf("remount rw: %v", err)
	}
}

func TestLoopMigrateAcrossFilesystems(t *testing.T) {
	mnt := testenv.LoopFS(t, 16)
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "logs", lucidkeys.VolumeLogs, 0)
	if err != nil {
		t.Fatal(err)
	}
	makeTree(t, v.Path)
	// Too big for the target: the copy fails midway, the source stays.
	if err := os.WriteFile(filepath.Join(v.Path, "huge"), make([]byte, 20<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshotTree(t, v.Path)
	if _, err := m.Migrate(ctx, "logs", mnt, MigrateOptions{}); err == nil {
		t.Fatal("migrate onto a too-small disk succeeded")
	}
	if !equalMaps(before, snapshotTree(t, v.Path)) {
		t.Fatal("source changed")
	}
	if ents, _ := os.ReadDir(mnt); len(ents) > 1 { // lost+found only
		t.Fatalf("leftovers on the target: %v", ents)
	}
	if err := os.Remove(filepath.Join(v.Path, "huge")); err != nil {
		t.Fatal(err)
	}
	nv, err := m.Migrate(ctx, "logs", mnt, MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(filepath.Join(nv.Path, "a", "data.bin"))
	b, _ := os.Stat(filepath.Join(nv.Path, "hardlink.bin"))
	if !os.SameFile(a, b) {
		t.Fatal("hard link lost across filesystems")
	}
}

func TestLoopHardQuota(t *testing.T) {
	// Loop mounts themselves must work (a failure under
	// LUCID_REQUIRE_SERVERS=1); project quotas also need a kernel built with
	// CONFIG_QUOTA and CONFIG_QFMT_V2, which is a property of the host: the
	// test skips, saying so, where it is missing.
	mnt := testenv.LoopFS(t, 32)
	if err := unix.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(filepath.Dir(mnt), "fs.img")
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-O", "quota,project", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4 -O quota,project: %v: %s", err, out)
	}
	ctx := context.Background()
	if out, err := exec.Command("mount", "-o", "loop,prjquota", img, mnt).CombinedOutput(); err != nil {
		// This kernel cannot enforce project quotas at all (no CONFIG_QFMT_V2):
		// then the honest answer on an ordinary ext4 is ErrUnsupported, which
		// is what this host can test.
		msg, _ := exec.Command("dmesg").Output()
		lines := strings.Split(strings.TrimSpace(string(msg)), "\n")
		t.Logf("kernel refuses an ext4 with project quotas: %v: %s (dmesg: %s); testing the ErrUnsupported path",
			err, strings.TrimSpace(string(out)), lines[len(lines)-1])
		plain := testenv.LoopFS(t, 16)
		m, err := New(Config{Root: filepath.Join(plain, "data")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Create(ctx, "backups", lucidkeys.VolumeBackups, 0); err != nil {
			t.Fatal(err)
		}
		if err := m.SetHardQuota(ctx, "backups", 2<<20); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("SetHardQuota without project quotas: %v, want ErrUnsupported", err)
		}
		// The monitor's quota accounting probe says the same, and ticks
		// fall back to walks rather than invent a figure.
		dir, _ := m.Path("backups")
		if _, _, err := projectUsage(ctx, dir); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("projectUsage without project quotas: %v, want ErrUnsupported", err)
		}
		return
	}
	m, err := New(Config{Root: filepath.Join(mnt, "data")})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Create(ctx, "backups", lucidkeys.VolumeBackups, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetHardQuota(ctx, "backups", 2<<20); err != nil {
		t.Fatalf("set hard quota: %v", err)
	}
	err = os.WriteFile(filepath.Join(v.Path, "big"), make([]byte, 4<<20), 0o644)
	if err == nil {
		f, _ := os.OpenFile(filepath.Join(v.Path, "big"), os.O_RDWR, 0)
		err = f.Sync()
		f.Close()
	}
	if !errors.Is(err, unix.EDQUOT) {
		t.Fatalf("write past the hard quota: %v, want EDQUOT", err)
	}
	if b, _, err := projectUsage(ctx, v.Path); err != nil || b < 1<<20 {
		t.Fatalf("project quota usage: %d bytes, %v", b, err)
	}
}
