package volume

import (
	"testing"

	"github.com/HamiGames/lucid-data/internal/depcheck"
)

// TestNoPrometheusDependency: importing volume links no Prometheus client
// (the collector lives in volume/volumeprom).
func TestNoPrometheusDependency(t *testing.T) {
	depcheck.Forbid(t, "github.com/HamiGames/lucid-data/volume", "github.com/prometheus/")
}
