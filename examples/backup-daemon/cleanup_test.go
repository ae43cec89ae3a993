package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/system"
	"github.com/HamiGames/lucid-data/backup/volumepart"
)

// TestCleanup writes a backup of 40 days ago and two of today into the
// daemon's target: -cleanup plans the old one's removal
// (BACKUP_RETENTION_DAYS 30) and deletes nothing, -cleanup -yes deletes it
// and only it. The one-shot commands of a volume-only set need no server.
func TestCleanup(t *testing.T) {
	dir, vols := t.TempDir(), t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(key, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{system.EnvDir: dir, system.EnvIdentity: key, system.EnvParts: "volume", system.EnvRetentionDays: "30",
		system.EnvEncryption: "", system.EnvStorageType: "", system.EnvRecipients: "", system.EnvPassphrase: "", "LUCID_VOLUME_ROOT": vols} {
		t.Setenv(k, v)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ago := range []time.Duration{40 * 24 * time.Hour, time.Hour, time.Minute} {
		m, err := backup.NewLocal(dir, backup.Config{Recipients: []age.Recipient{id.Recipient()},
			Now: func() time.Time { return time.Now().Add(-ago) }})
		if err != nil {
			t.Fatal(err)
		}
		man, err := m.Backup(context.Background(), []backup.Part{volumepart.Part("volume-data", src)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, man.ID)
	}
	var plan struct {
		DryRun bool `json:"dry_run"`
		Plan   struct {
			Keep, Remove []struct{ ID string }
		} `json:"plan"`
		Deleted []string `json:"deleted"`
	}
	oneShot(t, &plan, "-cleanup")
	if !plan.DryRun || len(plan.Plan.Remove) != 1 || plan.Plan.Remove[0].ID != ids[0] || len(plan.Plan.Keep) != 2 || len(plan.Deleted) != 0 {
		t.Fatalf("-cleanup: %+v", plan)
	}
	var list []*backup.Manifest
	oneShot(t, &list, "-list")
	if len(list) != 3 {
		t.Fatalf("the dry run deleted something: %d backups left", len(list))
	}
	oneShot(t, &plan, "-cleanup", "-yes")
	if plan.DryRun || len(plan.Deleted) != 1 || plan.Deleted[0] != ids[0] {
		t.Fatalf("-cleanup -yes: %+v", plan)
	}
	list = nil
	oneShot(t, &list, "-list")
	if len(list) != 2 || list[0].ID != ids[1] || list[1].ID != ids[2] {
		t.Fatalf("after cleanup: %+v", list)
	}
}
