//go:build !lucidfuzz

package mongostore_test

import (
	"testing"

	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/mongostore/storetest"
)

// TestStoreConformance runs the Store conformance suite on *DB against the
// test server (FerretDB, or the mongod LUCID_TEST_MONGO_URI names).
func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) mongostore.Store { return connect(t, mongostore.Config{}) })
}
