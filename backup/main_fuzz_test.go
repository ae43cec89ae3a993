//go:build lucidfuzz

package backup_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The fuzz build leaves the test harness out: no server runs.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
