package volume

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// TestCheckReports grades volumes for the health aggregator: at the
// warning threshold a volume is Degraded, not Down; at its quota Down; the
// manager reports its worst volume with each one's details; no check walks.
func TestCheckReports(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	if r := m.Check(ctx); r.Status != health.Up || r.Details["volumes"] != 0 {
		t.Fatalf("no volumes: %+v", r)
	}
	a, err := m.Create(ctx, "redis", lucidkeys.VolumeRedis, 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, "logs", lucidkeys.VolumeLogs, 0); err != nil {
		t.Fatal(err)
	}
	write := func(n int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(a.Path, "dump.rdb"), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(95 << 10)
	// Never walked: the quota cannot be judged, and the check does not walk.
	r := m.CheckVolume(ctx, "redis")
	if r.Status != health.Up || r.Details["usage_source"] != usageUnknown || r.Details["writable"] != true {
		t.Fatalf("before any walk: %+v", r)
	}
	if _, err := m.Usage(ctx, "redis"); err != nil { // a walk: 95 % of the quota
		t.Fatal(err)
	}
	r = m.CheckVolume(ctx, "redis")
	if r.Status != health.Degraded || r.Err == nil || r.Details["usage_source"] != usageFromWalk || r.Details["usage_age_seconds"] == nil {
		t.Fatalf("at 95 %%: %+v", r)
	}
	all := m.Check(ctx)
	if all.Status != health.Degraded || all.Details["redis.status"] != "degraded" || all.Details["logs.status"] != "up" || all.Details["volumes"] != 2 {
		t.Fatalf("manager at 95 %%: %+v", all)
	}
	write(120 << 10)
	r = m.CheckVolume(ctx, "redis") // still the walk's figure
	if r.Status != health.Degraded {
		t.Fatalf("check walked: %+v", r)
	}
	if _, err := m.Usage(ctx, "redis"); err != nil {
		t.Fatal(err)
	}
	r = m.CheckVolume(ctx, "redis")
	if r.Status != health.Down || !errors.Is(r.Err, ErrQuotaExceeded) {
		t.Fatalf("past the quota: %+v", r)
	}
	if all := m.Check(ctx); all.Status != health.Down || !errors.Is(all.Err, ErrQuotaExceeded) {
		t.Fatalf("manager past the quota: %+v", all)
	}
	if r := m.CheckVolume(ctx, "missing"); r.Status != health.Down || !errors.Is(r.Err, ErrNotFound) {
		t.Fatalf("missing volume: %+v", r)
	}
	// The aggregator takes the manager as it is.
	agg := health.NewAggregator(health.Options{})
	if err := agg.Register("volumes", m, health.CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := agg.Check(ctx); s.Status != health.Down {
		t.Fatalf("aggregator: %+v", s)
	}
}

// TestMonitorTickDoesNotWalk: a tick judges the quota on the last walk and
// says so; only a walk sees new data (where there is no quota accounting,
// as on this test's filesystem).
func TestMonitorTickDoesNotWalk(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "redis", lucidkeys.VolumeRedis, 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := projectUsage(ctx, v.Path); !errors.Is(err, ErrUnsupported) {
		t.Skipf("the test directory has project quota accounting (%v)", err)
	}
	mon := m.NewMonitor(MonitorOptions{OnEvent: func(Event) {}})
	defer mon.Close()
	if evs, err := mon.Poll(ctx); err != nil || len(evs) != 0 {
		t.Fatalf("first tick: %v %v", evs, err)
	}
	mon.mu.Lock()
	s := mon.last["redis"]
	mon.mu.Unlock()
	if s.u.Source != usageUnknown || !s.u.Measured.IsZero() {
		t.Fatalf("tick before any walk: %+v", s.u)
	}
	if _, err := mon.Walk(ctx); err != nil {
		t.Fatal(err)
	}
	walked, _ := m.lastWalk("redis")
	if err := os.WriteFile(filepath.Join(v.Path, "dump.rdb"), make([]byte, 90<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, err := mon.Poll(ctx)
	if err != nil || len(evs) != 0 {
		t.Fatalf("tick after a write: %v %v (it walked?)", evs, err)
	}
	mon.mu.Lock()
	s = mon.last["redis"]
	mon.mu.Unlock()
	if s.u.Source != usageFromWalk || !s.u.Measured.Equal(walked.at) || s.u.FS.Total == 0 {
		t.Fatalf("tick sample: %+v", s.u)
	}
	evs, err = mon.Walk(ctx)
	if err != nil || len(evs) != 1 || evs[0].To != LevelWarning || evs[0].Usage.Source != usageFromWalk {
		t.Fatalf("walk after a write: %v %v", evs, err)
	}
}
