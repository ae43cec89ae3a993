//go:build linux

package volume

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Walk visits the tree under dir in lexical order, depth first: each
// directory's names sorted, a directory before its contents; dir itself
// gets no visit. Like a walk of its path, a dir that is not a directory
// (a symlink included) gives no visits, and a dir replaced (by a symlink
// or another directory) between that check and its open fails the walk.
//
// The tree may be hostile or changing. Every entry is reached relative to
// its directory's descriptor (fstatat, openat, readlinkat), never by a
// full path and never through a symlink: a directory is opened with
// O_NOFOLLOW before it is visited, so one swapped for a symlink to
// elsewhere is never entered, and WalkEntry.Open opens with O_NOFOLLOW
// and O_NONBLOCK. An entry gone before its stat is skipped; see
// WalkOptions.SkipVanished for later changes. Open descriptors are one per
// level of depth. ctx is checked before each entry.
//
// Errors of the walk itself wrap the cause (an *fs.PathError) once, as the
// package's errors do; errors returned by fn are returned unchanged. Walk
// is implemented on Linux only, like Archive; elsewhere it returns
// ErrUnsupported.
func Walk(ctx context.Context, dir string, opts *WalkOptions, fn WalkFunc) error {
	w := newTreeWalker(ctx, opts, fn)
	err := w.run(dir)
	if err != nil && !w.fnErr {
		return ioErr(err, "walk %s", dir)
	}
	return err
}

// treeWalker is one walk. It is shared by Walk and Archive (which wraps
// its errors in its own words) and so by volumepart's scan.
type treeWalker struct {
	ctx   context.Context
	opts  WalkOptions
	fn    WalkFunc
	fnErr bool // the error returned came from fn
	e     WalkEntry
	links map[devIno]string // first path of each inode with nlink > 1, made on the first
	buf   []byte            // readlinkat's
	file  WalkFile          // what WalkEntry.Open returns: one per walk, so no allocation per file

	// afterStat, in tests, runs between an entry's stat ("" for the top's) and what follows
	// it (the open of a directory, readlinkat, fn), to change the tree in
	// that window.
	afterStat func(name string)
}

func newTreeWalker(ctx context.Context, opts *WalkOptions, fn WalkFunc) *treeWalker {
	w := &treeWalker{ctx: ctx, fn: fn, file: WalkFile{fd: -1}}
	if opts != nil {
		w.opts = *opts
	}
	w.e.w = w
	return w
}

// errTopChanged: the walk's top directory was replaced while it was opened.
var errTopChanged = errors.New("directory replaced while opened")

