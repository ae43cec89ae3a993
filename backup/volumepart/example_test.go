package volumepart_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/volumepart"
)

// A chain of backups of a directory: the first self-contained, the next
// incremental (Next picks the base), restored as at the second backup and
// verified as a whole.
func Example_incremental() {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "volumepart-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	vol := filepath.Join(tmp, "volume")
	os.MkdirAll(filepath.Join(vol, "logs"), 0o755)
	os.WriteFile(filepath.Join(vol, "logs", "a.log"), []byte("first\n"), 0o644)
	os.WriteFile(filepath.Join(vol, "config.json"), []byte("{}\n"), 0o600)

	id, _ := age.GenerateX25519Identity()
	cc := &volumepart.ChainChecker{} // Verify checks whole chains
	m, err := backup.NewLocal(filepath.Join(tmp, "backups"), backup.Config{
		Recipients: []age.Recipient{id.Recipient()},
		Identities: []age.Identity{id}, // the next incremental reads its base's index
		Checkers:   map[string]backup.Checker{volumepart.Kind: cc},
	})
	if err != nil {
		log.Fatal(err)
	}
	cc.Manager = m

	var last *backup.Manifest
	for i := 0; i < 2; i++ {
		if i == 1 {
			os.WriteFile(filepath.Join(vol, "logs", "b.log"), []byte("second\n"), 0o644)
			os.Remove(filepath.Join(vol, "config.json"))
		}
		part, err := volumepart.Next(ctx, m, "volume-data", vol, 7) // a self-contained part every 7
		if err != nil {
			log.Fatal(err)
		}
		if last, err = m.Backup(ctx, []backup.Part{part}, nil); err != nil {
			log.Fatal(err)
		}
		p := last.Parts[0]
		// (files changed within 2 s of a scan are stored again by the next
		// part: the counts of stored files vary with timing)
		fmt.Printf("backup %d: incremental %v, %d deleted\n", i, p.Base != "", p.Counts["deleted"])
	}
	if _, err := m.Verify(ctx, last.ID); err != nil {
		log.Fatal(err)
	}
	dst := filepath.Join(tmp, "restored")
	if _, err := volumepart.RestoreChain(ctx, m, last.ID, "volume-data", volumepart.Restorer{Dir: dst}); err != nil {
		log.Fatal(err)
	}
	for _, n := range []string{"config.json", "logs/a.log", "logs/b.log"} {
		_, err := os.Stat(filepath.Join(dst, n))
		fmt.Printf("%s restored: %v\n", n, err == nil)
	}
	// Output:
	// backup 0: incremental false, 0 deleted
	// backup 1: incremental true, 1 deleted
	// config.json restored: false
	// logs/a.log restored: true
	// logs/b.log restored: true
}
