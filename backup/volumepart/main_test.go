//go:build !lucidfuzz

package volumepart_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }
