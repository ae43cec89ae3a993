package mongostore_test

import (
	"testing"

	"github.com/HamiGames/lucid-data/internal/depcheck"
)

// TestCoreDependencies: importing mongostore links neither the embedded
// server (FerretDB and SQLite live in mongostore/embedded) nor a Prometheus
// client, as its package doc promises.
func TestCoreDependencies(t *testing.T) {
	depcheck.Forbid(t, "github.com/HamiGames/lucid-data/mongostore",
		"github.com/FerretDB/", "modernc.org/sqlite", "github.com/prometheus/",
		"github.com/HamiGames/lucid-data/mongostore/embedded")
}
