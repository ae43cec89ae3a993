// Package mongostorebench compares mongostore with the raw mongo driver on
// the same server (the in-process FerretDB of testenv, or
// LUCID_TEST_MONGO_URI).
package mongostorebench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"os"

	"github.com/HamiGames/lucid-data/internal/bench/pair"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/mongostore/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// serverURI is LUCID_TEST_MONGO_URI or an embedded FerretDB started for
// this benchmark binary.
var serverURI string

func TestMain(m *testing.M) {
	serverURI = os.Getenv("LUCID_TEST_MONGO_URI")
	if serverURI == "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		srv, err := embedded.Start(ctx, embedded.Config{})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "mongostorebench: start FerretDB:", err)
			os.Exit(1)
		}
		serverURI = srv.URI()
		code := m.Run()
		_ = srv.Close()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

var seq atomic.Int64

func userDoc(n int64) bson.D {
	return bson.D{
		{Key: "user_id", Value: fmt.Sprintf("u_%d", n)},
		{Key: "email", Value: fmt.Sprintf("user%d@example.com", n)},
		{Key: "roles", Value: bson.A{"User"}},
		{Key: "status", Value: "active"},
		{Key: "mfa_enabled", Value: false},
		{Key: "created_at", Value: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Key: "updated_at", Value: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
}

type env struct {
	sdk *mongostore.DB
	raw *mongo.Collection // the same collection through the driver
	ids []any             // _ids (ObjectIDs) of the 1000 seeded users
}

// setup connects the SDK and the raw driver to one database on the same
// server, with the Lucid schema (indexes) applied, and seeds 1000 users.
func setup(b *testing.B) env {
	b.Helper()
	ctx := context.Background()
	uri := serverURI
	dbName := fmt.Sprintf("bench%d", time.Now().UnixNano())
	sdk, err := mongostore.Connect(ctx, mongostore.Config{URI: uri, Database: dbName})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = sdk.Database().Drop(ctx)
		_ = sdk.Close(ctx)
	})
	if _, err := sdk.EnsureSchema(ctx); err != nil {
		b.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(ctx) })
	raw := client.Database(dbName).Collection(string(lucidkeys.CollUsers))
	docs := make([]any, 1000)
	for i := range docs {
		docs[i] = userDoc(seq.Add(1))
	}
	res, err := raw.InsertMany(ctx, docs)
	if err != nil {
		b.Fatal(err)
	}
	return env{sdk: sdk, raw: raw, ids: res.InsertedIDs}
}

func opsPerSec(b *testing.B, ops int) {
	b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkMongoPaired measures the SDK's overhead over the raw driver with
// the two interleaved in one loop: every iteration runs the SDK's operation
// and the driver's (in alternating order), timing each. Load spikes, server
// warm-up and the collection's growth then hit both sides alike, which a
// pair of separate sub-benchmarks on a busy 2-core machine cannot promise.
// Reported: sdk-ns/op, peer-ns/op (the driver) and overhead-% (sdk time over driver
// time, minus one; see package pair); ns/op is the pair.
func BenchmarkMongoPaired(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	users := lucidkeys.CollUsers
	filter := func(i int) bson.D { return bson.D{{Key: "_id", Value: e.ids[i%len(e.ids)]}} }
	update := func() bson.D {
		return bson.D{{Key: "$set", Value: bson.D{{Key: "display_name", Value: fmt.Sprintf("name %d", seq.Add(1))}}}}
	}
	const batch = 100
	mkBatch := func() []any {
		docs := make([]any, batch)
		for i := range docs {
			docs[i] = userDoc(seq.Add(1))
		}
		return docs
	}
	paired := func(name string, sdk, driver func(i int) error) {
		b.Run(name, func(b *testing.B) { pair.Run(b, sdk, driver) })
	}
	paired("InsertOne",
		func(int) error { _, err := e.sdk.InsertOne(ctx, users, userDoc(seq.Add(1))); return err },
		func(int) error { _, err := e.raw.InsertOne(ctx, userDoc(seq.Add(1))); return err })
	paired("FindOne",
		func(i int) error { var out bson.M; return e.sdk.FindOne(ctx, users, filter(i), &out, nil) },
		func(i int) error { var out bson.M; return e.raw.FindOne(ctx, filter(i)).Decode(&out) })
	paired("UpdateOne",
		func(i int) error { _, err := e.sdk.UpdateOne(ctx, users, filter(i), update()); return err },
		func(i int) error { _, err := e.raw.UpdateOne(ctx, filter(i), update()); return err })
	paired("InsertMany100",
		func(int) error { _, err := e.sdk.InsertMany(ctx, users, mkBatch()); return err },
		func(int) error { _, err := e.raw.InsertMany(ctx, mkBatch()); return err })
}

// BenchmarkMongoParallel is the throughput the seed's ">1,000 ops/sec"
// target is about: 8 goroutines per CPU, half FindOne by _id and half
// InsertOne, through the SDK and through the raw driver; reports ops/s.
func BenchmarkMongoParallel(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	users := lucidkeys.CollUsers
	run := func(b *testing.B, find, insert func(i int64) error) {
		var n atomic.Int64
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				op := find
				if i%2 == 0 {
					op = insert
				}
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
		opsPerSec(b, b.N)
	}
	filter := func(i int64) bson.D { return bson.D{{Key: "_id", Value: e.ids[int(i)%len(e.ids)]}} }
	b.Run("sdk", func(b *testing.B) {
		run(b,
			func(i int64) error { var out bson.M; return e.sdk.FindOne(ctx, users, filter(i), &out, nil) },
			func(int64) error { _, err := e.sdk.InsertOne(ctx, users, userDoc(seq.Add(1))); return err })
	})
	b.Run("driver", func(b *testing.B) {
		run(b,
			func(i int64) error { var out bson.M; return e.raw.FindOne(ctx, filter(i)).Decode(&out) },
			func(int64) error { _, err := e.raw.InsertOne(ctx, userDoc(seq.Add(1))); return err })
	})
}
