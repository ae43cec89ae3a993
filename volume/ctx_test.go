package volume

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// TestContextErrors runs every call of the package that takes a ctx with a
// cancelled and an expired one: each must fail with the ctx's own error
// (errkind Canceled or DeadlineExceeded) and match no sentinel of the
// package, whatever it would otherwise have done.
func TestContextErrors(t *testing.T) {
	bg := context.Background()
	m := newTestManager(t)
	v, err := m.Create(bg, "chunks", lucidkeys.VolumeChunks, 0)
	if err != nil {
		t.Fatal(err)
	}
	makeTree(t, v.Path)
	var tarball bytes.Buffer
	if _, err := Archive(bg, v.Path, &tarball); err != nil {
		t.Fatal(err)
	}
	snapDir := t.TempDir()
	snap, err := m.Snapshot(bg, "chunks", snapDir)
	if err != nil {
		t.Fatal(err)
	}
	man, err := CreateManifest(bg, v.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	fresh := newTestManager(t) // its root does not exist yet
	mon := m.NewMonitor(MonitorOptions{OnEvent: func(Event) {}})
	defer mon.Close()

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Create", func(ctx context.Context) error {
			_, err := m.Create(ctx, "logs", lucidkeys.VolumeLogs, 0)
			return err
		}},
		{"Get", func(ctx context.Context) error { _, err := m.Get(ctx, "chunks"); return err }},
		{"List", func(ctx context.Context) error { _, err := m.List(ctx); return err }},
		{"List (no root yet)", func(ctx context.Context) error { _, err := fresh.List(ctx); return err }},
		{"Resize", func(ctx context.Context) error { _, err := m.Resize(ctx, "chunks", 1<<20); return err }},
		{"Delete", func(ctx context.Context) error { return m.Delete(ctx, "chunks", true) }},
		{"Usage", func(ctx context.Context) error { _, err := m.Usage(ctx, "chunks"); return err }},
		{"Health", func(ctx context.Context) error { _, err := m.Health(ctx, "chunks"); return err }},
		{"CheckSpace", func(ctx context.Context) error { return m.CheckSpace(ctx, "chunks", 1) }},
		{"Reserve", func(ctx context.Context) error { _, err := m.Reserve(ctx, "chunks", 1); return err }},
		{"Manager.Archive", func(ctx context.Context) error { _, err := m.Archive(ctx, "chunks", io.Discard); return err }},
		{"Archive", func(ctx context.Context) error { _, err := Archive(ctx, v.Path, io.Discard); return err }},
		{"Extract", func(ctx context.Context) error {
			_, err := Extract(ctx, bytes.NewReader(tarball.Bytes()), filepath.Join(t.TempDir(), "x"), ExtractOptions{})
			return err
		}},
		{"Snapshot", func(ctx context.Context) error { _, err := m.Snapshot(ctx, "chunks", t.TempDir()); return err }},
		{"Restore", func(ctx context.Context) error { return m.Restore(ctx, snap, "chunks") }},
		{"RestoreFrom", func(ctx context.Context) error {
			return m.RestoreFrom(ctx, bytes.NewReader(tarball.Bytes()), "chunks")
		}},
		{"Migrate", func(ctx context.Context) error {
			_, err := m.Migrate(ctx, "chunks", filepath.Join(t.TempDir(), "new"), MigrateOptions{})
			return err
		}},
		{"Manager.CreateManifest", func(ctx context.Context) error { _, err := m.CreateManifest(ctx, "chunks"); return err }},
		{"CreateManifest", func(ctx context.Context) error { _, err := CreateManifest(ctx, v.Path, 0); return err }},
		{"VerifyManifest", func(ctx context.Context) error { _, err := VerifyManifest(ctx, v.Path, man, 0); return err }},
		{"VerifyIntegrity", func(ctx context.Context) error { _, err := m.VerifyIntegrity(ctx, "chunks"); return err }},
		{"Cleanup", func(ctx context.Context) error { _, err := m.Cleanup(ctx, "chunks", CleanupOptions{}); return err }},
		{"CleanupDir", func(ctx context.Context) error { _, err := CleanupDir(ctx, v.Path, CleanupOptions{}); return err }},
		{"Defragment", func(ctx context.Context) error { return m.Defragment(ctx, "chunks") }},
		{"SetHardQuota", func(ctx context.Context) error { return m.SetHardQuota(ctx, "chunks", 1<<30) }},
		{"Performance", func(ctx context.Context) error { _, err := m.Performance(ctx, "chunks", time.Millisecond); return err }},
		{"DirPerformance", func(ctx context.Context) error { _, err := DirPerformance(ctx, v.Path, time.Millisecond); return err }},
		{"ScanDir", func(ctx context.Context) error { _, err := ScanDir(ctx, v.Path, 0); return err }},
		{"StatFS", func(ctx context.Context) error { _, err := StatFS(ctx, v.Path); return err }},
		{"Monitor.Poll", func(ctx context.Context) error { _, err := mon.Poll(ctx); return err }},
		{"Monitor.Walk", func(ctx context.Context) error { _, err := mon.Walk(ctx); return err }},
		{"CheckVolume", func(ctx context.Context) error { return m.CheckVolume(ctx, "chunks").Err }},
		{"Check", func(ctx context.Context) error { return m.Check(ctx).Err }},
	}
	sentinels := []error{ErrNotFound, ErrExists, ErrNotEmpty, ErrQuotaExceeded, ErrNoSpace, ErrInvalid, ErrUnsupported, ErrUnsafePath, ErrCorrupt, ErrClosed}
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	expired, cancel2 := context.WithDeadline(bg, time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range calls {
		for _, tc := range []struct {
			ctx  context.Context
			kind errkind.Kind
			want error
		}{{cancelled, errkind.Canceled, context.Canceled}, {expired, errkind.DeadlineExceeded, context.DeadlineExceeded}} {
			err := c.call(tc.ctx)
			if got := errkind.Of(err); got != tc.kind || !errors.Is(err, tc.want) {
				t.Errorf("%s with a %s ctx: kind %v, err %v; want %v", c.name, tc.kind, got, err, tc.want)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					t.Errorf("%s with a %s ctx: %v also matches %v", c.name, tc.kind, err, s)
				}
			}
		}
	}
	// Nothing was done by the refused calls.
	if _, err := m.Get(bg, "chunks"); err != nil {
		t.Fatalf("volume gone after refused calls: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.Root(), "logs")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Create with a dead ctx made the directory: %v", err)
	}
}

