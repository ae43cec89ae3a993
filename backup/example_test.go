package backup_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

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
