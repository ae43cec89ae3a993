//go:build unix && !(linux && (amd64 || arm64 || riscv64 || arm || 386))

package volume

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// readDirFast is the portable walk step where no allocation-free fstatat is
// wired up.
func (w *walker) readDirFast(dir string, t *walkTotals, ws *walkState) error {
	return w.readDir(dir, t, &ws.subdirs)
}

// readDir stats every entry of dir, adding them to t and queueing subdirectories.
func (w *walker) readDir(dir string, t *walkTotals, subdirs *[]string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed while we walked
		}
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	var st unix.Stat_t
	atRoot := w.skipReserved && dir == w.root
	for {
		names, rerr := f.Readdirnames(1024)
		for _, name := range names {
			if w.skip(atRoot, []byte(name)) {
				continue
			}
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				if err == unix.ENOENT {
					continue
				}
				return &os.PathError{Op: "lstat", Path: dir + "/" + name, Err: err}
			}
			mode := st.Mode & unix.S_IFMT
			if mode == unix.S_IFDIR {
				*subdirs = append(*subdirs, dir+"/"+name)
				t.dirs++
			} else if uint64(st.Nlink) > 1 && !w.firstLink(devIno{uint64(st.Dev), uint64(st.Ino)}) {
				continue // another name of an inode already counted
			} else if mode == unix.S_IFREG {
				t.files++
			} else {
				t.others++
			}
			t.bytes += int64(st.Size)
			t.blocks += int64(st.Blocks)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
}
