package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/mongostore/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// register is service code: it takes the Store interface, so it runs on a
// *mongostore.DB in production and on any conforming Store in tests.
func register(ctx context.Context, s mongostore.Store, id, email string) error {
	now := time.Now()
	_, err := s.InsertOne(ctx, lucidkeys.CollUsers, bson.D{
		{Key: "user_id", Value: id}, {Key: "email", Value: email}, {Key: "roles", Value: bson.A{"User"}},
		{Key: "status", Value: "active"}, {Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
	})
	return err
}

// A Store over the embedded MongoDB-wire server (what the quickstart uses
// when no LUCID_MONGO_URI is set): the schema is ensured, a duplicate and
// an invalid document are refused with their kinds.
func ExampleStore() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := embedded.Start(ctx, embedded.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: srv.URI(), Database: "example"})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close(context.Background())
	if _, err := db.EnsureSchema(ctx); err != nil {
		log.Fatal(err)
	}

	var s mongostore.Store = db
	fmt.Println(register(ctx, s, "u1", "ada@example.com"))
	fmt.Println(errors.Is(register(ctx, s, "u2", "ada@example.com"), mongostore.ErrDuplicate))
	fmt.Println(errors.Is(register(ctx, s, "u3", "not-an-email"), mongostore.ErrValidation))

	var u struct {
		Email string `bson:"email"`
	}
	f, _ := mongostore.NewFilter().Eq("user_id", "u1").Build()
	_ = s.FindOne(ctx, lucidkeys.CollUsers, f, &u, nil)
	n, _ := s.Count(ctx, lucidkeys.CollUsers, mongostore.All)
	fmt.Println(u.Email, n)
	// Output:
	// <nil>
	// true
	// true
	// ada@example.com 1
}
