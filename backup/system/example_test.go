package system_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/system"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/volume"
)

// A set of the volumes of one host, restored into a scratch volume. With
// Mongo, Cache and Search set in Sources the same set holds their parts too.
func ExampleSystem_Restore() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "volumes")
	defer os.RemoveAll(root)
	vols, _ := volume.New(volume.Config{Root: root})
	v, _ := vols.Create(ctx, "chunks", lucidkeys.VolumeChunks, 0)
	_ = os.WriteFile(filepath.Join(v.Path, "c1"), []byte("chunk one"), 0o600)

	dir, _ := os.MkdirTemp("", "backups")
	defer os.RemoveAll(dir)
	// Real deployments encrypt: see FromEnv.
	m, err := backup.NewLocal(dir, backup.Config{Plaintext: true, Checkers: system.Checkers()})
	if err != nil {
		fmt.Println(err)
		return
	}
	sys, _ := system.New(m, system.Sources{Volumes: vols})
	man, err := sys.Backup(ctx, &backup.BackupOptions{Parallel: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range man.Parts {
		fmt.Println(p.Name, p.Kind, p.Meta[system.MetaVolume], man.Labels[system.LabelSet])
	}
	rep, err := sys.Restore(ctx, man.ID, system.RestoreOptions{Verify: true,
		Volume: system.VolumeRestore{Rename: map[string]string{"chunks": "chunks-scratch"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := vols.Path("chunks-scratch")
	b, _ := os.ReadFile(filepath.Join(p, "c1"))
	fmt.Println(rep.Parts[0].Target+":", string(b))
	// Output:
	// volume-chunks volume chunks full
	// volume chunks-scratch: chunk one
}

// FromEnv reads Lucid's BACKUP_* names and the LUCID_BACKUP_* and
// LUCID_S3_* ones; Open gives the Manager on the local or S3 sink, and
// Select narrows the clients to LUCID_BACKUP_PARTS and the selections.
func ExampleFromEnv() {
	os.Setenv(system.EnvPassphrase, "example only")
	os.Setenv(system.EnvDir, filepath.Join(os.TempDir(), "lucid-example-backups"))
	defer os.Unsetenv(system.EnvPassphrase)
	defer os.Unsetenv(system.EnvDir)
	cfg, err := system.FromEnv()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Schedule, cfg.RetentionDays, cfg.StorageType, cfg.Backup.Compression, cfg.Parts)

	os.Setenv(system.EnvEncryption, "true")
	os.Unsetenv(system.EnvPassphrase)
	defer os.Unsetenv(system.EnvEncryption)
	_, err = system.FromEnv()
	fmt.Println(err)
	// Output:
	// 0 2 * * * 30 local zstd [mongodb redis search volume]
	// backup: config: invalid argument: BACKUP_ENCRYPTION: on, but no key: set LUCID_BACKUP_AGE_RECIPIENTS, LUCID_BACKUP_AGE_RECIPIENTS_FILE, LUCID_BACKUP_AGE_IDENTITY_FILE or LUCID_BACKUP_PASSPHRASE (or BACKUP_ENCRYPTION=false for plaintext)
}
