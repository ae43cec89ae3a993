// Package depcheck checks what a package links, for the tests that keep the
// SDK's core packages light (backup without database clients or the AWS SDK,
// cache and volume without a Prometheus client): a dependency added by
// accident fails a test instead of reaching every service on a Pi.
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// Deps returns what `go list -deps pkg` prints: pkg and everything it links.
func Deps(t testing.TB, pkg string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("depcheck: no go command to list %s's dependencies with: %v", pkg, err)
	}
	out, err := exec.Command(gobin, "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("depcheck: go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

// Forbid fails t for every dependency of pkg that starts with one of the
// prefixes, and returns the dependencies for further checks.
func Forbid(t testing.TB, pkg string, prefixes ...string) []string {
	t.Helper()
	deps := Deps(t, pkg)
	for _, d := range deps {
		for _, p := range prefixes {
			if strings.HasPrefix(d, p) {
				t.Errorf("%s links %s", pkg, d)
			}
		}
	}
	return deps
}
