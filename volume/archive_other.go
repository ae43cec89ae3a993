//go:build !linux

package volume

import (
	"context"
	"io"
	"runtime"
)

// Archive writes the contents of dir to w as a tar stream. It is
// implemented on Linux only (it reads the tree through directory
// descriptors, as Extract writes it); on this system it returns
// ErrUnsupported, and so do the Manager's Archive, Snapshot and Migrate.
func Archive(ctx context.Context, dir string, w io.Writer) (ArchiveStats, error) {
	if err := ctx.Err(); err != nil {
		return ArchiveStats{}, ioErr(err, "archive %s", dir)
	}
	return ArchiveStats{}, newErr(ErrUnsupported, "archive %s: Linux only, not %s", dir, runtime.GOOS)
}

// Extract reads a tar stream from r into dir. It is implemented on Linux
// only: its guarantee that nothing outside dir is touched rests on
// openat, mkdirat, symlinkat, linkat and unlinkat with O_NOFOLLOW as Linux
// has them, and is tested there. On this system it returns ErrUnsupported,
// and so do the Manager's Restore, RestoreFrom and Migrate.
func Extract(ctx context.Context, r io.Reader, dir string, opts ExtractOptions) (ArchiveStats, error) {
	if err := ctx.Err(); err != nil {
		return ArchiveStats{}, ioErr(err, "extract into %s", dir)
	}
	return ArchiveStats{}, newErr(ErrUnsupported, "extract into %s: Linux only, not %s", dir, runtime.GOOS)
}
