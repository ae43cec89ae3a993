package searchpart_test

import (
	"context"
	"fmt"
	"log"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/searchpart"
	"github.com/HamiGames/lucid-data/search"
)

// Back up the session indices of every month, verify the backup and restore
// it under a "scratch-" prefix (indices and aliases alike).
func Example() {
	ctx := context.Background()
	cfg, err := search.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	c, err := search.Connect(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	m, err := backup.NewLocal("/var/backups/lucid", backup.Config{
		Passphrase: "correct horse battery staple",
		Checkers:   searchpart.Checkers(),
	})
	if err != nil {
		log.Fatal(err)
	}
	man, err := m.Backup(ctx, []backup.Part{searchpart.Part("search", c, "lucid-sessions-*")}, nil)
	if err != nil {
		log.Fatal(err)
	}
	p, _ := man.Part("search")
	fmt.Println(p.Records, "documents:", p.Counts)

	if _, err := m.Verify(ctx, man.ID); err != nil {
		log.Fatal(err)
	}
	_, err = m.Restore(ctx, man.ID, "search", searchpart.Restorer{Client: c, Prefix: "lucid-", NewPrefix: "scratch-lucid-"})
	if err != nil {
		log.Fatal(err)
	}
}

// Restore one month of sessions out of a full backup, into a scratch index
// beside the original (scratch-lucid-sessions-2026.11, its aliases renamed
// alike); the part's other indices are checked and skipped.
func ExampleRestorer_include() {
	ctx := context.Background()
	c, err := search.Connect(ctx, search.Config{Addresses: []string{"http://127.0.0.1:9200"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	m, err := backup.NewLocal("/var/backups/lucid", backup.Config{Passphrase: "correct horse battery staple"})
	if err != nil {
		log.Fatal(err)
	}
	r := searchpart.Restorer{Client: c, Include: []string{"lucid-sessions-2026.11"}, Prefix: "lucid-", NewPrefix: "scratch-lucid-"}
	if _, err := m.Restore(ctx, "20261202T020000Z-3f9a1c07", "search", r); err != nil {
		log.Fatal(err)
	}
}
