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
