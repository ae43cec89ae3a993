// Package volumepart backs up and restores directories (Lucid volumes) as
// parts of a backup, self-contained or incremental on an earlier backup.
//
// # Format
//
// A part is a plain tar stream (PAX format, the entries volume.Archive
// writes: modes, times to the nanosecond, owner ids, symlinks and hard
// links; sparse files as their full bytes) with three members of reserved
// names around the entries:
//
//	.lucid-volume-part.deleted  first: NUL-separated paths to remove before extracting (empty when self-contained)
//	.lucid-volume-part.index    second: what the part stores, with the metadata the next incremental compares
//	<entries>                   directories, files, symlinks, hard links, in walk order
//	.lucid-volume-part.sums     last: SHA-256 of every file stored, in sha256sum's format
//
// The index is text: a header ("lucid-volume-index 1", "base <ID or ->",
// "scanned <unix ns>"), one line per stored entry
//
//	<d|f|l> <mode octal> <uid> <gid> <size> <mtime ns> <ctime ns> <dev> <ino> <nlink> <-|r> "<path>" ["<symlink target or first name of the inode>"]
//
// (names as Go string literals, so any byte survives) and an end line
// with the count and the SHA-256 of the lines before it. The names start
// with the volume package's reserved prefix, so volume.Extract skips them
// and a volume never holds a file that would be archived under them.
//
// # Incremental parts
//
// A self-contained part stores the whole tree. A part with a base
// ([Incremental], or [Next] which picks the newest one) stores only what
// changed since the state of the tree at that base: the entries whose
// metadata differ (type, mode, owner, size, mtime, ctime, inode, link
// count, target), every name of an inode one of whose names changed, the
// directories holding a stored or deleted entry (their times move on
// extraction), and the deletion list — what is gone, and what changed
// type. A rename is a deletion and an addition. Content is not compared:
// ctime moves on every change of a file, whatever its mtime says. An
// entry whose ctime lies within two seconds of its scan is "racy" (a
// change right after the scan read it could keep the same ctime, inode
// times ticking coarsely) and stored again by the next part.
//
// The previous state comes from the sink, not from the volume: the
// incremental reads the deletion lists and indexes of its chain (the
// first members of each part: decrypting the first chunks, not the
// parts), so the Manager needs the identities that decrypt them. A tree
// restored elsewhere has new inodes and ctimes: its next part stores
// everything again.
//
// # Restore by hand
//
// With the SDK, [RestoreChain] restores any point of a chain; with
// standard tools, each part of the chain oldest first (manifest "base"
// fields give the chain), into the target directory:
//
//	age -d -i key.txt volume-data.tar.zst.age | zstd -d > part.tar
//	tar -xOf part.tar .lucid-volume-part.deleted | (cd /restore && xargs -0 -r rm -rf --)
//	tar -xf part.tar -C /restore --anchored --exclude='.lucid-volume-part.*'
//	tar -xOf part.tar .lucid-volume-part.sums | (cd /restore && sha256sum --quiet -c)   # optional, for the files this part stored
//
// A self-contained part needs no deletion step. The SDK and the recipe
// give the same tree (TestIncrementalChainCLI holds them to it).
//
// The package is apart from backup so that importing backup links nothing
// of the volume package; it uses only volume's exported API.
package volumepart

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/volume"
)

// Kind is the part kind this package writes ("volume"), the key of its
// Checker in backup.Config.Checkers.
const Kind = "volume"

// Format and FormatVersion describe the part: a PAX tar stream. Version 2
// adds the reserved members (and incremental parts); version 1 parts,
// volume.Archive's stream alone, are still checked and restored.
const (
	Format        = "tar"
	FormatVersion = 2
)

// MetaDir is the Meta key holding the directory a part was taken from.
const MetaDir = "dir"

// Source is one directory's tree as a part.
type Source struct {
	Dir string // the directory to archive (its contents; the directory itself gets no entry)
	// Base, when set, makes the part incremental on the part Name of the
	// backup Base (a complete backup, the last of a chain), read through
	// Manager: only what changed since that state is stored.
	Base    string
	Name    string          // the part's name, in this backup and in Base
	Manager *backup.Manager // reads Base's chain; required with Base
}

var (
	_ backup.Source   = Source{}
	_ backup.Restorer = Restorer{}
	_ backup.Checker  = Checker{}
	_ backup.Checker  = ChainChecker{}
)

// Part returns a self-contained backup.Part named name for the tree under
// dir.
func Part(name, dir string) backup.Part {
	return backup.Part{Name: name, Source: Source{Dir: dir, Name: name}}
}

// Incremental returns a backup.Part named name for the tree under dir that
// stores only what changed since the part of that name in backup base,
// whose chain it reads through m.
func Incremental(m *backup.Manager, name, dir, base string) backup.Part {
	return backup.Part{Name: name, Source: Source{Dir: dir, Name: name, Base: base, Manager: m}}
}

// Next returns the part to take next of the tree under dir: incremental on
// the newest complete backup in m holding a volume part named name (of
// format version 2) taken from the same directory path (the host is not
// compared: a base of another host's tree gives a correct but larger
// part), or self-contained when there is none or when its
// chain already holds maxChain parts (0: no bound), so that chains, and
// the time a restore takes, stay bounded. A chain that is broken (a
// base's manifest or object missing, an object of another size than its
// manifest says) gets a self-contained part too, so that a damaged chain
// never stops new backups; damage inside an object is Verify's to find.
func Next(ctx context.Context, m *backup.Manager, name, dir string, maxChain int) (backup.Part, error) {
	list, err := m.List(ctx)
	if err != nil {
		return backup.Part{}, err
	}
	abs := Source{Dir: dir}.Describe().Meta[MetaDir]
	for i := len(list) - 1; i >= 0; i-- {
		p, ok := list[i].Part(name)
		if !ok || p.Kind != Kind || p.FormatVersion < 2 || p.Meta[MetaDir] != abs {
			continue
		}
		chain, err := m.Chain(ctx, list[i].ID, name)
		if errors.Is(err, backup.ErrCorrupt) {
			return Part(name, dir), nil // a broken chain never stops new backups
		}
		if err != nil {
			return backup.Part{}, err
		}
		if maxChain > 0 && len(chain) >= maxChain {
			return Part(name, dir), nil
		}
		for _, link := range chain {
			lp, _ := link.Part(name)
			size, err := m.Sink().Size(ctx, link.ID+"/"+lp.Object)
			if errors.Is(err, backup.ErrNotFound) || err == nil && size != lp.Stored.Size {
				return Part(name, dir), nil
			}
			if err != nil {
				return backup.Part{}, err
			}
		}
		return Incremental(m, name, dir, list[i].ID), nil
	}
	return Part(name, dir), nil
}

// Checkers returns the Config.Checkers entry of this kind, to merge with
// others' (or use as is).
func Checkers() map[string]backup.Checker { return map[string]backup.Checker{Kind: Checker{}} }

// Describe implements backup.Source.
func (s Source) Describe() backup.SourceInfo {
	abs, err := filepath.Abs(s.Dir)
	if err != nil {
		abs = s.Dir
	}
	return backup.SourceInfo{Kind: Kind, Format: Format, FormatVersion: FormatVersion, Source: "volume",
		Meta: map[string]string{MetaDir: abs}, Base: s.Base}
}

// Stream implements backup.Source. For an incremental part it first reads
// the state at Base from the indexes of Base's chain; then it scans the
// tree (one stat per entry) and writes the part: memory holds the scan,
// the encoded index and that state — per entry, a few hundred bytes
// (325 measured for a scan, its index and a map of it, on 50,100 entries
// with names of about 20 bytes; the base's state read back, 281 more) —
// and never file contents beyond a 256 KiB buffer.
func (s Source) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	if s.Dir == "" {
		return backup.Stats{}, &backup.Error{Op: "volume part", Kind: backup.ErrInvalid, Msg: "empty directory"}
	}
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return backup.Stats{}, err
	}
	if !fi.IsDir() {
		return backup.Stats{}, &backup.Error{Op: "volume part", Kind: backup.ErrInvalid, Msg: s.Dir + " is not a directory"}
	}
	var base map[string]*entry
	if s.Base != "" {
		if s.Manager == nil || s.Name == "" {
			return backup.Stats{}, &backup.Error{Op: "volume part", Kind: backup.ErrInvalid, Msg: "an incremental part needs its Manager and Name"}
		}
		if base, err = loadState(ctx, s.Manager, s.Base, s.Name); err != nil {
			return backup.Stats{}, err
		}
	}
	ps, err := writeTree(ctx, s.Dir, s.Base, base, w)
	if err != nil {
		return backup.Stats{}, err
	}
	return ps.stats(), nil
}

// stats turns a part's counts into backup.Stats: every tar entry is a
// record, the reserved members included.
func (ps partStats) stats() backup.Stats {
	return backup.Stats{
		Records: ps.files + ps.dirs + ps.symlinks + ps.links + ps.members,
		Counts: map[string]int64{
			"files": ps.files, "dirs": ps.dirs, "symlinks": ps.symlinks, "links": ps.links, "bytes": ps.bytes,
			"deleted": ps.deleted,
		},
	}
}

// stats turns volume's counts into a format-1 part's: every tar entry is a
// record.
func stats(st volume.ArchiveStats) backup.Stats {
	return backup.Stats{
		Records: st.Files + st.Dirs + st.Symlinks + st.Links,
		Counts: map[string]int64{
			"files": st.Files, "dirs": st.Dirs, "symlinks": st.Symlinks, "links": st.Links, "bytes": st.Bytes,
		},
	}
}

// Checker parses a volume part for backup.Manager.Verify: every tar header
// and every byte of content is read and counted, nothing is written. In a
// format-2 part it also checks the reserved members: the deletion list
// and the index parse (the index's own SHA-256 included) and name the
// manifest's base, every entry stored is in the index, in order and of its
// type, every hard link names a file stored before it, and every file's
// SHA-256 is the one the sums member records. It checks one part; see
// [ChainChecker] and [VerifyChain] for a chain.
type Checker struct{}

// Check implements backup.Checker.
func (Checker) Check(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	if p.FormatVersion > FormatVersion {
		return backup.Stats{}, &backup.Error{Op: "check", Part: p.Name, Kind: backup.ErrUnsupported, Msg: "volume part format version too new"}
	}
	if p.FormatVersion >= 2 {
		st, _, _, err := check(ctx, p, r)
		return st, err
	}
	tr := tar.NewReader(r)
	var st volume.ArchiveStats
	for {
		if err := ctx.Err(); err != nil {
			return backup.Stats{}, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return stats(st), nil
		}
		if err != nil {
			return backup.Stats{}, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			st.Dirs++
		case tar.TypeSymlink:
			st.Symlinks++
		case tar.TypeLink:
			st.Links++
		case tar.TypeReg:
			st.Files++
			n, err := io.Copy(io.Discard, tr)
			if err != nil {
				return backup.Stats{}, err
			}
			st.Bytes += n
		default:
			return backup.Stats{}, &backup.Error{Op: "check", Kind: backup.ErrCorrupt, Msg: "tar entry " + h.Name + " of a type volume.Archive never writes"}
		}
	}
}

// errHasEntries stops hasEntries' archive at its first entry.
var errHasEntries = errors.New("has entries")

// firstBytes fails once more than an empty archive's 1,024 bytes arrive.
type firstBytes struct{ n int }

func (f *firstBytes) Write(p []byte) (int, error) {
	f.n += len(p)
	if f.n > 1024 {
		return 0, errHasEntries
	}
	return len(p), nil
}

// hasEntries reports whether dir holds anything a volume part would: it
// runs volume.Archive until the first entry, so the volume package's own
// files (a managed volume's metadata) do not count, as they are never
// archived. A missing dir is empty.
func hasEntries(ctx context.Context, dir string) (bool, error) {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	st, err := volume.Archive(ctx, dir, &firstBytes{})
	if errors.Is(err, errHasEntries) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return st.Files+st.Dirs+st.Symlinks+st.Links > 0, nil
}

// VolumeRestorer restores a self-contained volume part into a volume of a
// volume.Manager with its RestoreFrom: extracted (safely, within the
// volume's quota) next to the volume and swapped in only when complete,
// the volume's metadata kept, so the volume never shows a half restore and
// stays as it was on any error. An incremental part is refused: restore
// its chain with [RestoreChain], which takes a VolumeRestorer too.
type VolumeRestorer struct {
	Volumes volume.Manager
	Name    string // the volume, which must exist
	// Overwrite allows replacing a volume that holds data; without it
	// such a volume is refused with backup.ErrExists. The restored volume
	// holds exactly the part: what it held before is gone.
	Overwrite bool
}

var _ backup.Restorer = VolumeRestorer{}