// TestSentinelKinds checks each sentinel's kind.
func TestSentinelKinds(t *testing.T) {
	for _, c := range []struct {
		err  error
		kind errkind.Kind
	}{
		{ErrNotFound, errkind.NotFound}, {ErrExists, errkind.AlreadyExists}, {ErrNotEmpty, errkind.FailedPrecondition},
		{ErrQuotaExceeded, errkind.ResourceExhausted}, {ErrNoSpace, errkind.ResourceExhausted},
		{ErrInvalid, errkind.InvalidArgument}, {ErrUnsafePath, errkind.InvalidArgument},
		{ErrUnsupported, errkind.Unimplemented}, {ErrCorrupt, errkind.DataLoss}, {ErrClosed, errkind.Closed},
	} {
		wrapped := newErr(c.err, "x")
		if errkind.Of(wrapped) != c.kind || !errors.Is(wrapped, c.kind) || !errors.Is(wrapped, c.err) {
			t.Errorf("%v: kind %v, want %v", c.err, errkind.Of(wrapped), c.kind)
		}
	}
	if _, err := New(Config{}); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t)
	if _, err := m.Get(context.Background(), "nope"); errkind.Of(err) != errkind.NotFound {
		t.Errorf("Get of a missing volume: kind %v (%v)", errkind.Of(err), err)
	}
	if _, err := m.Create(context.Background(), "Bad Name", lucidkeys.VolumeLogs, 0); errkind.Of(err) != errkind.InvalidArgument {
		t.Errorf("Create with a bad name: kind %v (%v)", errkind.Of(err), err)
	}
}
