package volume

import (
	"io/fs"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
)

// ErrEntryReplaced is the cause (in an *fs.PathError) of a
// WalkEntry.Open whose name, since the entry's stat, names another inode:
// a file renamed over it, or something else put in its place. Its kind is
// errkind.Aborted: the tree changed under the walk, a retry may succeed.
var ErrEntryReplaced = errkind.New(errkind.Aborted, "volume: entry replaced since its stat")

// WalkFunc is called by Walk for each entry of the tree, parents before
// their contents. e is valid only during the call (Walk reuses it): copy
// what is kept. Returning fs.SkipDir from a directory's call leaves its
// contents out; from any other entry's call, the rest of its directory.
// Returning fs.SkipAll ends the walk without error. Any other error ends
// the walk, and Walk returns it unchanged.
type WalkFunc func(e *WalkEntry) error

// WalkOptions are the choices of a Walk. The zero value (or nil) visits
// every entry and fails on any entry that changes under the walk after
// its stat, except one that is gone before it (always skipped).
type WalkOptions struct {
	// SkipReserved leaves out the package's own files at the top of the
	// tree (names starting with ".lucid-volume": metadata, manifest), as
	// Archive does.
	SkipReserved bool
	// SkipVanished skips, rather than fails on, an entry that is removed
	// or replaced between its stat and the next system call on it: a
	// directory that cannot be opened as one any more (ENOENT, ENOTDIR,
	// ELOOP: removed, or swapped for a file or a symlink), a symlink whose
	// target cannot be read any more (ENOENT, EINVAL). Such an entry is
	// not passed to fn. Walks that tolerate a live tree (a backup scan
	// that stores the tree as it finds it) set it; Archive does not, so a
	// tree changing under it fails the archive.
	SkipVanished bool
}

// WalkEntry is one entry of the tree as a single fstatat (without
// following a symlink) relative to its directory's descriptor found it.
type WalkEntry struct {
	// Path is the entry's slash-separated path relative to the top of
	// the walk ("a/b/c"); Name is its last element.
	Path, Name string
	// Type is the entry's type bits: fs.ModeDir, fs.ModeSymlink, 0 for a
	// regular file, or fs.ModeNamedPipe, fs.ModeSocket, fs.ModeDevice
	// (with fs.ModeCharDevice for a character device) or
	// fs.ModeIrregular, which Walk passes on and never opens.
	Type fs.FileMode
	// Perm is st_mode & 0o7777: the permission bits with setuid, setgid
	// and sticky as stat(2) has them (the form tar headers take).
	Perm uint32
	// Uid and Gid are the owner ids.
	Uid, Gid uint32
	// Size is st_size: a regular file's length in bytes (for other types
	// what the filesystem reports).
	Size int64
	// ModTime and ChangeTime are st_mtim and st_ctim, to the nanosecond.
	ModTime, ChangeTime time.Time
	// Dev, Ino and Nlink identify the inode and count its names.
	Dev, Ino, Nlink uint64
	// Target is a symlink's target, read with readlinkat right after the
	// stat; "" for other types.
	Target string
	// Link is set on a regular file whose inode (Dev, Ino; Nlink > 1) an
	// earlier entry of this walk already had: that first entry's Path.
	Link string

	w     *treeWalker
	dirfd int    // the descriptor of the directory holding the entry
	dir   string // that directory's path, for errors
}

// IsDir reports whether the entry is a directory.
func (e *WalkEntry) IsDir() bool { return e.Type == fs.ModeDir }

// IsRegular reports whether the entry is a regular file.
func (e *WalkEntry) IsRegular() bool { return e.Type == 0 }

// WalkFile is a regular file of the tree open for reading, from
// WalkEntry.Open. It is a bare descriptor (no poller, no finalizer) that
// the walk owns: it is valid only during the WalkFunc's call, and the walk
// closes it after the call if the caller has not.
type WalkFile struct {
	fd        int
	dir, name string // for errors
}
