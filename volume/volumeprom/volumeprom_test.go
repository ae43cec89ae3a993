package volumeprom_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/volume"
	"github.com/HamiGames/lucid-data/volume/volumeprom"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCollector fills a volume past its warning threshold, polls, and
// gathers: every metric is there with the volume's labels and the values
// of Monitor.Last.
func TestCollector(t *testing.T) {
	ctx := context.Background()
	vols, err := volume.New(volume.Config{Root: filepath.Join(t.TempDir(), "data")})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vols.Create(ctx, "redis", lucidkeys.VolumeRedis, 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "dump.rdb"), make([]byte, 85<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	mon := vols.NewMonitor(volume.MonitorOptions{Interval: time.Hour, OnEvent: func(volume.Event) {}})
	defer mon.Close()
	reg := prometheus.NewRegistry()
	if err := reg.Register(volumeprom.NewCollector(mon)); err != nil {
		t.Fatal(err)
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 0 {
		t.Fatalf("before the first round: %d families, %v", len(mfs), err)
	}
	if _, err := mon.Walk(ctx); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			name := mf.GetName()
			labels := map[string]string{}
			for _, lp := range mt.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["volume"] != "redis" || labels["type"] != string(lucidkeys.VolumeRedis) {
				t.Errorf("%s labels %v", name, labels)
			}
			if s := labels["scope"]; s != "" {
				name += "/" + s
			}
			vals[name] = mt.GetGauge().GetValue()
		}
	}
	want := []string{"lucid_volume_used_bytes", "lucid_volume_allocated_bytes", "lucid_volume_files", "lucid_volume_quota_bytes",
		"lucid_volume_usage_ratio", "lucid_volume_fs_size_bytes", "lucid_volume_fs_free_bytes", "lucid_volume_fs_available_bytes",
		"lucid_volume_fs_inodes_free", "lucid_volume_level/quota", "lucid_volume_level/disk", "lucid_volume_last_check_timestamp_seconds",
		"lucid_volume_usage_measured_timestamp_seconds"}
	for _, w := range want {
		if _, ok := vals[w]; !ok {
			t.Errorf("no %s among %v", w, vals)
		}
	}
	if vals["lucid_volume_quota_bytes"] != 100<<10 || vals["lucid_volume_used_bytes"] < 85<<10 || vals["lucid_volume_files"] != 1 ||
		vals["lucid_volume_level/quota"] != float64(volume.LevelWarning) || vals["lucid_volume_fs_available_bytes"] <= 0 {
		t.Fatalf("metrics %v", vals)
	}
}
