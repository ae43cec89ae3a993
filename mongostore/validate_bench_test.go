package mongostore_test

import (
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkValidateUser is the client-side validation every insert of a
// user pays, on an already encoded document.
func BenchmarkValidateUser(b *testing.B) {
	doc, err := bson.Marshal(bson.D{
		{Key: "user_id", Value: "u_1"},
		{Key: "email", Value: "user1@example.com"},
		{Key: "roles", Value: bson.A{"User"}},
		{Key: "status", Value: "active"},
		{Key: "mfa_enabled", Value: false},
		{Key: "updated_at", Value: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Key: "created_at", Value: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	})
	if err != nil {
		b.Fatal(err)
	}
	s := mongostore.LucidSchema()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.ValidateDocument(lucidkeys.CollUsers, bson.Raw(doc)); err != nil {
			b.Fatal(err)
		}
	}
}
