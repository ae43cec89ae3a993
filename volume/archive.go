package volume

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ArchiveStats counts what an archive or an extraction held.
type ArchiveStats struct {
	Files    int64 // regular files
	Dirs     int64 // directories (the top directory not included)
	Symlinks int64 // symbolic links
	Links    int64 // hard links to files already in the stream
	Bytes    int64 // file content bytes
	Skipped  int64 // entries left out: sockets, fifos and devices on archive; the package's own files on extract
}

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

// ExtractOptions bounds an extraction. The zero value means no limits
// beyond the safety rules, which always apply.
type ExtractOptions struct {
	// MaxBytes caps the total file content written (0: no cap); passing it
	// fails with ErrQuotaExceeded.
	MaxBytes int64
	// MaxEntries caps the number of entries (0: no cap); passing it fails
	// with ErrCorrupt.
	MaxEntries int64
	// PreserveOwner sets owner and group from the archive (needs root).
	PreserveOwner bool
}

// maxNameLen bounds entry names: PATH_MAX on Linux.
const maxNameLen = 4096

// Extract reads a tar stream from r into dir (created if missing), safely:
//
//   - absolute names, names with a ".." element or a NUL byte are rejected;
//   - no entry is written through a symlink, whether the symlink came from
//     the archive or was already on disk;
//   - symlinks whose target is absolute or leaves dir, and hard links to
//     anything but a regular file inside dir, are rejected;
//   - device files and fifos are rejected; a directory is never replaced by
//     a file or a symlink;
//   - setuid and setgid bits are dropped.
//
// Each violation fails with ErrUnsafePath naming the entry; a malformed
// stream (including oversized headers, which archive/tar refuses) fails with
// ErrCorrupt. Modes and modification times are restored, directories' last.
// On error, entries already extracted stay; Restore extracts into a
// temporary directory so a volume never sees a half extraction.
func Extract(ctx context.Context, r io.Reader, dir string, opts ExtractOptions) (ArchiveStats, error) {
	x := &extractor{root: filepath.Clean(dir), opts: opts, ok: make(map[string]bool)}
	st, err := x.run(ctx, r)
	if err != nil {
		return st, ioErr(err, "extract into %s", dir)
	}
	return st, nil
}

type dirTimes struct {
	path  string
	mode  os.FileMode
	mtime time.Time
}

type extractor struct {
	root  string
	opts  ExtractOptions
	ok    map[string]bool // directories known to be real directories, not symlinks
	dirs  []dirTimes
	links []string // symlinks created, checked again at the end
	st    ArchiveStats
}

func (x *extractor) run(ctx context.Context, r io.Reader) (ArchiveStats, error) {
	st, err := x.extractAll(ctx, r)
	// A symlink that is inside the root lexically may still leave it once
	// the symlinks it goes through are followed (l -> ".", s -> "l/l/.."),
	// and a later entry can change that: resolve each one against the final
	// tree, also when extraction stopped early, and remove offenders.
	for _, rel := range x.links {
		if !resolvesInside(x.root, rel) {
			_ = os.Remove(filepath.Join(x.root, filepath.FromSlash(rel)))
			if err == nil {
				err = newErr(ErrUnsafePath, "symlink %q resolves outside the target (or loops)", rel)
			}
		}
	}
	if err != nil {
		return st, err
	}
	return x.finishDirs()
}

func (x *extractor) extractAll(ctx context.Context, r io.Reader) (ArchiveStats, error) {
	if err := os.MkdirAll(x.root, 0o750); err != nil {
		return x.st, err
	}
	tr := tar.NewReader(r)
	buf := make([]byte, 256<<10)
	var entries int64
	for {
		if err := ctx.Err(); err != nil {
			return x.st, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.st, wrapErr(ErrCorrupt, err, "read tar header")
		}
		entries++
		if x.opts.MaxEntries > 0 && entries > x.opts.MaxEntries {
			return x.st, newErr(ErrCorrupt, "archive has more than %d entries", x.opts.MaxEntries)
		}
		if err := x.entry(tr, hdr, buf); err != nil {
			return x.st, err
		}
	}
	return x.st, nil
}

