package mongopart_test

import (
	"context"
	"fmt"
	"log"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Back up the lucid database, verify the backup and restore it as the
// scratch database.
func Example() {
	ctx := context.Background()
	var client *mongo.Client // mongostore's DB.Client(), or mongo.Connect
	if client == nil {
		return // the example needs a server
	}
	m, err := backup.NewLocal("/var/backups/lucid", backup.Config{Plaintext: true, Compression: backup.Gzip, Checkers: mongopart.Checkers()})
	if err != nil {
		log.Fatal(err)
	}
	man, err := m.Backup(ctx, []backup.Part{mongopart.Part("mongodb", client, "lucid")}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.Verify(ctx, man.ID); err != nil {
		log.Fatal(err)
	}
	st, err := m.Restore(ctx, man.ID, "mongodb", mongopart.Restorer{Client: client, Rename: map[string]string{"lucid": "scratch"}, Drop: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Records, "documents restored")
}
