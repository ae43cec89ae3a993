package mongopart_test

import (
	"context"
	"fmt"
	"log"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/mongostore"
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

// Restore two collections of a backup into a scratch database that has
// Lucid's schema: the registry's validators and indexes, not the
// archive's, as a service's EnsureSchema would leave them. The scratch
// database is reached through the service's own client.
func ExampleRestorer_lucid() {
	ctx := context.Background()
	var m *backup.Manager // backup.NewLocal or an S3 target
	var id string         // a backup's ID, from m.List
	var db *mongostore.DB // the service's store (mongostore.Connect), on "lucid"
	if m == nil || db == nil {
		return // the example needs a target and a server
	}
	scratch, err := db.WithDatabase("scratch") // same client, schema and config
	if err != nil {
		log.Fatal(err)
	}
	var res mongopart.Result
	r := mongopart.Restorer{
		Lucid:   scratch,
		Include: []string{"lucid.users", "lucid.sessions"},
		Rename:  map[string]string{"lucid": "scratch"},
		Drop:    true,
		Result:  &res,
	}
	if _, err := m.Restore(ctx, id, "mongodb", r); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Inserted, "documents,", res.Schema.Count(mongostore.ActionCreated), "schema items created")
}