// finishDirs sets directory modes and times last, deepest first, as writing
// into a directory changes its mtime and a read-only mode would stop us.
func (x *extractor) finishDirs() (ArchiveStats, error) {
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		fi, err := os.Lstat(d.path)
		if err != nil || !fi.IsDir() {
			return x.st, newErr(ErrUnsafePath, "directory %s changed during extraction", d.path)
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return x.st, err
		}
		if err := os.Chtimes(d.path, d.mtime, d.mtime); err != nil {
			return x.st, err
		}
	}
	return x.st, nil
}

// cleanName checks an entry name and returns it relative and slash-separated
// ("" for the top directory itself).
func cleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", newErr(ErrUnsafePath, "entry name %q contains a NUL byte", name)
	}
	if len(name) > maxNameLen {
		return "", newErr(ErrUnsafePath, "entry name of %d bytes is longer than %d", len(name), maxNameLen)
	}
	if strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || filepath.IsAbs(name) {
		return "", newErr(ErrUnsafePath, "entry %q has an absolute path", name)
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", newErr(ErrUnsafePath, "entry %q has a \"..\" element", name)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "/"), nil
}

// mode returns the permission bits to apply: rwx for all plus sticky;
// setuid and setgid are dropped.
func modeOf(hdr *tar.Header) os.FileMode {
	m := os.FileMode(hdr.Mode).Perm()
	if hdr.Mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

func (x *extractor) entry(tr *tar.Reader, hdr *tar.Header, buf []byte) error {
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "" {
		return nil // the top directory: its mode and times stay the target's
	}
	if !strings.Contains(rel, "/") && strings.HasPrefix(rel, reservedPrefix) {
		x.st.Skipped++
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil
	case tar.TypeChar, tar.TypeBlock:
		return newErr(ErrUnsafePath, "entry %q is a device file", hdr.Name)
	case tar.TypeFifo:
		return newErr(ErrUnsafePath, "entry %q is a fifo", hdr.Name)
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeLink:
	default:
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != '\x00' && hdr.Typeflag != tar.TypeGNUSparse {
			return newErr(ErrCorrupt, "entry %q has unsupported type %q", hdr.Name, hdr.Typeflag)
		}
	}
	if err := x.parents(rel); err != nil {
		return err
	}
	full := filepath.Join(x.root, filepath.FromSlash(rel))
	fi, lerr := os.Lstat(full)
	exists := lerr == nil
	if lerr != nil && !errors.Is(lerr, fs.ErrNotExist) {
		return lerr
	}
	if exists && fi.Mode()&fs.ModeSymlink != 0 && hdr.Typeflag == tar.TypeDir {
		return newErr(ErrUnsafePath, "entry %q: a symlink is on disk where the directory goes", hdr.Name)
	}
	if exists && fi.IsDir() && hdr.Typeflag != tar.TypeDir {
		return newErr(ErrUnsafePath, "entry %q would replace a directory", hdr.Name)
	}
	// Anything else already there is replaced: unlink first, so that a
	// symlink is never followed and a hard-linked file is never rewritten.
	if exists && !fi.IsDir() {
		if err := os.Remove(full); err != nil {
			return err
		}
	}
	mtime := hdr.ModTime
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !exists {
			if err := os.Mkdir(full, 0o700); err != nil {
				return err
			}
		}
		x.ok[rel] = true
		x.dirs = append(x.dirs, dirTimes{full, modeOf(hdr), mtime})
		x.st.Dirs++
		return x.chown(full, hdr)

	case tar.TypeSymlink:
		if err := x.checkLinkTarget(rel, hdr.Linkname, hdr.Name); err != nil {
			return err
		}
		if err := os.Symlink(hdr.Linkname, full); err != nil {
			return err
		}
		x.st.Symlinks++
		x.links = append(x.links, rel)
		ts := unix.NsecToTimespec(mtime.UnixNano())
		_ = unix.UtimesNanoAt(unix.AT_FDCWD, full, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
		return x.chown(full, hdr)

	case tar.TypeLink:
		src, err := cleanName(hdr.Linkname)
		if err != nil || src == "" {
			return newErr(ErrUnsafePath, "hard link %q -> %q points outside the target", hdr.Name, hdr.Linkname)
		}
		if err := x.parents(src); err != nil {
			return err
		}
		srcFull := filepath.Join(x.root, filepath.FromSlash(src))
		sfi, err := os.Lstat(srcFull)
		if err != nil || !sfi.Mode().IsRegular() {
			return newErr(ErrUnsafePath, "hard link %q -> %q: target is not a regular file already extracted", hdr.Name, hdr.Linkname)
		}
		if err := os.Link(srcFull, full); err != nil {
			return err
		}
		x.st.Links++
		return nil

	default: // regular file
		if hdr.Size < 0 {
			return newErr(ErrCorrupt, "entry %q has negative size", hdr.Name)
		}
		if x.opts.MaxBytes > 0 && x.st.Bytes+hdr.Size > x.opts.MaxBytes {
			return newErr(ErrQuotaExceeded, "entry %q: archive holds more than %s", hdr.Name, FormatSize(x.opts.MaxBytes))
		}
		f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		n, err := io.CopyBuffer(f, tr, buf)
		x.st.Bytes += n
		if err == nil {
			err = f.Chmod(modeOf(hdr))
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) {
				return wrapErr(ErrCorrupt, err, "entry %q", hdr.Name)
			}
			return err
		}
		x.st.Files++
		if err := os.Chtimes(full, mtime, mtime); err != nil {
			return err
		}
		return x.chown(full, hdr)
	}
}

