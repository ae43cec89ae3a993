//go:build !linux

package volume

import (
	"context"
	"runtime"
)

// Walk visits the tree under dir. It is implemented on Linux only, like
// Archive (it reads the tree through directory descriptors with
// O_NOFOLLOW as Linux has them); on this system it returns
// ErrUnsupported.
func Walk(ctx context.Context, dir string, opts *WalkOptions, fn WalkFunc) error {
	if err := ctx.Err(); err != nil {
		return ioErr(err, "walk %s", dir)
	}
	return newErr(ErrUnsupported, "walk %s: Linux only, not %s", dir, runtime.GOOS)
}

// Open opens the regular file e for reading; on this system, where Walk
// visits nothing, it returns ErrUnsupported.
func (e *WalkEntry) Open() (*WalkFile, error) {
	return nil, newErr(ErrUnsupported, "open %s: Linux only, not %s", e.Path, runtime.GOOS)
}

// Read returns ErrUnsupported on this system.
func (f *WalkFile) Read(p []byte) (int, error) {
	return 0, newErr(ErrUnsupported, "read %s: Linux only, not %s", f.name, runtime.GOOS)
}

// Close returns ErrUnsupported on this system.
func (f *WalkFile) Close() error {
	return newErr(ErrUnsupported, "close %s: Linux only, not %s", f.name, runtime.GOOS)
}

// treeWalker is a walk; on this system there is none.
type treeWalker struct{}
