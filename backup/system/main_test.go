//go:build !lucidfuzz

package system_test

import (
	"testing"

	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }
