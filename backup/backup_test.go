package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/errkind"
)

func TestRoundTripLocal(t *testing.T) {
	ctx := context.Background()
	id := newIdentity(t)
	for _, tc := range []struct {
		name string
		cfg  backup.Config
	}{
		{"zstd1-age", backup.Config{Level: 1, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}}},
		{"zstd3-age", backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}}},
		{"zstd9-age-1core", backup.Config{Level: 9, Concurrency: 1, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}}},
		{"gzip-age", backup.Config{Compression: backup.Gzip, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}}},
		{"none-age", backup.Config{Compression: backup.None, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}}},
		{"zstd-plain", backup.Config{Plaintext: true}},
		{"gzip-passphrase", backup.Config{Compression: backup.Gzip, Passphrase: "correct horse battery staple", ScryptWorkFactor: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.cfg.Checkers = checkers()
			m, err := backup.NewLocal(dir, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			parts := []backup.Part{
				{Name: "big", Source: &linesSource{n: 50000, seed: 1}},
				{Name: "empty", Source: &linesSource{n: 0, seed: 2}},
				{Name: "tiny", Source: &linesSource{n: 1, seed: 3}},
			}
			man, err := m.Backup(ctx, parts, &backup.BackupOptions{Labels: map[string]string{"set": "test"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(man.Parts) != 3 || man.Parts[0].Records != 50000 || man.Parts[0].Plain.Size == 0 || man.Labels["set"] != "test" {
				t.Fatalf("manifest %+v", man)
			}
			rep, err := m.Verify(ctx, man.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Parts) != 3 || !rep.Parts[0].Parsed || rep.Parts[0].Stats.Records != 50000 {
				t.Fatalf("report %+v", rep)
			}
			var want bytes.Buffer
			if _, err := (&linesSource{n: 50000, seed: 1}).Stream(ctx, &want); err != nil {
				t.Fatal(err)
			}
			var got bufRestorer
			st, err := m.Restore(ctx, man.ID, "big", &got)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != 50000 || !bytes.Equal(got.buf.Bytes(), want.Bytes()) {
				t.Fatalf("restored %d records, %d bytes, want %d", st.Records, got.buf.Len(), want.Len())
			}
			list, err := m.List(ctx)
			if err != nil || len(list) != 1 || list[0].ID != man.ID {
				t.Fatalf("list %v %v", list, err)
			}
			if err := m.Delete(ctx, man.ID); err != nil {
				t.Fatal(err)
			}
			if list, err := m.List(ctx); err != nil || len(list) != 0 {
				t.Fatalf("list after delete %v %v", list, err)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Fatalf("left after delete: %v", ents)
			}
			if _, err := m.Open(ctx, man.ID); !errors.Is(err, backup.ErrNotFound) || errkind.Of(err) != errkind.NotFound {
				t.Fatalf("open deleted: %v", err)
			}
			if err := m.Delete(ctx, man.ID); !errors.Is(err, backup.ErrNotFound) {
				t.Fatalf("delete twice: %v", err)
			}
		})
	}
}

func TestConfigRefusesAmbiguousEncryption(t *testing.T) {
	dir := t.TempDir()
	id := newIdentity(t)
	for name, cfg := range map[string]backup.Config{
		"nothing":      {},
		"both":         {Recipients: []age.Recipient{id.Recipient()}, Passphrase: "x"},
		"bad level":    {Plaintext: true, Level: 23},
		"gzip level":   {Plaintext: true, Compression: backup.Gzip, Level: 10},
		"bad comp":     {Plaintext: true, Compression: "lz4"},
		"nil recip":    {Recipients: []age.Recipient{nil}},
		"work factor":  {Passphrase: "x", ScryptWorkFactor: 3},
		"none w/level": {Plaintext: true, Compression: backup.None, Level: 3},
	} {
		if _, err := backup.NewLocal(dir, cfg); !errors.Is(err, backup.ErrInvalid) || errkind.Of(err) != errkind.InvalidArgument {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// A failing or cancelled part leaves no manifest and no object; the list
// stays empty.
func TestFailedPartLeavesNothing(t *testing.T) {
	ctx := context.Background()
	id := newIdentity(t)
	dir := t.TempDir()
	m, err := backup.NewLocal(dir, backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	parts := []backup.Part{
		{Name: "first", Source: &linesSource{n: 1000, seed: 1}},
		{Name: "second", Source: &linesSource{n: 100000, seed: 2, failAfter: 1 << 20}},
	}
	_, err = m.Backup(ctx, parts, nil)
	if !errors.Is(err, errSource) || !strings.Contains(err.Error(), `part "second"`) {
		t.Fatalf("failed source: %v", err)
	}
	assertEmpty(t, m, dir)

	// Cancelled while the second part streams.
	cctx, cancel := context.WithCancel(ctx)
	block := make(chan struct{})
	parts[1].Source = &linesSource{n: 100000, seed: 2, block: block}
	done := make(chan error, 1)
	go func() { _, err := m.Backup(cctx, parts, nil); done <- err }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) || errkind.Of(err) != errkind.Canceled {
		t.Fatalf("cancelled: %v", err)
	}
	assertEmpty(t, m, dir)

	// A source that ignores ctx is stopped by its writes failing.
	cctx, cancel = context.WithCancel(ctx)
	cancel()
	_, err = m.Backup(cctx, []backup.Part{{Name: "x", Source: &linesSource{n: 1000000}}}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
	assertEmpty(t, m, dir)
}

func assertEmpty(t *testing.T, m *backup.Manager, dir string) {
	t.Helper()
	if l, err := m.List(context.Background()); err != nil || len(l) != 0 {
		t.Fatalf("list: %v %v", l, err)
	}
	var files []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

// A backup whose objects are there but whose manifest is not is never
// listed; the manifest is the last object written.
func TestListOnlyComplete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, err := backup.NewLocal(dir, backup.Config{Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	man, err := m.Backup(ctx, []backup.Part{{Name: "a", Source: &linesSource{n: 10}}, {Name: "b", Source: &linesSource{n: 10}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Order of writes: every part's mtime precedes the manifest's.
	mi, _ := os.Stat(filepath.Join(dir, man.ID, backup.ManifestName))
	for _, p := range man.Parts {
		pi, _ := os.Stat(filepath.Join(dir, man.ID, p.Object))
		if pi.ModTime().After(mi.ModTime()) {
			t.Fatalf("part %s written after the manifest", p.Name)
		}
	}
	// A crashed backup: objects, a temp file, no manifest.
	crashed := "20260101T000000Z-00000000"
	if err := os.MkdirAll(filepath.Join(dir, crashed), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, crashed, "a.txt.zst"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, crashed, ".tmp-manifest.json-1234"), []byte("{"), 0o600)
	l, err := m.List(ctx)
	if err != nil || len(l) != 1 || l[0].ID != man.ID {
		t.Fatalf("list %v %v", l, err)
	}
	if _, err := m.Open(ctx, crashed); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("open incomplete: %v", err)
	}
	if inc, err := m.Incomplete(ctx); err != nil || len(inc) != 1 || inc[0] != crashed {
		t.Fatalf("incomplete %v %v", inc, err)
	}
	// Delete cleans an incomplete backup too.
	if err := m.Delete(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, crashed)); !os.IsNotExist(err) {
		t.Fatalf("incomplete backup dir left: %v", err)
	}
}

func TestObjectsWrittenOnce(t *testing.T) {
	ctx := context.Background()
	s, err := backup.NewLocalSink(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	name := "20260101T000000Z-00000000/x.bin"
	w1, err := s.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := s.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	w1.Write([]byte("one"))
	w2.Write([]byte("two"))
	if l, _ := s.List(ctx, ""); len(l) != 0 {
		t.Fatalf("visible before commit: %v", l)
	}
	if err := w1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w2.Commit(); !errors.Is(err, backup.ErrExists) || errkind.Of(err) != errkind.AlreadyExists {
		t.Fatalf("second commit: %v", err)
	}
	if _, err := s.Create(ctx, name); !errors.Is(err, backup.ErrExists) {
		t.Fatalf("create existing: %v", err)
	}
	for _, bad := range []string{"../x", "20260101T000000Z-00000000/../../x", "20260101T000000Z-00000000/a/b", "x/y", "/etc/passwd"} {
		if _, err := s.Create(ctx, bad); !errors.Is(err, backup.ErrInvalid) {
			t.Fatalf("create %q: %v", bad, err)
		}
	}
	if l, _ := s.List(ctx, ""); len(l) != 1 {
		t.Fatalf("list %v", l)
	}
}

func TestClosed(t *testing.T) {
	m, err := backup.NewLocal(t.TempDir(), backup.Config{Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m.Close()
	if _, err := m.List(context.Background()); !errors.Is(err, backup.ErrClosed) || errkind.Of(err) != errkind.Closed {
		t.Fatalf("list after close: %v", err)
	}
}

// A caller's cancellation of Verify and Restore is reported as ctx's error.
func TestVerifyRestoreCancelled(t *testing.T) {
	dir := t.TempDir()
	m, err := backup.NewLocal(dir, backup.Config{Plaintext: true, Checkers: checkers()})
	if err != nil {
		t.Fatal(err)
	}
	man, err := m.Backup(context.Background(), []backup.Part{{Name: "d", Source: &linesSource{n: 10000}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Verify(ctx, man.ID); !errors.Is(err, context.Canceled) || errkind.Of(err) != errkind.Canceled {
		t.Fatalf("verify: %v", err)
	}
	if _, err := m.Restore(ctx, man.ID, "d", &bufRestorer{}); !errors.Is(err, context.Canceled) || errors.Is(err, backup.ErrCorrupt) {
		t.Fatalf("restore: %v", err)
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := m.Verify(dctx, man.ID); errkind.Of(err) != errkind.DeadlineExceeded {
		t.Fatalf("verify past deadline: %v", err)
	}
}

// The plaintext's SHA-256 is recorded only when asked (Config.PlainSHA256);
// either way Verify and Restore pass, a manifest without it parses, and a
// flipped byte is still found through the stored digest and age.
func TestPlainSHA256(t *testing.T) {
	ctx := context.Background()
	id := newIdentity(t)
	for _, on := range []bool{false, true} {
		for _, comp := range []backup.Compression{backup.Zstd, backup.Gzip, backup.None} {
			t.Run(fmt.Sprintf("%s-%v", comp, on), func(t *testing.T) {
				dir := t.TempDir()
				m, err := backup.NewLocal(dir, backup.Config{Compression: comp, PlainSHA256: on, Recipients: []age.Recipient{id.Recipient()},
					Identities: []age.Identity{id}, Checkers: checkers()})
				if err != nil {
					t.Fatal(err)
				}
				src := &linesSource{n: 20000, seed: 5}
				man, err := m.Backup(ctx, []backup.Part{{Name: "a", Source: src}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				if _, err := src.Stream(ctx, &want); err != nil {
					t.Fatal(err)
				}
				p := man.Parts[0]
				sum := sha256.Sum256(want.Bytes())
				if p.Plain.Size != int64(want.Len()) || (p.Plain.SHA256 == hex.EncodeToString(sum[:])) != on || (p.Plain.SHA256 == "") == on {
					t.Fatalf("plain digest %+v (on=%v)", p.Plain, on)
				}
				if _, err := m.Open(ctx, man.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := m.Verify(ctx, man.ID); err != nil {
					t.Fatal(err)
				}
				var got bufRestorer
				if _, err := m.Restore(ctx, man.ID, "a", &got); err != nil || !bytes.Equal(got.buf.Bytes(), want.Bytes()) {
					t.Fatalf("restore: %v, %d bytes", err, got.buf.Len())
				}
				flip(t, objPath(dir, man, "a"), 0.5)
				if _, err := m.Verify(ctx, man.ID); !errors.Is(err, backup.ErrCorrupt) {
					t.Fatalf("verify flipped: %v", err)
				}
			})
		}
	}
}