// Restore implements backup.Restorer. RestoreFrom reports no counts: the
// part's own are returned, which backup.Manager.Restore confirms by the
// plaintext's SHA-256 once the stream is read.
func (r VolumeRestorer) Restore(ctx context.Context, p backup.PartManifest, rd io.Reader) (backup.Stats, error) {
	if r.Volumes == nil || r.Name == "" {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "no volume manager or volume name"}
	}
	if p.Kind != Kind || p.Format != Format || p.FormatVersion > FormatVersion {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "not a volume part this code reads: " + p.Kind + "/" + p.Format}
	}
	if p.Base != "" {
		return backup.Stats{}, errIncremental(p)
	}
	v, err := r.Volumes.Get(ctx, r.Name)
	if err != nil {
		return backup.Stats{}, err
	}
	if !r.Overwrite {
		full, err := hasEntries(ctx, v.Path)
		if err != nil {
			return backup.Stats{}, err
		}
		if full {
			return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrExists, Msg: "volume " + r.Name + " holds data (set Overwrite to replace it)"}
		}
	}
	if err := r.Volumes.RestoreFrom(ctx, rd, r.Name); err != nil {
		if errors.Is(err, volume.ErrCorrupt) || errors.Is(err, volume.ErrUnsafePath) {
			return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Err: err}
		}
		return backup.Stats{}, err
	}
	return backup.Stats{Records: p.Records, Counts: p.Counts}, nil
}

func errIncremental(p backup.PartManifest) error {
	return &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid,
		Msg: "the part is incremental on " + p.Base + ": restore its chain (volumepart.RestoreChain)"}
}

// Restorer extracts a self-contained volume part into a directory with
// volume.Extract (safe extraction: nothing is written outside Dir). An
// incremental part is refused: restore its chain with [RestoreChain].
type Restorer struct {
	// Dir is where to restore; empty means the directory the part was
	// taken from (its manifest's Meta "dir").
	Dir string
	// Overwrite allows restoring into a directory that is not empty:
	// entries of the part replace files of their names, anything else in
	// the directory stays (but for what a chain's deletion lists remove).
	// Without it such a directory is refused with backup.ErrExists.
	Overwrite bool
	// Extract is passed to volume.Extract (space and entry caps, owners);
	// in a chain each part's extraction is capped on its own.
	Extract volume.ExtractOptions

	link bool // a later part of a chain, applied over the earlier ones
}

// Restore implements backup.Restorer. Data that fails extraction's checks
// (a malformed stream, an entry escaping the directory) is reported as
// backup.ErrCorrupt with volume's error kept.
func (r Restorer) Restore(ctx context.Context, p backup.PartManifest, rd io.Reader) (backup.Stats, error) {
	dir := r.Dir
	if dir == "" {
		dir = p.Meta[MetaDir]
	}
	if dir == "" {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "no target directory and none recorded"}
	}
	if p.Kind != Kind || p.Format != Format {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrInvalid, Msg: "not a volume part: " + p.Kind + "/" + p.Format}
	}
	if p.FormatVersion > FormatVersion {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrUnsupported, Msg: "volume part format version too new"}
	}
	if p.Base != "" && !r.link {
		return backup.Stats{}, errIncremental(p)
	}
	if !r.Overwrite && !r.link {
		full, err := hasEntries(ctx, dir)
		if err != nil {
			return backup.Stats{}, err
		}
		if full {
			return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrExists, Msg: dir + " is not empty (set Overwrite to restore over it)"}
		}
	}
	corrupt := func(err error) error {
		return &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Err: err}
	}
	if p.FormatVersion < 2 {
		st, err := volume.Extract(ctx, rd, dir, r.Extract)
		if err != nil {
			if errors.Is(err, volume.ErrCorrupt) || errors.Is(err, volume.ErrUnsafePath) {
				return stats(st), corrupt(err)
			}
			return stats(st), err
		}
		return stats(st), nil
	}
	deleted, x, rest, err := readHead(rd)
	if err != nil {
		return backup.Stats{}, corrupt(err)
	}
	if x.base != p.Base {
		return backup.Stats{}, corrupt(fmt.Errorf("volumepart: the index names base %q, the manifest %q", x.base, p.Base))
	}
	if r.link && os.Geteuid() != 0 {
		if err := makeWritable(dir, x.entries); err != nil {
			return backup.Stats{}, err
		}
	}
	if len(deleted) > 0 {
		if _, err := removePaths(dir, deleted); err != nil {
			return backup.Stats{}, err
		}
	}
	st, err := volume.Extract(ctx, rest, dir, r.Extract)
	out := backup.Stats{
		Records: st.Files + st.Dirs + st.Symlinks + st.Links + st.Skipped + 2,
		Counts: map[string]int64{
			"files": st.Files, "dirs": st.Dirs, "symlinks": st.Symlinks, "links": st.Links, "bytes": st.Bytes,
			"deleted": int64(len(deleted)),
		},
	}
	if err != nil {
		if errors.Is(err, volume.ErrCorrupt) || errors.Is(err, volume.ErrUnsafePath) {
			return out, corrupt(err)
		}
		return out, err
	}
	return out, nil
}
