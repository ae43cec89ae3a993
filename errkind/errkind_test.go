package errkind_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/HamiGames/lucid-data/errkind"
)

var (
	errGone  = errkind.New(errkind.NotFound, "pkg: gone")
	errLost  = errkind.New(errkind.FailedPrecondition, "pkg: lock not held")
	errTaken = errkind.NewChild(errLost, "pkg: lock taken")
)

type customKind struct{}

func (customKind) Error() string      { return "custom" }
func (customKind) Kind() errkind.Kind { return errkind.Unavailable }

func TestOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want errkind.Kind
	}{
		{"nil", nil, errkind.OK},
		{"plain", io.EOF, errkind.Unknown},
		{"sentinel", errGone, errkind.NotFound},
		{"wrapped sentinel", fmt.Errorf("op: %w", errGone), errkind.NotFound},
		{"sentinel and cause", fmt.Errorf("op: %w: %w", errGone, io.EOF), errkind.NotFound},
		{"child", fmt.Errorf("op: %w", errTaken), errkind.FailedPrecondition},
		{"kind itself", fmt.Errorf("op: %w", errkind.Closed), errkind.Closed},
		{"custom Kind method", fmt.Errorf("op: %w", customKind{}), errkind.Unavailable},
		{"canceled", context.Canceled, errkind.Canceled},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), errkind.DeadlineExceeded},
		// The caller's ctx wins over the server's state: see the package doc.
		{"deadline and unavailable", fmt.Errorf("op: %w: %w", customKind{}, context.DeadlineExceeded), errkind.DeadlineExceeded},
		{"joined", errors.Join(io.EOF, errGone), errkind.NotFound},
	}
	for _, c := range cases {
		if got := errkind.Of(c.err); got != c.want {
			t.Errorf("%s: Of = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestIs(t *testing.T) {
	err := fmt.Errorf("op: %w", errTaken)
	for _, target := range []error{errTaken, errLost, errkind.FailedPrecondition} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false", err, target)
		}
	}
	for _, target := range []error{errGone, errkind.NotFound, errkind.Unknown} {
		if errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = true", err, target)
		}
	}
	if !errors.Is(errkind.Canceled, context.Canceled) || !errors.Is(errkind.DeadlineExceeded, context.DeadlineExceeded) {
		t.Error("context kinds do not match the context errors")
	}
	if errors.Is(errkind.NotFound, context.Canceled) {
		t.Error("NotFound matches context.Canceled")
	}
}

func TestString(t *testing.T) {
	for k := errkind.OK; k <= errkind.Internal; k++ {
		if k.String() == "unknown" && k != errkind.Unknown {
			t.Errorf("kind %d has no name", int(k))
		}
	}
	if got := errkind.Kind(999).String(); got != "unknown" {
		t.Errorf("out of range kind = %q", got)
	}
}
