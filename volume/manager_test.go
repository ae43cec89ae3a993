package volume

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

func newTestManager(t *testing.T) *DirManager {
	t.Helper()
	m, err := newDirManager(Config{Root: filepath.Join(t.TempDir(), "data")})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCreateGetListResizeDelete(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)

	v, err := m.Create(ctx, "mongodb", lucidkeys.VolumeMongoDB, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Quota != lucidkeys.DefaultVolumeSize || v.Type != lucidkeys.VolumeMongoDB || v.Path != filepath.Join(m.Root(), "mongodb") {
		t.Fatalf("created %+v", v)
	}
	if _, err := m.Create(ctx, "mongodb", lucidkeys.VolumeMongoDB, 0); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	if _, err := m.Create(ctx, "redis-cache", lucidkeys.VolumeRedis, 1<<30); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, "mongodb")
	if err != nil || got.Name != "mongodb" || !got.Created.Equal(v.Created) {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := m.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	// A directory without metadata is not a volume.
	if err := os.Mkdir(filepath.Join(m.Root(), "stray"), 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "mongodb" || list[1].Name != "redis-cache" {
		t.Fatalf("list: %+v %v", list, err)
	}

	v, err = m.Resize(ctx, "mongodb", 20<<30)
	if err != nil || v.Quota != 20<<30 {
		t.Fatalf("resize: %+v %v", v, err)
	}
	if _, err := m.Resize(ctx, "mongodb", lucidkeys.MaxVolumeSize+1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("resize past max: %v", err)
	}
	if got, _ := m.Get(ctx, "mongodb"); got.Quota != 20<<30 {
		t.Fatalf("quota not persisted: %+v", got)
	}

	if err := os.WriteFile(filepath.Join(v.Path, "data.wt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "mongodb", false); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("delete non-empty: %v", err)
	}
	if err := m.Delete(ctx, "mongodb", true); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "redis-cache", false); err != nil {
		t.Fatalf("delete empty: %v", err)
	}
	if _, err := os.Stat(v.Path); !os.IsNotExist(err) {
		t.Fatalf("volume dir left: %v", err)
	}
	ents, _ := os.ReadDir(m.Root())
	for _, e := range ents {
		if strings.Contains(e.Name(), "deleting") {
			t.Fatalf("trash left: %s", e.Name())
		}
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	for _, tc := range []struct {
		name  string
		typ   lucidkeys.VolumeType
		quota int64
	}{
		{"../escape", lucidkeys.VolumeLogs, 0},
		{"UPPER", lucidkeys.VolumeLogs, 0},
		{"", lucidkeys.VolumeLogs, 0},
		{"ok", "nosuchtype", 0},
		{"ok", lucidkeys.VolumeLogs, -1},
		{"ok", lucidkeys.VolumeLogs, lucidkeys.MaxVolumeSize + 1},
	} {
		_, err := m.Create(ctx, tc.name, tc.typ, tc.quota)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(%q, %q, %d) = %v, want ErrInvalid", tc.name, tc.typ, tc.quota, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "volume: ") {
			t.Errorf("message %q does not start with volume: ", err)
		}
	}
	_, err := m.Create(ctx, "bad", "nosuchtype", 0)
	if !errors.Is(err, lucidkeys.ErrInvalid) {
		t.Errorf("cause not kept: %v", err)
	}
}

func TestCreateAdoptsExistingDirectory(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	dir := filepath.Join(m.Root(), "chunks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c1"), []byte("chunk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, "chunks", lucidkeys.VolumeChunks, 0); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "c1")); err != nil || string(b) != "chunk" {
		t.Fatalf("contents lost: %q %v", b, err)
	}
}

func TestCorruptMetadata(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t)
	v, err := m.Create(ctx, "logs", lucidkeys.VolumeLogs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, MetadataFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "logs"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("get corrupt: %v", err)
	}
	if _, err := m.List(ctx); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("list corrupt: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"10G": 10 << 30, "100G": 100 << 30, "512M": 512 << 20, "1.5G": 3 << 29, "4096": 4096,
		"10GiB": 10 << 30, "10gb": 10 << 30, " 2 T ": 2 << 40, "1K": 1024, "0": 0, "7B": 7, "0.5K": 512,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1G", "10X", "1.5", "1..5G", "99999999999P", "10 GG", "1e3"} {
		if _, err := ParseSize(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSize(%q) err = %v, want ErrInvalid", in, err)
		}
	}
	for _, n := range []int64{0, 1, 1000, 1024, 1536, 10 << 30, 3 << 29, 1<<62 + 7} {
		s := FormatSize(n)
		back, err := ParseSize(s)
		if err != nil || back != n {
			t.Errorf("FormatSize(%d) = %q -> %d, %v", n, s, back, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvRoot, "/srv/lucid")
	t.Setenv(EnvDefaultSize, "5G")
	t.Setenv(EnvMaxSize, "50G")
	t.Setenv(EnvWarningThreshold, "90")
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Root != "/srv/lucid" || c.DefaultQuota != 5<<30 || c.MaxQuota != 50<<30 || c.WarningPercent != 90 {
		t.Fatalf("%+v", c)
	}
	t.Setenv(EnvMaxSize, "lots")
	if _, err := FromEnv(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), EnvMaxSize) {
		t.Fatalf("bad size: %v", err)
	}
	t.Setenv(EnvMaxSize, "")
	t.Setenv(EnvWarningThreshold, "120")
	if _, err := FromEnv(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad threshold: %v", err)
	}
	if _, err := New(Config{DefaultQuota: 200 << 30}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("default above max: %v", err)
	}
}
