//go:build linux

package volume

import (
	"archive/tar"
	"bufio"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Archive writes the contents of dir to w as a tar stream (PAX format):
// directories, regular files, symlinks and hard links, with permission bits,
// modification times (to the nanosecond), owner ids and link targets.
// Sockets, fifos and device files are skipped, as are the package's own
// files at the top of dir (metadata, manifest). Entries are in lexical
// order, so the same tree gives the same stream. w is not closed; it may
// compress or encrypt. Archive stops with ctx's error when ctx is cancelled.
func Archive(ctx context.Context, dir string, w io.Writer) (ArchiveStats, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	a := &archiver{ctx: ctx, tw: newTarOut(bw), links: make(map[devIno]string), buf: make([]byte, 256<<10)}
	err := a.top(dir)
	if err == nil {
		err = a.tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return a.st, ioErr(err, "archive %s", dir)
	}
	return a.st, nil
}

// archiver writes one tree. Entries are reached relative to their
// directory's descriptor (fstatat, openat, readlinkat), never by a full path
// and never through a symlink, so the cost per file is the four system calls
// stat, open, read and close.
type archiver struct {
	ctx   context.Context
	tw    *tarOut
	links map[devIno]string // first name of each inode with nlink > 1
	buf   []byte
	st    ArchiveStats
}

// top archives the contents of dir; dir itself gets no entry. Like a walk of
// its path, a dir that is not a directory (a symlink included) gives an
// empty archive.
func (a *archiver) top(dir string) error {
	dir = filepath.Clean(dir)
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return &fs.PathError{Op: "lstat", Path: dir, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return a.dir(fd, dir, "")
}

// dir archives the entries of the directory open as fd (closing it), dir
// being its path (for errors) and rel its name in the archive ("" at the
// top).
func (a *archiver) dir(fd int, dir, rel string) error {
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return err
	}
	sort.Strings(names)
	var st unix.Stat_t
	for _, name := range names {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		if rel == "" && strings.HasPrefix(name, reservedPrefix) {
			continue
		}
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if err == unix.ENOENT {
				continue // removed while we walked
			}
			return &fs.PathError{Op: "lstat", Path: dir + "/" + name, Err: err}
		}
		sec, nsec := st.Mtim.Unix()
		hdr := tar.Header{
			Name:    name,
			Mode:    int64(st.Mode & 0o7777),
			Uid:     int(st.Uid),
			Gid:     int(st.Gid),
			ModTime: time.Unix(sec, nsec),
			Format:  tar.FormatPAX,
		}
		if rel != "" {
			hdr.Name = rel + "/" + name
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
			if err := a.tw.WriteHeader(&hdr); err != nil {
				return err
			}
			a.st.Dirs++
			sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return &fs.PathError{Op: "open", Path: dir + "/" + name, Err: err}
			}
			if err := a.dir(sub, dir+"/"+name, hdr.Name[:len(hdr.Name)-1]); err != nil {
				return err
			}
		case unix.S_IFLNK:
			n, err := unix.Readlinkat(fd, name, a.buf)
			if err != nil {
				return &fs.PathError{Op: "readlink", Path: dir + "/" + name, Err: err}
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, string(a.buf[:n])
			if err := a.tw.WriteHeader(&hdr); err != nil {
				return err
			}
			a.st.Symlinks++
		case unix.S_IFREG:
			hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
			if uint64(st.Nlink) > 1 {
				k := devIno{uint64(st.Dev), uint64(st.Ino)}
				if first, ok := a.links[k]; ok {
					hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
					a.st.Links++
					if err := a.tw.WriteHeader(&hdr); err != nil {
						return err
					}
					continue
				}
				a.links[k] = hdr.Name
			}
			if err := a.tw.WriteHeader(&hdr); err != nil {
				return err
			}
			a.st.Files++
			if err := a.file(fd, dir, name, st.Size); err != nil {
				return err
			}
		default:
			a.st.Skipped++
		}
	}
	return nil
}

// file copies the size bytes of the regular file name in the directory fd
// into the archive. O_NONBLOCK keeps a file swapped for a fifo since the
// stat from blocking the open.
func (a *archiver) file(dirfd int, dir, name string, size int64) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir + "/" + name, Err: err}
	}
	defer unix.Close(fd)
	var n int64
	for n < size {
		k, err := unix.Read(fd, a.buf[:min(int64(len(a.buf)), size-n)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "read", Path: dir + "/" + name, Err: err}
		}
		if k == 0 {
			break
		}
		if _, err := a.tw.Write(a.buf[:k]); err != nil {
			return err
		}
		n += int64(k)
	}
	a.st.Bytes += n
	if n != size {
		return newErr(ErrCorrupt, "archive %s: file shrank from %d to %d bytes while archived", dir+"/"+name, size, n)
	}
	return nil
}
