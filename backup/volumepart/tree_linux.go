//go:build linux

package volumepart

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/volume"
	"golang.org/x/sys/unix"
)

// racyWindow is how close to its scan an entry's ctime may be before the
// entry is marked racy: a file changed right after the scan read it can
// keep the ctime it had, as inode times come from a clock that ticks
// coarsely (a jiffy; a second on filesystems with second timestamps).
// A racy entry is stored again by the next incremental whatever its
// metadata says.
const racyWindow = 2 * time.Second

type devIno struct{ dev, ino uint64 }

// scanTree lists the tree under dir in walk order (volume.Walk's: each
// directory's names sorted, as volume.Archive orders them) with the
// metadata of each entry: one fstatat per entry, nothing read. Sockets,
// fifos and devices are left out, as are the volume package's own files at
// the top, and entries that vanish or change type while the tree is
// scanned. scanned is the time the scan began, against which entries are
// marked racy.
func scanTree(ctx context.Context, dir string) (entries []entry, scanned int64, err error) {
	scanned = time.Now().UnixNano()
	racy := scanned - int64(racyWindow) // a ctime at or past this is racy
	err = volume.Walk(ctx, dir, &volume.WalkOptions{SkipReserved: true, SkipVanished: true}, func(w *volume.WalkEntry) error {
		e := entry{path: w.Path, mode: w.Perm, uid: w.Uid, gid: w.Gid,
			mtime: w.ModTime.UnixNano(), ctime: w.ChangeTime.UnixNano(),
			dev: w.Dev, ino: w.Ino, nlink: w.Nlink}
		switch w.Type {
		case fs.ModeDir:
			e.typ = 'd'
		case fs.ModeSymlink:
			e.typ, e.target = 'l', w.Target
		case 0:
			// The first name of an inode with several is stored as a
			// file, the others as hard links to it.
			e.typ, e.size, e.link = 'f', w.Size, w.Link
		default:
			return nil // what a volume part leaves out
		}
		e.racy = e.ctime >= racy
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return entries, scanned, nil
}

func readlinkat(fd int, name string, buf []byte) (string, error) {
	for {
		n, err := unix.Readlinkat(fd, name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// writeTree writes a format-2 part of the tree under dir to w: the
// deletion list and the index of what it stores first, then the entries
// (only those that differ from base when base is not nil, with the
// directories holding them), then the sums. base is the state of the tree
// at the base backup, nil for a self-contained part.
func writeTree(ctx context.Context, dir, baseID string, base map[string]*entry, w io.Writer) (partStats, error) {
	var ps partStats
	cur, scanned, err := scanTree(ctx, dir)
	if err != nil {
		return ps, err
	}
	emit, deleted := plan(cur, base)
	x := &index{base: baseID, scanned: scanned}
	for i := range cur {
		if emit[i] {
			x.entries = append(x.entries, cur[i])
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(passWriter{bw: bw, w: w})
	mtime := time.Unix(0, scanned)
	member := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(b)),
			ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		ps.members++
		return err
	}
	if err := member(DeletedMember, encodeDeleted(deleted)); err != nil {
		return ps, err
	}
	ps.deleted = int64(len(deleted))
	if err := member(IndexMember, x.encode()); err != nil {
		return ps, err
	}
	wr := &treeWriter{ctx: ctx, tw: tw, dir: filepath.Clean(dir), buf: make([]byte, 256<<10), h: sha256.New(),
		written: map[string]string{}, writtenIno: map[string]devIno{}, ps: &ps}
	err = wr.run(x.entries)
	wr.close()
	if err != nil {
		return ps, err
	}
	if err := member(SumsMember, wr.sums); err != nil {
		return ps, err
	}
	if err := tw.Close(); err != nil {
		return ps, err
	}
	return ps, bw.Flush()
}

// plan decides what a part stores: emit[i] for cur[i], and the deletions
// (walk order). Without a base everything is stored. Otherwise an entry is
// stored when the base has none of its name, or one with other metadata
// (type, mode, owner, size, times, inode, link count, target, first name),
// or one marked racy; every name of an inode goes when one does, and the
// directory holding a stored or deleted entry goes too (extraction and
// deletion move its mtime, which only its entry sets back).
func plan(cur []entry, base map[string]*entry) (emit []bool, deleted []string) {
	emit = make([]bool, len(cur))
	if base == nil {
		for i := range emit {
			emit[i] = true
		}
		return emit, nil
	}
	at := make(map[string]int, len(cur))
	group := map[devIno][]int{}
	for i := range cur {
		e := &cur[i]
		at[e.path] = i
		if b := base[e.path]; b == nil || b.racy || !b.same(e) {
			emit[i] = true
		}
		if e.typ == 'f' && e.nlink > 1 {
			k := devIno{e.dev, e.ino}
			group[k] = append(group[k], i)
		}
	}
	for _, g := range group {
		if slices.ContainsFunc(g, func(i int) bool { return emit[i] }) {
			for _, i := range g {
				emit[i] = true
			}
		}
	}
	for p, b := range base {
		if i, ok := at[p]; !ok || cur[i].typ != b.typ {
			deleted = append(deleted, p)
		}
	}
	slices.SortFunc(deleted, cmpPath)
	parent := func(p string) {
		if d := path.Dir(p); d != "." {
			if i, ok := at[d]; ok && cur[i].typ == 'd' {
				emit[i] = true
			}
		}
	}
	changed := make([]string, 0, 64)
	for i := range cur {
		if emit[i] {
			changed = append(changed, cur[i].path)
		}
	}
	for _, p := range changed {
		parent(p)
	}
	for _, p := range deleted {
		parent(p)
	}
	return emit, deleted
}

// treeWriter writes the stored entries, each reached from the descriptor
// of its directory (a stack of the directories open along the walk), never
// through a symlink, and stat'ed again right before it is read, so the
// index's metadata is never newer than the content stored.
type treeWriter struct {
	ctx        context.Context
	tw         *tar.Writer
	dir        string
	stack      []openDir
	buf        []byte
	h          hash.Hash
	sums       []byte
	written    map[string]string // first name of an inode (in the index) → the name stored as its file
	writtenIno map[string]devIno // that stored file's inode
	ps         *partStats
}

type openDir struct {
	rel string
	fd  int
}

// errVanished: the entry is gone or changed type since the scan.
var errVanished = errors.New("vanished")

func (t *treeWriter) close() {
	for _, d := range t.stack {
		unix.Close(d.fd)
	}
	t.stack = nil
}

// parent returns the descriptor of the directory rel (relative, "" for
// the top), opening what is missing from the stack.
func (t *treeWriter) parent(rel string) (int, error) {
	if len(t.stack) == 0 {
		fd, err := unix.Open(t.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: t.dir, Err: err}
		}
		t.stack = append(t.stack, openDir{"", fd})
	}
	for len(t.stack) > 1 {
		top := t.stack[len(t.stack)-1].rel
		if rel == top || strings.HasPrefix(rel, top+"/") {
			break
		}
		unix.Close(t.stack[len(t.stack)-1].fd)
		t.stack = t.stack[:len(t.stack)-1]
	}
	top := t.stack[len(t.stack)-1]
	if rel == top.rel {
		return top.fd, nil
	}
	rest := rel
	if top.rel != "" {
		rest = rel[len(top.rel)+1:]
	}
	cur := top
	for _, el := range strings.Split(rest, "/") {
		fd, err := unix.Openat(cur.fd, el, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			if err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ELOOP {
				return -1, errVanished
			}
			return -1, &fs.PathError{Op: "open", Path: t.dir + "/" + cur.rel + "/" + el, Err: err}
		}
		next := el
		if cur.rel != "" {
			next = cur.rel + "/" + el
		}
		cur = openDir{next, fd}
		t.stack = append(t.stack, cur)
	}
	return cur.fd, nil
}

func (t *treeWriter) run(entries []entry) error {
	for i := range entries {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		err := t.entry(&entries[i])
		if errors.Is(err, errVanished) {
			// Listed but gone: the restore keeps what the base had
			// there, and as its inode changed, the next incremental
			// stores it again.
			t.ps.vanished++
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *treeWriter) entry(e *entry) error {
	dir, name := path.Split(e.path)
	pfd, err := t.parent(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return err
	}
	var st unix.Stat_t
	hdr := func(st *unix.Stat_t) *tar.Header {
		sec, nsec := st.Mtim.Unix()
		return &tar.Header{Name: e.path, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
			ModTime: time.Unix(sec, nsec), Format: tar.FormatPAX}
	}
	lstat := func(want uint32) error {
		if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if err == unix.ENOENT {
				return errVanished
			}
			return &fs.PathError{Op: "lstat", Path: t.dir + "/" + e.path, Err: err}
		}
		if st.Mode&unix.S_IFMT != want {
			return errVanished
		}
		return nil
	}
	switch e.typ {
	case 'd':
		if err := lstat(unix.S_IFDIR); err != nil {
			return err
		}
		h := hdr(&st)
		h.Typeflag, h.Name = tar.TypeDir, e.path+"/"
		t.ps.dirs++
		return t.tw.WriteHeader(h)
	case 'l':
		if err := lstat(unix.S_IFLNK); err != nil {
			return err
		}
		target, err := readlinkat(pfd, name, t.buf)
		if err != nil {
			if err == unix.ENOENT || err == unix.EINVAL {
				return errVanished
			}
			return &fs.PathError{Op: "readlink", Path: t.dir + "/" + e.path, Err: err}
		}
		h := hdr(&st)
		h.Typeflag, h.Linkname = tar.TypeSymlink, target
		t.ps.symlinks++
		return t.tw.WriteHeader(h)
	}
	first := e.path
	if e.link != "" {
		first = e.link
		if stored, ok := t.written[first]; ok {
			if err := lstat(unix.S_IFREG); err != nil {
				return err
			}
			if (devIno{uint64(st.Dev), uint64(st.Ino)}) == t.writtenIno[first] {
				h := hdr(&st)
				h.Typeflag, h.Linkname = tar.TypeLink, stored
				t.ps.links++
				return t.tw.WriteHeader(h)
			}
			// Another file now: stored as one.
		}
	}
	fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT || err == unix.ELOOP || err == unix.ENXIO {
			return errVanished
		}
		return &fs.PathError{Op: "open", Path: t.dir + "/" + e.path, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: t.dir + "/" + e.path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errVanished
	}
	h := hdr(&st)
	h.Typeflag, h.Size = tar.TypeReg, st.Size
	if err := t.tw.WriteHeader(h); err != nil {
		return err
	}
	if _, ok := t.written[first]; !ok {
		t.written[first] = e.path
		t.writtenIno[first] = devIno{uint64(st.Dev), uint64(st.Ino)}
	}
	t.h.Reset()
	var n int64
	for n < st.Size {
		k, err := unix.Read(fd, t.buf[:min(int64(len(t.buf)), st.Size-n)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "read", Path: t.dir + "/" + e.path, Err: err}
		}
		if k == 0 {
			break
		}
		t.h.Write(t.buf[:k])
		if _, err := t.tw.Write(t.buf[:k]); err != nil {
			return err
		}
		n += int64(k)
	}
	if n != st.Size {
		return &fs.PathError{Op: "read", Path: t.dir + "/" + e.path, Err: errShrank}
	}
	t.ps.files++
	t.ps.bytes += n
	var sum [sha256.Size]byte
	t.sums = appendSum(t.sums, t.h.Sum(sum[:0]), e.path)
	return nil
}

// errShrank: a file got shorter while it was read (volume.Archive fails
// the same way: the tar header already promised its size).
var errShrank = errors.New("file shrank while archived")

// removePaths removes each path (relative to dir, and everything under it)
// the way extraction writes: each directory on the way opened relative to
// its parent without following a symlink, so nothing outside dir is
// touched whatever the tree holds. A path already absent (or behind
// something that is no longer a directory) is skipped. It returns how many
// paths it removed.
func removePaths(dir string, paths []string) (int, error) {
	if len(paths) == 0 {
		return 0, nil
	}
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	t := &treeWriter{dir: dir, stack: []openDir{{"", root}}}
	defer t.close()
	n := 0
	for _, p := range paths {
		d, name := path.Split(p)
		pfd, err := t.parent(strings.TrimSuffix(d, "/"))
		if errors.Is(err, errVanished) {
			continue
		}
		if err != nil {
			return n, err
		}
		gone, err := removeAt(pfd, name, dir+"/"+p)
		if err != nil {
			return n, err
		}
		if gone {
			n++
		}
	}
	return n, nil
}

// removeAt removes name in the directory dfd, recursively; false when
// there was nothing.
func removeAt(dfd int, name, full string) (bool, error) {
	err := unix.Unlinkat(dfd, name, 0)
	switch err {
	case nil:
		return true, nil
	case unix.ENOENT:
		return false, nil
	case unix.EISDIR, unix.EPERM:
	default:
		return false, &fs.PathError{Op: "unlink", Path: full, Err: err}
	}
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			return false, nil
		}
		return false, &fs.PathError{Op: "open", Path: full, Err: err}
	}
	_ = unix.Fchmod(fd, 0o700) // its entries go, and it with them: let them be read and removed
	f := os.NewFile(uintptr(fd), full)
	names, err := f.Readdirnames(-1)
	if err == nil {
		for _, n := range names {
			if _, err = removeAt(fd, n, full+"/"+n); err != nil {
				break
			}
		}
	}
	f.Close()
	if err != nil {
		return false, err
	}
	if err := unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return false, &fs.PathError{Op: "rmdir", Path: full, Err: err}
	}
	return true, nil
}

// passWriter batches the tar stream's small writes (headers, padding,
// small files) in bw and hands large content writes to w directly, after
// what bw holds: one copy of file contents fewer.
type passWriter struct {
	bw *bufio.Writer
	w  io.Writer
}

func (p passWriter) Write(b []byte) (int, error) {
	if len(b) < 64<<10 {
		return p.bw.Write(b)
	}
	if err := p.bw.Flush(); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

// makeWritable gives the owner write and search permission on each
// directory of entries that exists under dir, so a later part of a chain
// can replace and delete in a directory the tree keeps read-only; its
// entry in the same part sets its mode back once extraction is done.
// Directories it cannot open are left as they are (extraction then
// reports what it cannot write).
func makeWritable(dir string, entries []entry) error {
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	t := &treeWriter{dir: dir, stack: []openDir{{"", root}}}
	defer t.close()
	var st unix.Stat_t
	for i := range entries {
		e := &entries[i]
		if e.typ != 'd' {
			continue
		}
		d, name := path.Split(e.path)
		pfd, err := t.parent(strings.TrimSuffix(d, "/"))
		if err != nil {
			continue // not there (yet): extraction makes it
		}
		fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if unix.Fstat(fd, &st) == nil && st.Mode&0o300 != 0o300 {
			_ = unix.Fchmod(fd, (st.Mode&0o7777)|0o700)
		}
		unix.Close(fd)
	}
	return nil
}
