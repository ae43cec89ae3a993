package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/mongostore/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/goleak"
)

// goleak proves Close really stops FerretDB: its listener, connection
// handlers and SQLite pools all end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStartServeCloseRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	s, err := embedded.Start(ctx, embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URI(), "mongodb://127.0.0.1:") || s.Dir() != dir {
		t.Fatalf("URI %q Dir %q", s.URI(), s.Dir())
	}
	c := connect(t, s.URI())
	coll := c.Database("lucid").Collection("users")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "u1"}, {Key: "email", Value: "a@example.org"}}); err != nil {
		t.Fatal(err)
	}
	_ = c.Disconnect(ctx)
	addr := s.Addr()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatalf("second Close: %v", err)
	}

	// Same Dir and Addr: the same server again, data kept (written with
	// the default synchronous=NORMAL, read back under FullSync).
	s2, err := embedded.Start(ctx, embedded.Config{Dir: dir, Addr: addr, FullSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.URI() != s.URI() {
		t.Fatalf("restart URI %q, want %q", s2.URI(), s.URI())
	}
	c2 := connect(t, s2.URI())
	defer c2.Disconnect(ctx)
	n, err := c2.Database("lucid").Collection("users").CountDocuments(ctx, bson.D{{Key: "_id", Value: "u1"}})
	if err != nil || n != 1 {
		t.Fatalf("after restart: %d, %v; want 1", n, err)
	}
	if _, err := c2.Database("lucid").Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: "u2"}}); err != nil {
		t.Fatalf("write under FullSync: %v", err)
	}
}

func TestTempDirRemovedOnClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := embedded.Start(ctx, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if exists(dir) {
		t.Fatalf("temporary data directory %s left behind", dir)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestStartHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := embedded.Start(ctx, embedded.Config{})
	if !errors.Is(err, embedded.ErrClosed) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with a cancelled ctx: %v, want ErrClosed wrapping context.Canceled", err)
	}
}

func TestStartRejectsBusyAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := embedded.Start(ctx, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s2, err := embedded.Start(ctx, embedded.Config{Addr: s.Addr()}); err == nil {
		s2.Close()
		t.Fatalf("second server on busy %s started", s.Addr())
	}
	// A failed start must leave nothing behind for the collector: FerretDB
	// tracks its backends with finalizers that panic on a leak (race builds).
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	runtime.GC()
}

func ExampleStart() {
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Config{}) // temp dir, free loopback port
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Disconnect(ctx)
	coll := client.Database("lucid").Collection("users")
	_, _ = coll.InsertOne(ctx, bson.D{{Key: "email", Value: "pi@example.org"}})
	n, _ := coll.CountDocuments(ctx, bson.D{})
	fmt.Println("users:", n)
	// Output: users: 1
}
