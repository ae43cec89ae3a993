package cache

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoPrometheusDependency: importing cache links no Prometheus client
// (the pool collector lives in cache/cacheprom).
func TestNoPrometheusDependency(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/HamiGames/lucid-data/cache").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/prometheus/") {
			t.Errorf("cache depends on %s", p)
		}
	}
}
