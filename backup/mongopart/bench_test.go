//go:build !lucidfuzz

package mongopart_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// benchData fills a database with 20,000 user-like documents (about 250
// bytes each).
func benchData(b *testing.B) *mongo.Database {
	b.Helper()
	ctx := context.Background()
	db := testenv.Mongo(b)
	docs := make([]any, 0, 1000)
	for i := range 20000 {
		docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "user_id", Value: fmt.Sprintf("user-%08d", i)},
			{Key: "email", Value: fmt.Sprintf("u%d@lucid.test", i)}, {Key: "n", Value: i}, {Key: "role", Value: "user"},
			{Key: "bio", Value: strings.Repeat("lorem ipsum ", 12)}, {Key: "created_at", Value: bson.DateTime(1700000000000 + int64(i))}})
		if len(docs) == cap(docs) {
			if _, err := db.Collection("users").InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	return db
}

func benchTools(b *testing.B) string {
	d := os.Getenv("LUCID_MONGO_TOOLS")
	if d == "" {
		b.Skip("LUCID_MONGO_TOOLS is unset")
	}
	return d
}

// BenchmarkBackupVsMongodump: the part through backup.Manager (gzip, no
// encryption, local sink) against `mongodump --archive --gzip` of the same
// database to a file, interleaved.
func BenchmarkBackupVsMongodump(b *testing.B) {
	tools := benchTools(b)
	db := benchData(b)
	ctx := context.Background()
	m, err := backup.NewLocal(b.TempDir(), backup.Config{Compression: backup.Gzip, Plaintext: true})
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	part := mongopart.Part("mongodb", db.Client(), db.Name())
	runPair(b, func(int) error {
		_, err := m.Backup(ctx, []backup.Part{part}, nil)
		return err
	}, func(i int) error {
		return exec.Command(filepath.Join(tools, "mongodump"), "--quiet", "--uri", testenv.MongoURI(b), "--db", db.Name(),
			"--archive="+filepath.Join(out, fmt.Sprint(i)), "--gzip").Run()
	})
}

// BenchmarkRestoreVsMongorestore: Restorer.RestoreArchive of a `mongodump
// --archive --gzip` file with Drop against `mongorestore --archive --gzip
// --drop --noIndexRestore` of the same file into another database.
func BenchmarkRestoreVsMongorestore(b *testing.B) {
	tools := benchTools(b)
	db := benchData(b)
	ctx := context.Background()
	file := filepath.Join(b.TempDir(), "dump.archive.gz")
	if out, err := exec.Command(filepath.Join(tools, "mongodump"), "--quiet", "--uri", testenv.MongoURI(b), "--db", db.Name(), "--archive="+file, "--gzip").CombinedOutput(); err != nil {
		b.Fatalf("%v %s", err, out)
	}
	sdkDB, peerDB := testenv.Namespace(b), testenv.Namespace(b)
	b.Cleanup(func() { _ = db.Client().Database(sdkDB).Drop(ctx); _ = db.Client().Database(peerDB).Drop(ctx) })
	r := mongopart.Restorer{Client: db.Client(), Rename: map[string]string{db.Name(): sdkDB}, Drop: true, NoIndexes: true}
	runPair(b, func(int) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = r.RestoreArchive(ctx, f)
		return err
	}, func(int) error {
		out, err := exec.Command(filepath.Join(tools, "mongorestore"), "--quiet", "--uri", testenv.MongoURI(b), "--archive="+file, "--gzip",
			"--drop", "--noIndexRestore", "--nsFrom", db.Name()+".*", "--nsTo", peerDB+".*").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
}

// runPair interleaves sdk and peer in one loop, alternating which runs
// first, as internal/bench/pair does (a module of its own, which this one
// cannot import), and reports each side's time per op and the ratio
// peer/sdk (above 1: the SDK is faster).
func runPair(b *testing.B, sdk, peer func(i int) error) {
	b.Helper()
	var sdkT, peerT time.Duration
	run := func(f func(int) error, i int, d *time.Duration) {
		start := time.Now()
		if err := f(i); err != nil {
			b.Fatal(err)
		}
		*d += time.Since(start)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			run(sdk, i, &sdkT)
			run(peer, i, &peerT)
		} else {
			run(peer, i, &peerT)
			run(sdk, i, &sdkT)
		}
	}
	b.ReportMetric(float64(sdkT.Nanoseconds())/float64(b.N), "sdk-ns/op")
	b.ReportMetric(float64(peerT.Nanoseconds())/float64(b.N), "peer-ns/op")
	b.ReportMetric(float64(peerT)/float64(sdkT), "peer/sdk")
}