// parents makes sure every directory above rel exists inside the root as a
// real directory, creating missing ones; a symlink or a file on the way is
// refused.
func (x *extractor) parents(rel string) error {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return nil
	}
	dir := rel[:i]
	if x.ok[dir] {
		return nil
	}
	if err := x.parents(dir); err != nil {
		return err
	}
	full := filepath.Join(x.root, filepath.FromSlash(dir))
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(full, 0o750); err != nil {
			return err
		}
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return newErr(ErrUnsafePath, "path %q goes through a symlink", dir)
	case !fi.IsDir():
		return newErr(ErrUnsafePath, "path %q goes through a non-directory", dir)
	}
	x.ok[dir] = true
	return nil
}

// checkLinkTarget refuses a symlink at rel whose target is absolute or
// resolves, lexically, outside the root.
func (x *extractor) checkLinkTarget(rel, target, name string) error {
	if target == "" || strings.IndexByte(target, 0) >= 0 || len(target) > maxNameLen {
		return newErr(ErrUnsafePath, "symlink %q has an empty, overlong or NUL-bearing target", name)
	}
	if strings.HasPrefix(target, "/") || filepath.IsAbs(target) {
		return newErr(ErrUnsafePath, "symlink %q -> %q is absolute", name, target)
	}
	resolved := path.Join(path.Dir(rel), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return newErr(ErrUnsafePath, "symlink %q -> %q points outside the target", name, target)
	}
	return nil
}

func (x *extractor) chown(p string, hdr *tar.Header) error {
	if !x.opts.PreserveOwner {
		return nil
	}
	return os.Lchown(p, hdr.Uid, hdr.Gid)
}

// resolvesInside reports whether the path rel under root, with every symlink
// on it followed as the kernel would, stays inside root. A missing component
// ends the physical walk (the rest is resolved lexically); absolute targets,
// climbing above root and more than 40 hops (a loop) count as outside.
func resolvesInside(root, rel string) bool {
	var stack []string
	pending := strings.Split(rel, "/")
	hops := 0
	missing := false
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return false
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if missing {
			stack = append(stack, c)
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(strings.Join(append(stack, c), "/")))
		fi, err := os.Lstat(p)
		if err != nil {
			missing = true
			stack = append(stack, c)
			continue
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			stack = append(stack, c)
			continue
		}
		hops++
		t, err := os.Readlink(p)
		if err != nil || hops > 40 || strings.HasPrefix(t, "/") || filepath.IsAbs(t) {
			return false
		}
		pending = append(strings.Split(t, "/"), pending...)
	}
	return true
}
