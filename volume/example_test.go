package volume_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/volume"
)

func ExampleManager() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "lucid-volumes-")
	defer os.RemoveAll(root)

	m, err := volume.New(volume.Config{Root: root}) // zero fields: the defaults
	if err != nil {
		panic(err)
	}
	quota, _ := volume.ParseSize("1G")
	v, err := m.Create(ctx, "mongodb", lucidkeys.VolumeMongoDB, quota)
	if err != nil {
		panic(err)
	}
	_ = os.WriteFile(filepath.Join(v.Path, "collection-0.wt"), make([]byte, 4096), 0o644)

	u, _ := m.Usage(ctx, "mongodb")
	fmt.Println(v.Name, v.Type, volume.FormatSize(v.Quota), u.Files, "file")

	err = m.Delete(ctx, "mongodb", false)
	fmt.Println(errors.Is(err, volume.ErrNotEmpty))
	// Output:
	// mongodb mongodb 1G 1 file
	// true
}

func ExampleManager_Reserve() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "lucid-volumes-")
	defer os.RemoveAll(root)
	m, _ := volume.New(volume.Config{Root: root})
	_, _ = m.Create(ctx, "chunks", lucidkeys.VolumeChunks, 1<<20) // 1 MiB

	r, err := m.Reserve(ctx, "chunks", 512<<10)
	fmt.Println(err)
	// ... write the 512 KiB, then:
	defer r.Release()

	_, err = m.Reserve(ctx, "chunks", 768<<10)
	fmt.Println(errors.Is(err, volume.ErrQuotaExceeded))
	// Output:
	// <nil>
	// true
}

func ExampleMonitor() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "lucid-volumes-")
	defer os.RemoveAll(root)
	m, _ := volume.New(volume.Config{Root: root})
	v, _ := m.Create(ctx, "redis", lucidkeys.VolumeRedis, 100<<10) // 100 KiB

	mon := m.NewMonitor(volume.MonitorOptions{
		OnEvent: func(e volume.Event) { fmt.Println(e.Volume, e.Scope, e.From, "->", e.To) },
	})
	defer mon.Close()
	// mon.Start(ctx) checks every Interval; here one round at a time.
	_ = os.WriteFile(filepath.Join(v.Path, "dump.rdb"), make([]byte, 90<<10), 0o644)
	_, _ = mon.Walk(ctx)
	_ = os.WriteFile(filepath.Join(v.Path, "dump.rdb"), make([]byte, 10<<10), 0o644)
	_, _ = mon.Walk(ctx)
	// Output:
	// redis quota ok -> warning
	// redis quota warning -> ok
}

func ExampleExtract() {
	ctx := context.Background()
	src, _ := os.MkdirTemp("", "lucid-src-")
	dst, _ := os.MkdirTemp("", "lucid-dst-")
	defer os.RemoveAll(src)
	defer os.RemoveAll(dst)
	_ = os.WriteFile(filepath.Join(src, "block-1"), []byte("data"), 0o644)

	var stream bytes.Buffer // could be a gzip/zstd writer, an age encryptor...
	st, _ := volume.Archive(ctx, src, &stream)
	fmt.Println("archived", st.Files, "file,", st.Bytes, "bytes")

	xs, err := volume.Extract(ctx, &stream, dst, volume.ExtractOptions{MaxBytes: 1 << 30})
	fmt.Println("extracted", xs.Files, "file,", err)
	// Output:
	// archived 1 file, 4 bytes
	// extracted 1 file, <nil>
}

func ExampleManager_VerifyIntegrity() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "lucid-volumes-")
	defer os.RemoveAll(root)
	m, _ := volume.New(volume.Config{Root: root})
	v, _ := m.Create(ctx, "blocks", lucidkeys.VolumeBlocks, 0)
	_ = os.WriteFile(filepath.Join(v.Path, "000001.blk"), []byte("genesis"), 0o644)

	_, _ = m.CreateManifest(ctx, "blocks")
	_ = os.WriteFile(filepath.Join(v.Path, "000001.blk"), []byte("tampered"), 0o644)

	rep, _ := m.VerifyIntegrity(ctx, "blocks")
	fmt.Println(rep.OK(), rep.Changed)
	// Output:
	// false [000001.blk]
}

func ExampleParseSize() {
	n, _ := volume.ParseSize("10G")
	fmt.Println(n, volume.FormatSize(n))
	_, err := volume.ParseSize("ten gigs")
	fmt.Println(err)
	// Output:
	// 10737418240 10G
	// volume: size "ten gigs" does not start with a number (want e.g. "10G")
}

// A service holds the Manager interface and registers it with the health
// aggregator: a volume at its warning threshold makes readiness degraded
// (still 200), one at its quota or on a full or read-only disk down.
func ExampleManager_Check() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "lucid-volumes-")
	defer os.RemoveAll(root)

	type service struct{ vols volume.Manager }
	m, _ := volume.New(volume.Config{Root: root})
	svc := service{vols: m}
	v, _ := svc.vols.Create(ctx, "redis", lucidkeys.VolumeRedis, 100<<10)
	_ = os.WriteFile(filepath.Join(v.Path, "dump.rdb"), make([]byte, 85<<10), 0o644)
	_, _ = svc.vols.Usage(ctx, "redis") // a walk; a Monitor walks on its own schedule

	agg := health.NewAggregator(health.Options{})
	_ = agg.Register("volumes", svc.vols, health.CheckOptions{})
	s := agg.Check(ctx)
	fmt.Println(s.Status, s.Checks["volumes"].Details["redis.status"])
	// Output:
	// degraded degraded
}