// run walks the contents of dir.
func (w *treeWalker) run(dir string) error {
	dir = filepath.Clean(dir)
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return &fs.PathError{Op: "lstat", Path: dir, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	if w.afterStat != nil {
		w.afterStat("") // the top
	}
	// O_NOFOLLOW and the inode check: a top swapped for a symlink or
	// another directory between the Lstat and the open is never walked.
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	var ost unix.Stat_t
	if err := unix.Fstat(fd, &ost); err != nil || ost.Dev != st.Dev || ost.Ino != st.Ino {
		unix.Close(fd)
		if err == nil {
			err = errTopChanged
		}
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	err = w.dir(fd, dir, "")
	if err == fs.SkipAll {
		return nil
	}
	return err
}

// dir walks the entries of the directory open as fd (closing it), dir
// being its path (for errors) and rel its path in the walk ("" at the
// top). It returns fs.SkipAll as it came from fn, for run to end on.
func (w *treeWalker) dir(fd int, dir, rel string) error {
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return err
	}
	slices.Sort(names)
	var st unix.Stat_t
	for _, name := range names {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if rel == "" && w.opts.SkipReserved && strings.HasPrefix(name, reservedPrefix) {
			continue
		}
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if err == unix.ENOENT {
				continue // removed while we walked
			}
			return &fs.PathError{Op: "lstat", Path: dir + "/" + name, Err: err}
		}
		if w.afterStat != nil {
			w.afterStat(name)
		}
		e := &w.e
		fill(e, &st)
		e.Name, e.Path, e.dirfd, e.dir = name, name, fd, dir
		if rel != "" {
			e.Path = rel + "/" + name
		}
		sub := -1
		switch e.Type {
		case fs.ModeDir:
			sub, err = unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				if w.opts.SkipVanished && (err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ELOOP) {
					continue // replaced while we walked
				}
				return &fs.PathError{Op: "open", Path: dir + "/" + name, Err: err}
			}
		case fs.ModeSymlink:
			if e.Target, err = w.readlink(fd, name); err != nil {
				if w.opts.SkipVanished && (err == unix.ENOENT || err == unix.EINVAL) {
					continue
				}
				return &fs.PathError{Op: "readlink", Path: dir + "/" + name, Err: err}
			}
		case 0:
			if e.Nlink > 1 {
				k := devIno{e.Dev, e.Ino}
				if first, ok := w.links[k]; ok {
					e.Link = first
				} else {
					if w.links == nil {
						w.links = make(map[devIno]string)
					}
					w.links[k] = e.Path
				}
			}
		}
		err := w.fn(e)
		e.dirfd = -1 // an Open past the call fails (EBADF) rather than open relative to a reused descriptor
		if w.file.fd >= 0 {
			w.file.Close()
		}
		if err != nil {
			if sub >= 0 {
				unix.Close(sub)
			}
			if err == fs.SkipDir {
				if sub >= 0 {
					continue
				}
				return nil
			}
			if err != fs.SkipAll {
				w.fnErr = true
			}
			return err
		}
		if sub >= 0 {
			if err := w.dir(sub, dir+"/"+name, e.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

// fill sets e's metadata from st and clears the rest.
func fill(e *WalkEntry, st *unix.Stat_t) {
	msec, mnsec := st.Mtim.Unix()
	csec, cnsec := st.Ctim.Unix()
	*e = WalkEntry{w: e.w, Perm: st.Mode & 0o7777, Uid: st.Uid, Gid: st.Gid, Size: st.Size,
		ModTime: time.Unix(msec, mnsec), ChangeTime: time.Unix(csec, cnsec),
		Dev: uint64(st.Dev), Ino: uint64(st.Ino), Nlink: uint64(st.Nlink)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		e.Type = fs.ModeDir
	case unix.S_IFLNK:
		e.Type = fs.ModeSymlink
	case unix.S_IFIFO:
		e.Type = fs.ModeNamedPipe
	case unix.S_IFSOCK:
		e.Type = fs.ModeSocket
	case unix.S_IFCHR:
		e.Type = fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		e.Type = fs.ModeDevice
	default:
		e.Type = fs.ModeIrregular
	}
}

// readlink reads the target of the symlink name in the directory fd,
// growing the buffer until the target fits (readlinkat truncates
// silently).
func (w *treeWalker) readlink(fd int, name string) (string, error) {
	if w.buf == nil {
		w.buf = make([]byte, 4096)
	}
	for {
		n, err := unix.Readlinkat(fd, name, w.buf)
		if err != nil {
			return "", err
		}
		if n < len(w.buf) {
			return string(w.buf[:n]), nil
		}
		w.buf = make([]byte, 2*len(w.buf))
	}
}

// Open opens the regular file e for reading, relative to its directory's
// descriptor: O_NOFOLLOW, so a file swapped for a symlink since the stat
// is not followed out of the tree, and O_NONBLOCK, so one swapped for a
// fifo does not block the open; and the file opened must be the inode the
// stat saw, still a regular file, or Open fails with ErrEntryReplaced (in
// an *fs.PathError). It may be called only during the
// WalkFunc's call, and only once at a time (until the file's Close); the
// walk closes the file when the call returns.
func (e *WalkEntry) Open() (*WalkFile, error) {
	if e.Type != 0 {
		return nil, newErr(ErrInvalid, "open %s/%s: not a regular file", e.dir, e.Name)
	}
	f := &e.w.file
	if f.fd >= 0 {
		return nil, newErr(ErrInvalid, "open %s/%s: %s/%s is still open", e.dir, e.Name, f.dir, f.name)
	}
	fd, err := unix.Openat(e.dirfd, e.Name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: e.dir + "/" + e.Name, Err: err}
	}
	// The inode opened must be the one the stat described: a file renamed
	// over it (a live tree's atomic replace) or a fifo put in its place
	// would otherwise be read under the old size and metadata.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || uint64(st.Dev) != e.Dev || uint64(st.Ino) != e.Ino {
		unix.Close(fd)
		if err == nil {
			err = ErrEntryReplaced
		}
		return nil, &fs.PathError{Op: "open", Path: e.dir + "/" + e.Name, Err: err}
	}
	*f = WalkFile{fd: fd, dir: e.dir, name: e.Name}
	return f, nil
}

// Read reads up to len(p) bytes with read(2), retrying on EINTR; at the
// end of the file it returns 0, io.EOF. Errors are *fs.PathError.
func (f *WalkFile) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(f.fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.dir + "/" + f.name, Err: err}
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// Close closes the file; a second Close returns fs.ErrClosed.
func (f *WalkFile) Close() error {
	if f.fd < 0 {
		return &fs.PathError{Op: "close", Path: f.dir + "/" + f.name, Err: fs.ErrClosed}
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.dir + "/" + f.name, Err: err}
	}
	return nil
}
