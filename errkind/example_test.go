package errkind_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/HamiGames/lucid-data/errkind"
)

func Example() {
	// A package declares its sentinels with a kind ...
	errNoSuchVolume := errkind.New(errkind.NotFound, "volume: not found")

	// ... returns them wrapped once, with the cause kept ...
	err := fmt.Errorf("volume: open %q: %w", "mongodb", errNoSuchVolume)

	// ... and a caller asks one question of any package's error.
	fmt.Println(errkind.Of(err))
	fmt.Println(errors.Is(err, errkind.NotFound), errors.Is(err, errNoSuchVolume))

	// A caller's own deadline is reported as such, never as Unavailable.
	late := fmt.Errorf("cache: get: %w: %w", errkind.Unavailable, context.DeadlineExceeded)
	fmt.Println(errkind.Of(late))
	// Output:
	// not found
	// true true
	// deadline exceeded
}
