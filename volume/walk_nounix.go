//go:build !unix

package volume

import "runtime"

// statTop is where a walk starts; walks count inodes, hard links and
// allocated blocks as stat(2) reports them, which this system has not.
func statTop(dir string) (size, blocks int64, err error) {
	return 0, 0, newErr(ErrUnsupported, "scan %s: usage walks need a Unix stat, not %s", dir, runtime.GOOS)
}

func (w *walker) readDirFast(dir string, t *walkTotals, ws *walkState) error {
	return newErr(ErrUnsupported, "scan %s: usage walks need a Unix stat, not %s", dir, runtime.GOOS)
}
