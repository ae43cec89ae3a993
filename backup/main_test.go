//go:build !lucidfuzz

package backup_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/internal/testenv"
)

// testenv.M stops the servers the tests started (versitygw for the S3
// sink runs), so goleak sees none of their goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }
