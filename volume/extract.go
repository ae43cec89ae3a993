//go:build linux

package volume

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// maxNameLen bounds entry names: PATH_MAX on Linux.
const maxNameLen = 4096

// maxOpenDirs bounds the directory descriptors an extraction keeps open (the
// directories on the path of the latest entry); deeper directories are
// opened for one entry and closed again.
const maxOpenDirs = 64

// Extract reads a tar stream from r into dir (created if missing), safely:
// nothing outside dir is created, changed or removed, whatever the archive
// holds and whatever symlinks dir already contains.
//
//   - Every entry is reached from a descriptor of dir one name at a time,
//     each directory opened relative to its parent with O_NOFOLLOW and
//     O_DIRECTORY, and the entry itself is made relative to its parent's
//     descriptor by calls that do not follow a symlink either (openat with
//     O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat, symlinkat, linkat, unlinkat). So
//     no entry is ever written through a symlink, whether from the archive
//     or already on disk, and no path check can go stale before the write:
//     there is none to make.
//   - Absolute names, names with a ".." element or a NUL byte are refused.
//   - A symlink's target must be relative, and its ".." elements must all
//     come first, no more of them than the link's depth below dir: d/e/l may
//     point to "../x" or "../../x", never to "../../../x" nor to "y/../x".
//     As a link lives in a real directory, its leading ".." climb
//     physically and stay in dir; the rest only descends, through real
//     directories or through links held to the same rule. So a link made by
//     Extract never resolves outside dir, whatever entries arrive later, in
//     the same extraction or in another one into the same directory. A link
//     that reaches outside through a symlink already on disk (one Extract
//     did not make) is removed at the end and reported.
//   - A hard link must name a regular file already in dir, reached the same
//     way; device files and fifos are refused.
//   - A directory is never replaced by a file or a symlink, nor a symlink by
//     a directory. Anything else at an entry's name is unlinked first, so a
//     directory entry replaces a file of its name and a file on disk (or a
//     hard link to one elsewhere) is never written into.
//   - Setuid and setgid bits are dropped.
//
// dir itself is resolved as any path argument (it may be a symlink the
// caller chose). Extract holds descriptors of the directories it works in:
// a process that renames one of them out of dir meanwhile (which needs
// write access both in dir and where it moves it) has Extract write there.
//
// Each violation fails with ErrUnsafePath naming the entry; a malformed
// stream (including oversized headers, which archive/tar refuses) fails with
// ErrCorrupt; the space limit with ErrQuotaExceeded. Modes and modification
// times are restored, directories' last. Cancelling ctx stops the
// extraction between entries and while a file's content is copied (ctx is
// checked at every read of r), with ctx's error; a file left incomplete by
// any error is removed. A Read of r that blocks is not interrupted, so a
// network r should honour ctx itself. On error, entries already extracted
// stay; Restore extracts into a temporary directory so a volume never sees
// a half extraction.
func Extract(ctx context.Context, r io.Reader, dir string, opts ExtractOptions) (ArchiveStats, error) {
	x := &extractor{root: filepath.Clean(dir), opts: opts, rootfd: -1}
	st, err := x.run(ctx, r)
	x.close()
	if err != nil {
		return st, ioErr(err, "extract into %s", dir)
	}
	return st, nil
}

// dirMeta is a directory entry's mode and time, applied at the end.
type dirMeta struct {
	rel   string
	depth int
	mode  uint32
	mtime time.Time
}

type extractor struct {
	root   string
	opts   ExtractOptions
	rootfd int
	block  int64 // the filesystem's block size: the least an entry is charged
	used   int64 // space charged against opts.MaxBytes
	// The directories on the path of the latest entry, open: fds[i] is
	// path[:i+1] below the root.
	path  []string
	fds   []int
	dirs  []dirMeta
	links []string // symlinks made, checked against the final tree
	buf   []byte
	st    ArchiveStats
}

func (x *extractor) close() {
	x.drop(0)
	if x.rootfd >= 0 {
		_ = unix.Close(x.rootfd)
		x.rootfd = -1
	}
}

// drop closes the open directories below the first n of the path.
func (x *extractor) drop(n int) {
	for _, fd := range x.fds[n:] {
		_ = unix.Close(fd)
	}
	x.fds, x.path = x.fds[:n], x.path[:n]
}

func (x *extractor) run(ctx context.Context, r io.Reader) (ArchiveStats, error) {
	if err := os.MkdirAll(x.root, 0o750); err != nil {
		return x.st, err
	}
	fd, err := unix.Open(x.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return x.st, &fs.PathError{Op: "open", Path: x.root, Err: err}
	}
	x.rootfd = fd
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil {
		x.block = int64(st.Blksize)
	}
	x.block = min(max(x.block, 512), 64<<10)
	x.buf = make([]byte, 256<<10)
	err = x.extractAll(ctx, r)
	if lerr := x.checkLinks(); err == nil {
		err = lerr
	}
	if err == nil {
		err = x.finishDirs()
	}
	return x.st, err
}

func (x *extractor) extractAll(ctx context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	var entries int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return wrapErr(ErrCorrupt, err, "read tar header")
		}
		entries++
		if x.opts.MaxEntries > 0 && entries > x.opts.MaxEntries {
			return newErr(ErrCorrupt, "archive has more than %d entries", x.opts.MaxEntries)
		}
		if err := x.entry(ctx, tr, hdr); err != nil {
			return err
		}
	}
}

// checkLinks resolves each symlink made against the final tree, as the
// kernel would, and removes those that leave the root. Links made under
// checkLinkTarget's rule cannot; this catches a path through a symlink that
// was on disk before the extraction.
func (x *extractor) checkLinks() error {
	var err error
	for _, rel := range x.links {
		if resolvesInside(x.root, rel) {
			continue
		}
		dir, base := splitRel(rel)
		if fd, done, oerr := x.openDir(dir, false); oerr == nil {
			var st unix.Stat_t
			if unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				_ = unix.Unlinkat(fd, base, 0)
			}
			done()
		}
		if err == nil {
			err = newErr(ErrUnsafePath, "symlink %q resolves outside the target (or loops)", rel)
		}
	}
	return err
}

// finishDirs sets directory modes and times last, as writing into a
// directory changes its mtime and a read-only mode would stop us; deepest
// first, so that a directory's restrictive mode never stops the walk to one
// below it. Of two entries for one directory the later wins.
func (x *extractor) finishDirs() error {
	sort.SliceStable(x.dirs, func(i, j int) bool { return x.dirs[i].depth > x.dirs[j].depth })
	for _, d := range x.dirs {
		dir, base := splitRel(d.rel)
		pfd, done, err := x.openDir(dir, false)
		if err != nil {
			return newErr(ErrUnsafePath, "directory %q changed during extraction", d.rel)
		}
		err = x.finishDir(pfd, base, d)
		done()
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) finishDir(pfd int, base string, d dirMeta) error {
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return newErr(ErrUnsafePath, "directory %q changed during extraction", d.rel)
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, d.mode); err != nil {
		return x.pathErr("chmod", d.rel, err)
	}
	ts := unix.NsecToTimespec(d.mtime.UnixNano())
	if err := unix.UtimesNanoAt(pfd, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return x.pathErr("chtimes", d.rel, err)
	}
	return nil
}

func (x *extractor) pathErr(op, rel string, err error) error {
	return &fs.PathError{Op: op, Path: filepath.Join(x.root, filepath.FromSlash(rel)), Err: err}
}

// splitRel splits a cleaned relative name into its directory ("" at the
// top) and last element.
func splitRel(rel string) (dir, base string) {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i], rel[i+1:]
	}
	return "", rel
}

func noop() {}

// errNoDir reports a directory missing on a walk that creates none.
var errNoDir = errors.New("no such directory")

// openDir returns a descriptor of the directory rel below the root ("" for
// the root), reached one element at a time without following a symlink.
// Missing directories are created when create is set (charged like
// directory entries), otherwise reported as errNoDir; a symlink or a
// non-directory on the way fails with ErrUnsafePath. The descriptor belongs
// to x; the caller calls done when it no longer uses it, before the next
// openDir.
func (x *extractor) openDir(rel string, create bool) (fd int, done func(), err error) {
	if rel == "" {
		return x.rootfd, noop, nil
	}
	parts := strings.Split(rel, "/")
	n := 0
	for n < len(x.path) && n < len(parts) && x.path[n] == parts[n] {
		n++
	}
	x.drop(n)
	fd = x.rootfd
	if n > 0 {
		fd = x.fds[n-1]
	}
	transient := false // fd is ours to close, beyond the kept ones
	for i := n; i < len(parts); i++ {
		sub, err := x.openSub(fd, parts[i], strings.Join(parts[:i+1], "/"), create)
		if transient {
			_ = unix.Close(fd)
		}
		if err != nil {
			return -1, noop, err
		}
		fd = sub
		if i < maxOpenDirs {
			x.path, x.fds = append(x.path, parts[i]), append(x.fds, sub)
		} else {
			transient = true
		}
	}
	if transient {
		return fd, func() { _ = unix.Close(fd) }, nil
	}
	return fd, noop, nil
}

// openSub opens the directory name in dirfd (rel being its name below the
// root), creating it if missing and create is set.
func (x *extractor) openSub(dirfd int, name, rel string, create bool) (int, error) {
	for made := false; ; {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return fd, nil
		case err == unix.EINTR:
			continue
		case err == unix.ENOENT && create && !made:
			if err := x.fits(rel+"/", x.block); err != nil {
				return -1, err
			}
			if err := unix.Mkdirat(dirfd, name, 0o750); err != nil && err != unix.EEXIST {
				return -1, x.pathErr("mkdir", rel, err)
			}
			if err := x.charge(dirfd, name, 0, rel+"/"); err != nil {
				return -1, err
			}
			made = true
			continue
		case err == unix.ENOENT:
			return -1, errNoDir
		case err == unix.ELOOP || err == unix.EMLINK || err == unix.ENOTDIR:
			// ELOOP (EMLINK on FreeBSD) is O_NOFOLLOW meeting a symlink.
			var st unix.Stat_t
			if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return -1, newErr(ErrUnsafePath, "path %q goes through a symlink", rel)
			}
			return -1, newErr(ErrUnsafePath, "path %q goes through a non-directory", rel)
		default:
			return -1, x.pathErr("open", rel, err)
		}
	}
}

// roundUp returns n rounded up to the block size, at least one block.
func (x *extractor) roundUp(n int64) int64 {
	if n > math.MaxInt64-x.block {
		return math.MaxInt64
	}
	return max((n+x.block-1)/x.block*x.block, x.block)
}

// fits fails with ErrQuotaExceeded if n more bytes would pass MaxBytes.
func (x *extractor) fits(name string, n int64) error {
	if x.opts.MaxBytes > 0 && n > x.opts.MaxBytes-x.used {
		return newErr(ErrQuotaExceeded, "entry %q: the extraction takes more than %s on disk", name, FormatSize(x.opts.MaxBytes))
	}
	return nil
}

// charge adds what the entry base in dirfd, of size content bytes, takes on
// disk to the space used, and checks the limit again.
func (x *extractor) charge(dirfd int, base string, size int64, name string) error {
	if x.opts.MaxBytes <= 0 {
		return nil // no limit: spare the stat
	}
	n := x.roundUp(size)
	var st unix.Stat_t
	if unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
		n = max(n, int64(st.Blocks)*512)
	}
	if err := x.fits(name, n); err != nil {
		return err
	}
	x.used += n
	return nil
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

// modeOf returns the permission bits to apply: rwx for all plus sticky;
// setuid and setgid are dropped.
func modeOf(hdr *tar.Header) os.FileMode {
	m := os.FileMode(hdr.Mode).Perm()
	if hdr.Mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// checkLinkTarget refuses a symlink at rel unless its target is relative,
// non-empty, and has its ".." elements first and no more of them than rel's
// directory is deep (see Extract for why that keeps every link inside).
func checkLinkTarget(rel, target, name string) error {
	if target == "" || strings.IndexByte(target, 0) >= 0 || len(target) > maxNameLen {
		return newErr(ErrUnsafePath, "symlink %q has an empty, overlong or NUL-bearing target", name)
	}
	if strings.HasPrefix(target, "/") || filepath.IsAbs(target) {
		return newErr(ErrUnsafePath, "symlink %q -> %q is absolute", name, target)
	}
	depth := strings.Count(rel, "/")
	up, named := 0, false
	for _, p := range strings.Split(target, "/") {
		switch p {
		case "", ".":
		case "..":
			if named {
				return newErr(ErrUnsafePath, "symlink %q -> %q has \"..\" after a name, which leaves the target if a symlink takes that name", name, target)
			}
			if up++; up > depth {
				return newErr(ErrUnsafePath, "symlink %q -> %q points outside the target", name, target)
			}
		default:
			named = true
		}
	}
	return nil
}

// linkSource returns a descriptor of the directory holding the hard link
// target of hdr (the caller closes it) and the target's name in it, after
// checking that it is a regular file inside the root.
func (x *extractor) linkSource(hdr *tar.Header) (int, string, error) {
	src, err := cleanName(hdr.Linkname)
	if err != nil || src == "" {
		return -1, "", newErr(ErrUnsafePath, "hard link %q -> %q points outside the target", hdr.Name, hdr.Linkname)
	}
	notFile := newErr(ErrUnsafePath, "hard link %q -> %q: target is not a regular file already extracted", hdr.Name, hdr.Linkname)
	dir, base := splitRel(src)
	fd, done, err := x.openDir(dir, false)
	if err != nil {
		if errors.Is(err, ErrUnsafePath) {
			return -1, "", err
		}
		return -1, "", notFile
	}
	defer done()
	var st unix.Stat_t
	if err := unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return -1, "", notFile
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, "", x.pathErr("dup", dir, err)
	}
	return dup, base, nil
}

func (x *extractor) entry(ctx context.Context, tr *tar.Reader, hdr *tar.Header) error {
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
		if hdr.Typeflag != '\x00' && hdr.Typeflag != tar.TypeGNUSparse {
			return newErr(ErrCorrupt, "entry %q has unsupported type %q", hdr.Name, hdr.Typeflag)
		}
	}
	srcfd, srcBase := -1, ""
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		if err := checkLinkTarget(rel, hdr.Linkname, hdr.Name); err != nil {
			return err
		}
	case tar.TypeLink:
		if srcfd, srcBase, err = x.linkSource(hdr); err != nil {
			return err
		}
		defer unix.Close(srcfd)
	}
	dir, base := splitRel(rel)
	dfd, done, err := x.openDir(dir, true)
	if err != nil {
		if err == errNoDir {
			err = x.pathErr("open", dir, unix.ENOENT)
		}
		return err
	}
	defer done()

	var st unix.Stat_t
	exists := true
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == unix.ENOENT {
		exists = false
	} else if err != nil {
		return x.pathErr("lstat", rel, err)
	}
	isDir := exists && st.Mode&unix.S_IFMT == unix.S_IFDIR
	if exists && st.Mode&unix.S_IFMT == unix.S_IFLNK && hdr.Typeflag == tar.TypeDir {
		return newErr(ErrUnsafePath, "entry %q: a symlink is on disk where the directory goes", hdr.Name)
	}
	if isDir && hdr.Typeflag != tar.TypeDir {
		return newErr(ErrUnsafePath, "entry %q would replace a directory", hdr.Name)
	}
	// Anything else already there is replaced: unlinked first, so that a
	// symlink is never followed and a hard-linked file never rewritten.
	if exists && !isDir {
		if err := unix.Unlinkat(dfd, base, 0); err != nil {
			return x.pathErr("unlink", rel, err)
		}
	}
	ts := unix.NsecToTimespec(hdr.ModTime.UnixNano())
	times := []unix.Timespec{ts, ts}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !isDir {
			if err := x.fits(hdr.Name, x.block); err != nil {
				return err
			}
			if err := unix.Mkdirat(dfd, base, 0o700); err != nil {
				return x.pathErr("mkdir", rel, err)
			}
			if err := x.charge(dfd, base, 0, hdr.Name); err != nil {
				return err
			}
		}
		mode := uint32(hdr.Mode & 0o777)
		if hdr.Mode&0o1000 != 0 {
			mode |= unix.S_ISVTX
		}
		x.dirs = append(x.dirs, dirMeta{rel: rel, depth: strings.Count(rel, "/"), mode: mode, mtime: hdr.ModTime})
		x.st.Dirs++
		return x.chown(dfd, base, hdr)

	case tar.TypeSymlink:
		if err := x.fits(hdr.Name, x.block); err != nil {
			return err
		}
		if err := unix.Symlinkat(hdr.Linkname, dfd, base); err != nil {
			return x.pathErr("symlink", rel, err)
		}
		x.st.Symlinks++
		x.links = append(x.links, rel)
		_ = unix.UtimesNanoAt(dfd, base, times, unix.AT_SYMLINK_NOFOLLOW)
		if err := x.charge(dfd, base, 0, hdr.Name); err != nil {
			return err
		}
		return x.chown(dfd, base, hdr)

	case tar.TypeLink:
		// A hard link takes a directory entry, not an inode: one block.
		if err := x.fits(hdr.Name, x.block); err != nil {
			return err
		}
		// Flags 0: a symlink swapped in for the source since the check is
		// linked itself, not followed; it is caught below.
		if err := unix.Linkat(srcfd, srcBase, dfd, base, 0); err != nil {
			return x.pathErr("link", rel, err)
		}
		if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			_ = unix.Unlinkat(dfd, base, 0)
			return newErr(ErrUnsafePath, "hard link %q -> %q: target changed during extraction", hdr.Name, hdr.Linkname)
		}
		x.used += x.block // a directory entry, no inode
		x.st.Links++
		return nil

	default: // regular file
		if hdr.Size < 0 {
			return newErr(ErrCorrupt, "entry %q has negative size", hdr.Name)
		}
		if err := x.fits(hdr.Name, x.roundUp(hdr.Size)); err != nil {
			return err
		}
		if err := x.file(ctx, tr, hdr, dfd, base, rel); err != nil {
			// Never leave a partial file looking complete.
			_ = unix.Unlinkat(dfd, base, 0)
			return err
		}
		x.st.Files++
		if err := unix.UtimesNanoAt(dfd, base, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return x.pathErr("chtimes", rel, err)
		}
		return x.charge(dfd, base, hdr.Size, hdr.Name)
	}
}

// file creates base in dfd, which must not exist, and copies the entry's
// content into it, checking ctx before every read of the stream.
func (x *extractor) file(ctx context.Context, tr *tar.Reader, hdr *tar.Header, dfd int, base, rel string) error {
	fd, err := unix.Openat(dfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return x.pathErr("open", rel, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(x.root, filepath.FromSlash(rel)))
	n, err := x.copy(ctx, f, tr)
	x.st.Bytes += n
	if err == nil && x.opts.PreserveOwner {
		err = f.Chown(hdr.Uid, hdr.Gid)
	}
	if err == nil {
		err = f.Chmod(modeOf(hdr))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) {
		return wrapErr(ErrCorrupt, err, "entry %q", hdr.Name)
	}
	return err
}

// copy copies r to w through x.buf, stopping with ctx's error as soon as it
// is done.
func (x *extractor) copy(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := r.Read(x.buf)
		if k > 0 {
			m, werr := w.Write(x.buf[:k])
			n += int64(m)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

func (x *extractor) chown(dfd int, base string, hdr *tar.Header) error {
	if !x.opts.PreserveOwner {
		return nil
	}
	return unix.Fchownat(dfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW)
}

// resolvesInside reports whether the path rel under root, with every symlink
// on it followed as the kernel would, stays inside root. A loop counts as
// not inside: the extractor's final check removes such links too.
func resolvesInside(root, rel string) bool { return resolve(root, rel) == resolvedInside }

// resolution is where a path under root ends once its symlinks are followed.
type resolution int

const (
	resolvedInside  resolution = iota
	resolvedOutside            // climbs above root or meets an absolute target
	resolvedLoop               // more than 40 hops: the kernel answers ELOOP
)

// resolve follows the path rel under root as the kernel would. A missing
// component ends the physical walk (the rest is resolved lexically, as it
// would be once those names appear as directories).
func resolve(root, rel string) resolution {
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
				return resolvedOutside
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
		if hops > 40 {
			return resolvedLoop
		}
		t, err := os.Readlink(p)
		if err != nil || strings.HasPrefix(t, "/") || filepath.IsAbs(t) {
			return resolvedOutside
		}
		pending = append(strings.Split(t, "/"), pending...)
	}
	return resolvedInside
}
