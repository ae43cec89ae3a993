package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/mongostore/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoURIEnv names an external MongoDB (or MongoDB-wire) server.
const MongoURIEnv = "LUCID_TEST_MONGO_URI"

var sharedMongo once[string]

// MongoURI returns the connection string of the shared MongoDB-wire server
// of this test binary: LUCID_TEST_MONGO_URI, a mongo:7 container, or
// FerretDB embedded in the test binary. Use a database of your own
// (Namespace or Mongo) on it.
func MongoURI(t testing.TB) string {
	t.Helper()
	u, err := sharedMongo.get(findMongo)
	if err != nil {
		unavailable(t, "MongoDB", err)
	}
	return u
}

// Mongo returns a database with a fresh name on the shared server, dropped
// (and its client disconnected) when t ends.
func Mongo(t testing.TB) *mongo.Database {
	t.Helper()
	c := MongoClient(t, MongoURI(t))
	db := c.Database(Namespace(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return db
}

// MongoClient connects to uri, announces the server once, and disconnects
// when t ends.
func MongoClient(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("testenv: mongo connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	product, version, err := mongoProduct(ctx, c)
	if err != nil {
		t.Fatalf("testenv: mongo buildInfo: %v", err)
	}
	announce(t, "MongoDB", product, version, redactURI(uri))
	return c
}

// mongoProduct tells FerretDB from MongoDB by buildInfo's ferretdbVersion
// field: FerretDB reports a MongoDB version of its own.
func mongoProduct(ctx context.Context, c *mongo.Client) (product, version string, err error) {
	var info bson.M
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return "", "", err
	}
	version, _ = info["version"].(string)
	if fv, ok := info["ferretdbVersion"].(string); ok {
		if fv == "unknown" || fv == "" {
			fv = ferretDBVersion()
		}
		return "FerretDB", fv + " (reports MongoDB " + version + ")", nil
	}
	return "MongoDB", version, nil
}

func redactURI(uri string) string {
	// Credentials never reach logs.
	const p = "mongodb://"
	if len(uri) > len(p) {
		for i := len(p); i < len(uri) && uri[i] != '/'; i++ {
			if uri[i] == '@' {
				return p + "***" + uri[i:]
			}
		}
	}
	return uri
}

func findMongo() (string, error) {
	if u := os.Getenv(MongoURIEnv); u != "" {
		return u, nil
	}
	if pool, err := dockerDaemon(); err == nil {
		addr, err := dockerRun(pool, "mongo", "7", nil, "27017/tcp", func(addr string) error {
			return pingMongo("mongodb://" + addr + "/")
		})
		if err != nil {
			return "", err
		}
		return "mongodb://" + addr + "/", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := embedded.Start(ctx, embedded.Config{})
	if err != nil {
		return "", fmt.Errorf("start FerretDB embedded: %w", err)
	}
	onShutdown(func() { _ = s.Close() })
	return s.URI(), nil
}

func pingMongo(uri string) error {
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(3 * time.Second))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.Background())
	return c.Ping(context.Background(), nil)
}

// MongoProcess is a private FerretDB a test owns, for fault tests that stop
// the server mid-operation and start it again on the same address with the
// same data.
type MongoProcess struct {
	dir, addr string
	s         *embedded.Server
}

// StartMongo starts a private embedded FerretDB, stopped when t ends.
func StartMongo(t testing.TB) *MongoProcess {
	t.Helper()
	m := &MongoProcess{dir: t.TempDir()}
	if err := m.Start(); err != nil {
		unavailable(t, "FerretDB", err)
	}
	t.Cleanup(m.Stop)
	return m
}

// URI returns the server's connection string; it stays the same across
// Stop and Start.
func (m *MongoProcess) URI() string { return "mongodb://" + m.addr + "/" }

// Start starts the server (again).
func (m *MongoProcess) Start() error {
	if m.s != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := embedded.Start(ctx, embedded.Config{Dir: m.dir, Addr: m.addr})
	if err != nil {
		return err
	}
	m.s, m.addr = s, s.Addr()
	return nil
}

// Stop stops the server, dropping its client connections.
func (m *MongoProcess) Stop() {
	if m.s != nil {
		_ = m.s.Close()
		m.s = nil
	}
}

// ferretDBVersion is the FerretDB module version linked in. Embedded builds
// carry no version stamp, and test binaries no dependency list, so the
// module's go.mod is the fallback.
func ferretDBVersion() string {
	if v := embedded.FerretDBVersion(); v != "unknown" {
		return v
	}
	_, self, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "go.mod"))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/FerretDB/FerretDB" {
			return f[1]
		}
	}
	return "unknown"
}
