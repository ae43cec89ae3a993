package backup_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
)

// textSource is a part kind of the example's own: lines of text.
type textSource struct{ text string }

func (s textSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "text", Format: "txt", FormatVersion: 1}
}

func (s textSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	_, err := io.WriteString(w, s.text)
	return backup.Stats{Records: int64(strings.Count(s.text, "\n"))}, err
}

// A service backs up to a local directory, encrypted to its operator's age
// key, and verifies and restores with the identity. Volume parts come from
// backup/volumepart, S3 storage from backup/s3sink.
func Example() {
	dir, _ := os.MkdirTemp("", "backups-")
	defer os.RemoveAll(dir)
	id, _ := age.GenerateX25519Identity() // in production: age.ParseIdentities of the operator's key file
	var b backup.Backupper
	b, err := backup.NewLocal(dir, backup.Config{
		Recipients: []age.Recipient{id.Recipient()},
		Identities: []age.Identity{id},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	man, err := b.Backup(ctx, []backup.Part{{Name: "notes", Source: textSource{"one\ntwo\n"}}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(man.Parts[0].Object, man.Parts[0].Records, "records")
	if _, err := b.Verify(ctx, man.ID); err != nil {
		fmt.Println(err)
		return
	}
	list, _ := b.List(ctx)
	fmt.Println(len(list), "backup")
	// Output:
	// notes.txt.zst.age 2 records
	// 1 backup
}

// Parts stream in parallel; a hook proves, right before the manifest is
// written, that the caller may still commit (the scheduler checks its
// lock's fencing token there); records keep small status documents beside
// the backups.
func ExampleBackupOptions() {
	dir, _ := os.MkdirTemp("", "backups-")
	defer os.RemoveAll(dir)
	m, _ := backup.NewLocal(dir, backup.Config{Plaintext: true})
	ctx := context.Background()
	man, err := m.Backup(ctx, []backup.Part{
		{Name: "a", Source: textSource{"one\n"}},
		{Name: "b", Source: textSource{"two\nthree\n"}},
	}, &backup.BackupOptions{
		Parallel:  2,
		Permanent: true,
		BeforeCommit: func(ctx context.Context, man *backup.Manifest) error {
			return nil // e.g. lock.Check(ctx): an error leaves no manifest
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(man.Parts), "parts, permanent:", man.Permanent)
	_ = m.PutRecord(ctx, "runs", "nightly-1", map[string]string{"backup": man.ID})
	names, _ := m.Records(ctx, "runs")
	fmt.Println(names)
	// Output:
	// 2 parts, permanent: true
	// [nightly-1]
}

// incrementalText is a part incremental on a base backup.
type incrementalText struct {
	textSource
	base string
}

func (s incrementalText) Describe() backup.SourceInfo {
	i := s.textSource.Describe()
	i.Base = s.base
	return i
}

// A part incremental on an earlier backup names it as its Base; Chain
// returns what a restore of it replays, oldest first, and Delete refuses
// a base while a backup depends on it.
func ExampleManager_Chain() {
	dir, _ := os.MkdirTemp("", "backups-")
	defer os.RemoveAll(dir)
	m, _ := backup.NewLocal(dir, backup.Config{Plaintext: true})
	ctx := context.Background()
	full, _ := m.Backup(ctx, []backup.Part{{Name: "notes", Source: textSource{"one\n"}}}, nil)
	incr, err := m.Backup(ctx, []backup.Part{{Name: "notes", Source: incrementalText{textSource{"two\n"}, full.ID}}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	chain, _ := m.Chain(ctx, incr.ID, "notes")
	fmt.Println(len(chain), chain[0].ID == full.ID, chain[1].ID == incr.ID)
	fmt.Println(errors.Is(m.Delete(ctx, full.ID), backup.ErrInUse))
	// Output:
	// 2 true true
	// true
}

// Retention plans first and deletes only what the plan says: here the
// newest backup is kept by keep-last, the permanent one whatever the
// rules, and the one in between is removed.
func ExampleManager_PlanCleanup() {
	dir, _ := os.MkdirTemp("", "backups-")
	defer os.RemoveAll(dir)
	day := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	m, _ := backup.NewLocal(dir, backup.Config{Plaintext: true, Now: func() time.Time { return day }})
	ctx := context.Background()
	for _, permanent := range []bool{true, false, false} {
		_, _ = m.Backup(ctx, []backup.Part{{Name: "notes", Source: textSource{"one\n"}}}, &backup.BackupOptions{Permanent: permanent})
		day = day.AddDate(0, 0, 1)
	}
	plan, err := m.PlanCleanup(ctx, backup.RetentionPolicy{KeepLast: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range plan.Keep {
		fmt.Println("keep", e.Start.Format("Jan 2"), e.Reason)
	}
	for _, e := range plan.Remove {
		fmt.Println("remove", e.Start.Format("Jan 2"), e.Reason)
	}
	deleted, err := m.Cleanup(ctx, plan) // a dry run stops before this
	fmt.Println(len(deleted), "deleted", err)
	// Output:
	// keep Jan 3 last
	// keep Jan 1 permanent
	// remove Jan 2 no rule keeps it
	// 1 deleted <nil>
}
