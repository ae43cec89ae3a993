package cache

import (
	"testing"

	"github.com/HamiGames/lucid-data/internal/depcheck"
)

// TestNoPrometheusDependency: importing cache links no Prometheus client
// (the pool collector lives in cache/cacheprom).
func TestNoPrometheusDependency(t *testing.T) {
	depcheck.Forbid(t, "github.com/HamiGames/lucid-data/cache", "github.com/prometheus/")
}
