//go:build unix

package volume

import (
	"os"

	"golang.org/x/sys/unix"
)

// statTop returns the apparent and allocated size of the top directory of
// a walk, or an error if dir is not a directory.
func statTop(dir string) (size, blocks int64, err error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, 0, ioErr(&os.PathError{Op: "stat", Path: dir, Err: err}, "scan %s", dir)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, 0, newErr(ErrInvalid, "scan %s: not a directory", dir)
	}
	return int64(st.Size), int64(st.Blocks), nil
}
