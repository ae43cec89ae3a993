//go:build !lucidfuzz

package volumeprom_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/volume"
	"github.com/HamiGames/lucid-data/volume/volumeprom"
)

// TestIOCollector: two volumes on one loop-mounted ext4 and a write that is
// fsynced: the device is exported once, both volumes name it, and its
// written bytes grow by what was written.
func TestIOCollector(t *testing.T) {
	ctx := context.Background()
	mnt := testenv.LoopFS(t, 64)
	vols, err := volume.New(volume.Config{Root: filepath.Join(mnt, "data")})
	if err != nil {
		t.Fatal(err)
	}
	a, err := vols.Create(ctx, "chunks", lucidkeys.VolumeChunks, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vols.Create(ctx, "redis", lucidkeys.VolumeRedis, 16<<20); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(volumeprom.NewIOCollector(vols)); err != nil {
		t.Fatal(err)
	}
	gather := func() (written float64, infos map[string]string, devices int) {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		infos = map[string]string{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				switch mf.GetName() {
				case "lucid_volume_device_info":
					infos[l["volume"]] = l["device"]
				case "lucid_volume_device_written_bytes_total":
					written = m.GetCounter().GetValue()
					devices++
				}
			}
		}
		return written, infos, devices
	}
	before, infos, devices := gather()
	if devices != 1 || len(infos) != 2 || infos["chunks"] == "" || infos["chunks"] != infos["redis"] {
		t.Fatalf("devices %d, volumes to devices %v: want one device holding both", devices, infos)
	}
	f, err := os.Create(filepath.Join(a.Path, "blob"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	after, _, _ := gather()
	if after < before+4<<20 {
		t.Fatalf("written bytes %v -> %v after 4 MiB fsynced", before, after)
	}
}
