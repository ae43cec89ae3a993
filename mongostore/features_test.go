//go:build !lucidfuzz

package mongostore_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestFeatureProbesMatchBehaviour tries every probed feature directly with
// the driver and checks the probe told the truth, on whatever server runs
// the tests: on FerretDB every attempt fails and every feature is false; on
// a replica set transactions and change streams work and are true.
func TestFeatureProbesMatchBehaviour(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	f, err := db.Features(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("features: %+v", f)
	d := db.Database()
	check := func(name string, probed bool, err error) {
		t.Helper()
		if probed != (err == nil) {
			t.Errorf("%s: probe says %v, trying it gave %v", name, probed, err)
		}
	}
	check("validators", f.Validators, d.CreateCollection(ctx, "v", options.CreateCollection().SetValidator(
		bson.D{{Key: "$jsonSchema", Value: bson.D{{Key: "required", Value: bson.A{"a"}}}}})))
	c := d.Collection("f")
	_, err = c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(1)})
	check("TTL indexes", f.TTLIndexes, err)
	_, err = c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "body", Value: "text"}}})
	check("text indexes", f.TextIndexes, err)
	sess, err := db.Client().StartSession()
	if err != nil {
		t.Fatal(err)
	}
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		return c.InsertOne(ctx, bson.D{{Key: "tx", Value: 1}})
	})
	sess.EndSession(ctx)
	check("transactions", f.Transactions, err)
	cs, err := c.Watch(ctx, mongo.Pipeline{})
	if cs != nil {
		_ = cs.Close(ctx)
	}
	check("change streams", f.ChangeStreams, err)
	err = db.Client().Database("admin").RunCommand(ctx, bson.D{{Key: "listShards", Value: 1}}).Err()
	check("sharding (listShards)", f.Sharding, err)
	if f.TextIndexes {
		// The real behaviour: a $text query over the registry's index.
		if _, err := db.EnsureSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.InsertOne(ctx, "users", set(goodDocs(1)["users"], "display_name", "Ada Lovelace")); err != nil {
			t.Fatal(err)
		}
		n, err := db.Count(ctx, "users", bson.D{{Key: "$text", Value: bson.D{{Key: "$search", Value: "lovelace"}}}})
		if err != nil || n != 1 {
			t.Errorf("$text search = %d, %v", n, err)
		}
	}
}

func TestConnectTLSToPlainServer(t *testing.T) {
	ctx := ctxT(t)
	_, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(t), TLS: &tls.Config{ServerName: "localhost"},
		ServerSelectionTimeout: 500 * time.Millisecond})
	if !errors.Is(err, mongostore.ErrUnavailable) {
		t.Errorf("TLS to a plain server = %v, want ErrUnavailable", err)
	}
}
