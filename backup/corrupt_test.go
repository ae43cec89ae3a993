package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/errkind"
)

// The corruption matrix: each damage is found by Verify and by Restore,
// with the Corrupt kind (the key kind for a wrong key) and the part named.
func TestCorruptionMatrix(t *testing.T) {
	ctx := context.Background()
	id := newIdentity(t)
	for _, comp := range []backup.Compression{backup.Zstd, backup.Gzip, backup.None} {
		for _, tc := range []struct {
			name    string
			damage  func(t *testing.T, dir string, man *backup.Manifest)
			kind    errkind.Kind
			wantErr error
		}{
			{"flipped byte in the payload", func(t *testing.T, dir string, man *backup.Manifest) {
				flip(t, objPath(dir, man, "data"), 0.6)
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"flipped byte in the age header", func(t *testing.T, dir string, man *backup.Manifest) {
				flip(t, objPath(dir, man, "data"), 0.0001)
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"flipped last byte", func(t *testing.T, dir string, man *backup.Manifest) {
				flip(t, objPath(dir, man, "data"), 1)
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"truncated", func(t *testing.T, dir string, man *backup.Manifest) {
				p := objPath(dir, man, "data")
				fi, _ := os.Stat(p)
				if err := os.Truncate(p, fi.Size()/2); err != nil {
					t.Fatal(err)
				}
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"missing part", func(t *testing.T, dir string, man *backup.Manifest) {
				if err := os.Remove(objPath(dir, man, "data")); err != nil {
					t.Fatal(err)
				}
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"edited manifest record count", func(t *testing.T, dir string, man *backup.Manifest) {
				editManifest(t, dir, man, func(m map[string]any) {
					m["parts"].([]any)[1].(map[string]any)["records"] = 4999
				})
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"edited manifest, checksum recomputed", func(t *testing.T, dir string, man *backup.Manifest) {
				// Someone who edits the count and fixes the checksum is
				// still caught by the parse pass's count.
				m2 := *man
				m2.Parts = append([]backup.PartManifest(nil), man.Parts...)
				m2.Parts[1].Records = 4999
				m2.Parts[1].Counts = map[string]int64{"lines": 4999}
				b, err := backup.MarshalManifest(&m2)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, man.ID, backup.ManifestName), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"manifest not JSON", func(t *testing.T, dir string, man *backup.Manifest) {
				if err := os.WriteFile(filepath.Join(dir, man.ID, backup.ManifestName), []byte("{\"format\":"), 0o600); err != nil {
					t.Fatal(err)
				}
			}, errkind.DataLoss, backup.ErrCorrupt},
			{"wrong key", nil, errkind.PermissionDenied, backup.ErrKey},
		} {
			t.Run(string(comp)+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				cfg := backup.Config{Compression: comp, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}, Checkers: checkers()}
				m, err := backup.NewLocal(dir, cfg)
				if err != nil {
					t.Fatal(err)
				}
				man, err := m.Backup(ctx, []backup.Part{
					{Name: "other", Source: &linesSource{n: 10, seed: 9}},
					{Name: "data", Source: &linesSource{n: 5000, seed: 1}},
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				reader := m
				if tc.damage != nil {
					tc.damage(t, dir, man)
				} else {
					other := newIdentity(t)
					cfg.Identities = []age.Identity{other}
					if reader, err = backup.NewLocal(dir, cfg); err != nil {
						t.Fatal(err)
					}
				}
				_, verr := reader.Verify(ctx, man.ID)
				_, rerr := reader.Restore(ctx, man.ID, "data", &bufRestorer{})
				for what, err := range map[string]error{"verify": verr, "restore": rerr} {
					if !errors.Is(err, tc.wantErr) || errkind.Of(err) != tc.kind {
						t.Fatalf("%s: %v (kind %v), want %v", what, err, errkind.Of(err), tc.kind)
					}
					wantPart := `part "data"`
					if tc.damage == nil && what == "verify" {
						wantPart = `part "other"` // the first part Verify reads
					}
					if !strings.Contains(tc.name, "manifest") && !strings.Contains(err.Error(), wantPart) {
						t.Fatalf("%s: %v does not name the part", what, err)
					}
					if !strings.Contains(err.Error(), man.ID) {
						t.Fatalf("%s: %v does not name the backup", what, err)
					}
				}
				if tc.damage == nil {
					// The checksums still pass without a key.
					if _, err := reader.VerifyChecksums(ctx, man.ID); err != nil {
						t.Fatalf("checksums with a wrong key: %v", err)
					}
				}
			})
		}
	}
}

func objPath(dir string, man *backup.Manifest, part string) string {
	p, _ := man.Part(part)
	return filepath.Join(dir, man.ID, p.Object)
}

// flip inverts one byte at the relative position at (0..1) of the file.
func flip(t *testing.T, path string, at float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := int(float64(len(b)-1) * at)
	b[i] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func editManifest(t *testing.T, dir string, man *backup.Manifest, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, man.ID, backup.ManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Passphrases and identities never reach manifests, logs or errors.
func TestSecretsStayOut(t *testing.T) {
	ctx := context.Background()
	const pass = "hunter2-secret-passphrase-0000"
	id := newIdentity(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	m, err := backup.NewLocal(dir, backup.Config{Passphrase: pass, ScryptWorkFactor: 10, Identities: []age.Identity{id}, Logger: log, Checkers: checkers()})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("config", "cfg", backup.Config{Passphrase: pass, Identities: []age.Identity{id}})
	man, err := m.Backup(ctx, []backup.Part{{Name: "data", Source: &linesSource{n: 100}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	_, err = m.Backup(ctx, []backup.Part{{Name: "data", Source: &linesSource{n: 100000, failAfter: 100}}}, nil)
	errs = append(errs, err.Error())
	wrong, _ := backup.NewLocal(dir, backup.Config{Passphrase: "other", Logger: log, Checkers: checkers()})
	_, err = wrong.Verify(ctx, man.ID)
	if !errors.Is(err, backup.ErrKey) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	errs = append(errs, err.Error())
	flip(t, objPath(dir, man, "data"), 0.5)
	_, err = m.Verify(ctx, man.ID)
	errs = append(errs, err.Error())
	mb, _ := os.ReadFile(filepath.Join(dir, man.ID, backup.ManifestName))
	all := string(mb) + logs.String() + strings.Join(errs, "\n")
	for _, secret := range []string{pass, id.String(), "AGE-SECRET-KEY"} {
		if strings.Contains(all, secret) {
			t.Fatalf("secret %q leaked:\n%s", secret[:10], all)
		}
	}
	if !strings.Contains(string(mb), `"recipients": "scrypt"`) {
		t.Fatalf("manifest does not record the recipient kind:\n%s", mb)
	}
}
