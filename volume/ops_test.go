package volume

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

func TestSnapshotRestore(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "sessions", lucidkeys.VolumeSessions, 0)
	if err != nil {
		t.Fatal(err)
	}
	makeTree(t, v.Path)
	orig := snapshotTree(t, v.Path)
	snapDir := filepath.Join(t.TempDir(), "snaps")
	path, err := m.Snapshot(ctx, "sessions", snapDir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(path), "sessions-") || !strings.HasSuffix(path, ".tar") {
		t.Fatalf("snapshot name %s", path)
	}
	// Change the volume, then restore.
	if err := os.RemoveAll(filepath.Join(v.Path, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Restore(ctx, path, "sessions"); err != nil {
		t.Fatal(err)
	}
	got := snapshotTree(t, v.Path)
	for k, want := range orig {
		if k == "." || strings.HasPrefix(k, reservedPrefix) {
			continue
		}
		if got[k] != want {
			t.Errorf("%s: %q want %q", k, got[k], want)
		}
	}
	if _, ok := got["new.txt"]; ok {
		t.Error("file added after the snapshot survived the restore")
	}
	if vv, err := m.Get(ctx, "sessions"); err != nil || vv.Created != v.Created {
		t.Fatalf("metadata after restore: %+v %v", vv, err)
	}
	ents, _ := os.ReadDir(m.Root())
	if len(ents) != 1 {
		t.Fatalf("root holds leftovers: %v", ents)
	}

	// A hostile or failing restore leaves the volume as it was.
	before := snapshotTree(t, v.Path)
	bad := makeTar(t, entry{name: "ok.txt", typ: '0', body: "x"}, entry{name: "../evil", typ: '0', body: "x"})
	if err := m.RestoreFrom(ctx, bytes.NewReader(bad), "sessions"); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("hostile restore: %v", err)
	}
	m.testHookAfterCopy = func() error { return errors.New("power cut") }
	if err := m.Restore(ctx, path, "sessions"); err == nil {
		t.Fatal("hooked restore succeeded")
	}
	m.testHookAfterCopy = nil
	if !equalMaps(before, snapshotTree(t, v.Path)) {
		t.Fatal("failed restore changed the volume")
	}
	if ents, _ := os.ReadDir(m.Root()); len(ents) != 1 {
		t.Fatalf("failed restore left %v", ents)
	}
	if err := m.Restore(ctx, path, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore into a missing volume: %v", err)
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "blocks", lucidkeys.VolumeBlocks, 5<<30)
	if err != nil {
		t.Fatal(err)
	}
	makeTree(t, v.Path)
	before := snapshotTree(t, v.Path)
	newRoot := filepath.Join(t.TempDir(), "newdisk")

	// Interrupted midway: the source stays, nothing is left at the target.
	m.testHookAfterCopy = func() error { return errors.New("interrupted") }
	if _, err := m.Migrate(ctx, "blocks", newRoot, MigrateOptions{}); err == nil {
		t.Fatal("interrupted migrate succeeded")
	}
	// A source changed during the copy fails verification.
	m.testHookAfterCopy = func() error {
		return os.WriteFile(filepath.Join(v.Path, "top.txt"), []byte("changed!"), 0o644)
	}
	if _, err := m.Migrate(ctx, "blocks", newRoot, MigrateOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("changed source: %v", err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "top.txt"), []byte("hello volume\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	_ = os.Chtimes(filepath.Join(v.Path, "top.txt"), old, old)
	// Cancelled.
	cctx, cancel := context.WithCancel(ctx)
	m.testHookAfterCopy = func() error { cancel(); return nil }
	if _, err := m.Migrate(cctx, "blocks", newRoot, MigrateOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled migrate: %v", err)
	}
	m.testHookAfterCopy = nil
	if !equalMaps(before, snapshotTree(t, v.Path)) {
		t.Fatal("source changed by failed migrations")
	}
	if ents, _ := os.ReadDir(newRoot); len(ents) != 0 {
		t.Fatalf("target holds leftovers: %v", ents)
	}

	nv, err := m.Migrate(ctx, "blocks", newRoot, MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nv.Path != filepath.Join(newRoot, "blocks") || nv.Quota != 5<<30 {
		t.Fatalf("migrated %+v", nv)
	}
	if _, err := m.Get(ctx, "blocks"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("source still there: %v", err)
	}
	m2, err := New(Config{Root: newRoot})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m2.Get(ctx, "blocks")
	if err != nil || got.Created != v.Created {
		t.Fatalf("at new root: %+v %v", got, err)
	}
	after := snapshotTree(t, nv.Path)
	for k, want := range before {
		if k != "." && !strings.HasPrefix(k, reservedPrefix) && after[k] != want {
			t.Errorf("%s differs after migration", k)
		}
	}
	if _, err := m2.Migrate(ctx, "blocks", m2.Root(), MigrateOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("migrate onto itself: %v", err)
	}
	// KeepSource copies.
	if _, err := m2.Migrate(ctx, "blocks", m.Root(), MigrateOptions{KeepSource: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Get(ctx, "blocks"); err != nil {
		t.Fatalf("kept source: %v", err)
	}
	if _, err := m2.Migrate(ctx, "blocks", m.Root(), MigrateOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("target exists: %v", err)
	}
}

func TestIntegrity(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "merkle", lucidkeys.VolumeMerkle, 0)
	if err != nil {
		t.Fatal(err)
	}
	makeTree(t, v.Path)
	if _, err := m.VerifyIntegrity(ctx, "merkle"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("verify without manifest: %v", err)
	}
	man, err := m.CreateManifest(ctx, "merkle")
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Entries) != 11 || man.Algorithm != "sha256" {
		t.Fatalf("manifest has %d entries", len(man.Entries))
	}
	rep, err := m.VerifyIntegrity(ctx, "merkle")
	if err != nil || !rep.OK() || rep.Checked != 11 {
		t.Fatalf("clean verify: %+v %v", rep, err)
	}
	// Change one file (same size), remove one, add one, chmod one.
	if err := os.WriteFile(filepath.Join(v.Path, "a", "b", "c", "deep.txt"), []byte("DEEP"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(v.Path, "top.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "added"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(v.Path, "a", "b", "script.sh"), 0o700); err != nil {
		t.Fatal(err)
	}
	rep, err = m.VerifyIntegrity(ctx, "merkle")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(rep.Changed)
	if rep.OK() || strings.Join(rep.Added, ",") != "added" || strings.Join(rep.Removed, ",") != "top.txt" ||
		strings.Join(rep.Changed, ",") != "a/b/c/deep.txt,a/b/script.sh" {
		t.Fatalf("report %+v", rep)
	}
	// Round trip through JSON.
	var buf bytes.Buffer
	if _, err := man.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadManifest(&buf)
	if err != nil || len(back.Entries) != len(man.Entries) {
		t.Fatalf("read back: %v", err)
	}
	if _, err := ReadManifest(strings.NewReader("{nope")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad manifest: %v", err)
	}
}

func TestCleanup(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "logs", lucidkeys.VolumeLogs, 0)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	files := map[string]time.Time{
		"fresh.tmp":       time.Now(),
		"stale.tmp":       old,
		"sub/upload.part": old,
		"sub/x.partial":   old,
		"app.log":         time.Now(),
		"app.1.log":       old,
		"archive/old.log": old,
		"keep.txt":        old,
	}
	for name, mt := range files {
		p := filepath.Join(v.Path, filepath.FromSlash(name))
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	opts := CleanupOptions{Glob: "*.log", OlderThan: 24 * time.Hour, DryRun: true}
	res, err := m.Cleanup(ctx, "logs", opts)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(res.Removed)
	want := "app.1.log,archive/old.log,stale.tmp,sub/x.partial"
	if strings.Join(res.Removed, ",") != want || res.Bytes != 20 {
		t.Fatalf("dry run: %+v", res)
	}
	if _, err := os.Stat(filepath.Join(v.Path, "stale.tmp")); err != nil {
		t.Fatal("dry run removed a file")
	}
	opts.DryRun = false
	if res, err = m.Cleanup(ctx, "logs", opts); err != nil || len(res.Removed) != 4 {
		t.Fatalf("cleanup: %+v %v", res, err)
	}
	for _, keep := range []string{"fresh.tmp", "app.log", "keep.txt", "sub/upload.part", MetadataFile} {
		if _, err := os.Stat(filepath.Join(v.Path, keep)); err != nil {
			t.Errorf("%s removed", keep)
		}
	}
	if _, err := m.Cleanup(ctx, "logs", CleanupOptions{Glob: "[", OlderThan: time.Hour}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad glob: %v", err)
	}
}

func TestMonitorEvents(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "redis", lucidkeys.VolumeRedis, 100<<10) // 100 KiB
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []Event
	mon := m.NewMonitor(MonitorOptions{Interval: time.Hour, OnEvent: func(e Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}})
	defer mon.Close()
	write := func(n int) {
		if err := os.WriteFile(filepath.Join(v.Path, "dump.rdb"), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	step := func(n int, want ...Level) {
		t.Helper()
		write(n)
		evs, err := mon.Walk(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var quota []Level
		for _, e := range evs {
			if e.Scope == ScopeQuota {
				quota = append(quota, e.To)
			}
		}
		if len(quota) != len(want) || (len(want) == 1 && quota[0] != want[0]) {
			t.Fatalf("after writing %d: events %v, want %v", n, evs, want)
		}
	}
	step(10 << 10)               // 10 %: nothing
	step(85<<10, LevelWarning)   // crosses 80 %
	step(86 << 10)               // still warning: no event
	step(120<<10, LevelCritical) // past the quota
	step(90<<10, LevelWarning)   // back under the quota
	step(1<<10, LevelOK)         // back under the warning
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n < 4 {
		t.Fatalf("callback got %d events", n)
	}

	// The last measurement, as exporters (volumeprom) read it.
	last := mon.Last()
	if len(last) != 1 || last[0].Volume.Name != "redis" || last[0].Volume.Quota != 100<<10 || last[0].Usage.Bytes < 1<<10 ||
		last[0].Usage.FS.Available == 0 || last[0].Quota != LevelOK || last[0].Checked.IsZero() {
		t.Fatalf("Last %+v", last)
	}
}

func TestMonitorChannelStartStop(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "elasticsearch", lucidkeys.VolumeElasticsearch, 10<<10)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "seg"), make([]byte, 20<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	mon := m.NewMonitor(MonitorOptions{Interval: 10 * time.Millisecond, Volumes: []string{"elasticsearch"}})
	mon.Start(ctx)
	mon.Start(ctx) // no second goroutine
	select {
	case e := <-mon.Events():
		if e.Volume != "elasticsearch" || e.Scope != ScopeQuota || e.To != LevelCritical || !strings.Contains(e.String(), "critical") {
			t.Fatalf("event %v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	mon.Close()
	mon.Close()
	for range mon.Events() { // closed by Stop
	}
	if _, err := mon.Walk(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("check after stop: %v", err)
	}
	// Stop without Start, and a monitor whose reader is gone.
	m.NewMonitor(MonitorOptions{}).Close()
	blocked := m.NewMonitor(MonitorOptions{Interval: time.Millisecond, Buffer: 1})
	blocked.Start(ctx)
	time.Sleep(20 * time.Millisecond)
	blocked.Close()
}

func TestHealth(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "mongodb", lucidkeys.VolumeMongoDB, 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Health(ctx, "mongodb")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Exists || !r.Writable || r.ReadOnlyFS || r.ProbeTime <= 0 || r.FS.Total == 0 {
		t.Fatalf("report %+v", r)
	}
	if r.QuotaLevel != LevelOK {
		t.Fatalf("quota level %v", r.QuotaLevel)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "big"), make([]byte, 200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = m.Health(ctx, "mongodb")
	if err != nil || r.QuotaLevel != LevelCritical || r.Status != LevelCritical || r.Healthy() || len(r.Problems) == 0 {
		t.Fatalf("over quota: %+v %v", r, err)
	}
	r, err = m.Health(ctx, "nope")
	if err != nil || r.Exists || r.Status != LevelCritical {
		t.Fatalf("missing: %+v %v", r, err)
	}
	if _, err := m.Health(ctx, "../x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	// No probe file left behind.
	ents, _ := os.ReadDir(v.Path)
	for _, e := range ents {
		if strings.Contains(e.Name(), "probe") {
			t.Fatalf("probe left: %s", e.Name())
		}
	}
}

func TestPerformance(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	if _, err := m.Create(ctx, "chunks", lucidkeys.VolumeChunks, 0); err != nil {
		t.Fatal(err)
	}
	p, err := m.Performance(ctx, "chunks", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if p.FsyncLatency <= 0 || p.Interval < 50*time.Millisecond {
		t.Fatalf("perf %+v", p)
	}
	if p.DeviceErr != nil {
		t.Logf("device statistics unavailable here: %v", p.DeviceErr)
		if !errors.Is(p.DeviceErr, ErrUnsupported) {
			t.Fatalf("device error %v does not wrap ErrUnsupported", p.DeviceErr)
		}
	} else if p.Device == "" {
		t.Fatal("no device name")
	}
	// tmpfs has no block device: a clear ErrUnsupported, the probe still runs.
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "lucid-volume-test-")
		if err == nil {
			defer os.RemoveAll(dir)
			p, err := DirPerformance(ctx, dir, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(p.DeviceErr, ErrUnsupported) || p.FsyncLatency <= 0 {
				t.Fatalf("tmpfs: %+v", p)
			}
			if err := m.Defragment(ctx, "chunks"); err != nil && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("defragment: %v", err)
			}
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Performance(cctx, "chunks", time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
