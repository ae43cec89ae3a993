package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExampleConnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := mongostore.Connect(ctx, mongostore.Config{
		URI:          "mongodb://127.0.0.1:27017/",
		Database:     "lucid",
		MaxPoolSize:  50,
		WriteConcern: "majority",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close(context.Background())

	if _, err := db.EnsureSchema(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = db.InsertOne(ctx, lucidkeys.CollUsers, bson.D{
		{Key: "user_id", Value: "u1"}, {Key: "email", Value: "a@example.com"}, {Key: "roles", Value: bson.A{"User"}},
		{Key: "status", Value: "active"}, {Key: "created_at", Value: time.Now()}, {Key: "updated_at", Value: time.Now()},
	})
	var dup *mongostore.DuplicateError
	if errors.As(err, &dup) {
		log.Printf("already registered (index %s)", dup.Index)
	}
}

func ExampleSchema_ValidateDocument() {
	s := mongostore.LucidSchema()
	err := s.ValidateDocument(lucidkeys.CollUsers, bson.D{
		{Key: "user_id", Value: "u1"}, {Key: "email", Value: "not-an-email"}, {Key: "roles", Value: bson.A{"User"}},
		{Key: "status", Value: "active"}, {Key: "created_at", Value: time.Now()}, {Key: "updated_at", Value: time.Now()},
	})
	var ve *mongostore.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, ve.Rule)
	}
	err = s.ValidateUpdate(lucidkeys.CollSessions, bson.D{{Key: "$unset", Value: bson.D{{Key: "user_id", Value: ""}}}})
	fmt.Println(errors.Is(err, mongostore.ErrValidation), err)
	// Output:
	// email pattern
	// true mongostore: sessions: validation failed: field user_id: rule required: cannot $unset a required field
}

func ExampleFilter() {
	// The value came from a request: {"$ne": ""} would match every user.
	var untrusted any = bson.D{{Key: "$ne", Value: ""}}
	_, err := mongostore.NewFilter().Eq("email", untrusted).Build()
	fmt.Println(errors.Is(err, mongostore.ErrInjection), errors.Is(err, mongostore.ErrInvalid))

	f, err := mongostore.NewFilter().Eq("email", "a@example.com").In("status", "active", "pending_verification").Build()
	fmt.Println(f, err)
	// Output:
	// true true
	// {"email":{"$eq":"a@example.com"},"status":{"$in":["active","pending_verification"]}} <nil>
}

// A login form's values are compared for equality with Filter.Eq, which
// refuses operators; AllowListedFilter is for query endpoints whose clients
// may use comparisons, and lets {"$gt": ""} through by design.
func ExampleAllowListedFilter_loginForm() {
	password := any(bson.D{{Key: "$gt", Value: ""}}) // what an attacker posts
	_, err := mongostore.NewFilter().Eq("email", "a@example.com").Eq("password_hash", password).Build()
	fmt.Println(errors.Is(err, mongostore.ErrInjection))
	_, err = mongostore.AllowListedFilter(bson.D{{Key: "email", Value: "a@example.com"}, {Key: "password_hash", Value: password}})
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}

func ExampleAllowListedFilter() {
	_, err := mongostore.AllowListedFilter(bson.D{{Key: "$where", Value: "sleep(1000)"}})
	fmt.Println(err)
	f, err := mongostore.AllowListedFilter(bson.D{{Key: "amount", Value: bson.D{{Key: "$gte", Value: 10}}}})
	fmt.Println(f, err)
	// Output:
	// mongostore: operator injection: operator $where is not allowed in place of a field name
	// {"amount":{"$gte":{"$numberInt":"10"}}} <nil>
}

func ExampleCollection() {
	type Session struct {
		SessionID string     `bson:"session_id"`
		UserID    string     `bson:"user_id"`
		Status    string     `bson:"status"`
		CreatedAt time.Time  `bson:"created_at"`
		EndedAt   *time.Time `bson:"ended_at"` // ["date", "null"] in Lucid's schema
	}
	ctx := context.Background()
	db, err := mongostore.Connect(ctx, mongostore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close(ctx)
	sessions, err := mongostore.NewCollection[Session](db, lucidkeys.CollSessions)
	if err != nil {
		log.Fatal(err)
	}
	for s, err := range sessions.All(ctx, bson.D{{Key: "user_id", Value: "u1"}}, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.SessionID, s.EndedAt)
	}
}

// A second database on the same client: a scratch database for a
// selective restore, with the same schema registry, validation, retries,
// tracing and metrics, and no second connection pool.
func ExampleDB_WithDatabase() {
	ctx := context.Background()
	db, err := mongostore.Connect(ctx, mongostore.Config{Database: "lucid"})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close(ctx) // disconnects the client: scratch is closed too

	scratch, err := db.WithDatabase("lucid_restore_check")
	if err != nil {
		log.Fatal(err) // ErrInvalid: not a database name
	}
	if _, err := scratch.EnsureSchemaWith(ctx, mongostore.EnsureOptions{Collections: []lucidkeys.Collection{lucidkeys.CollUsers}}); err != nil {
		log.Fatal(err)
	}
	n, err := scratch.Count(ctx, lucidkeys.CollUsers, mongostore.All)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "users in", scratch.Database().Name())
	_ = scratch.Database().Drop(ctx) // the driver's handle: drop the scratch database
}
