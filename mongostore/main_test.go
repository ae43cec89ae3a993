//go:build !lucidfuzz

package mongostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }

// connect opens a DB on a fresh database of the shared test server; the
// database is dropped and the DB closed when t ends.
func connect(t testing.TB, cfg mongostore.Config) *mongostore.DB {
	t.Helper()
	if cfg.URI == "" {
		cfg.URI = testenv.MongoURI(t)
	}
	if cfg.Database == "" {
		cfg.Database = testenv.Namespace(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := mongostore.Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Database().Drop(ctx)
		if err := db.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// ctxT is the harness's per-test context (cancelled when t ends, bounded).
func ctxT(t testing.TB) context.Context { return testenv.Context(t) }
