// Package volumepart backs up and restores directories (Lucid volumes) as
// parts of a backup: the part is the tar stream of volume.Archive (PAX
// format, modes, times to the nanosecond, symlinks and hard links), so GNU
// tar unpacks the decrypted, decompressed part:
//
//	age -d -i key.txt volume-data.tar.zst.age | zstd -d | tar -x -C /restore
//
// and Restore extracts it with volume.Extract's safe extraction. The
// package is apart from backup so that importing backup links nothing of
// the volume package; it uses only volume's exported API.
package volumepart

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/volume"
)

// Kind is the part kind this package writes ("volume"), the key of its
// Checker in backup.Config.Checkers.
const Kind = "volume"

// Format and FormatVersion describe the part: a PAX tar stream.
const (
	Format        = "tar"
	FormatVersion = 1
)

// MetaDir is the Meta key holding the directory a part was taken from.
const MetaDir = "dir"

// Source is one directory's tree as a part.
type Source struct {
	Dir string // the directory to archive (its contents; the directory itself gets no entry)
}

var (
	_ backup.Source   = Source{}
	_ backup.Restorer = Restorer{}
	_ backup.Checker  = Checker{}
)

// Part returns a backup.Part named name for the tree under dir.
func Part(name, dir string) backup.Part {
	return backup.Part{Name: name, Source: Source{Dir: dir}}
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
		Meta: map[string]string{MetaDir: abs}}
}

// Stream implements backup.Source with volume.Archive.
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
	st, err := volume.Archive(ctx, s.Dir, w)
	if err != nil {
		return backup.Stats{}, err
	}
	return stats(st), nil
}

// stats turns volume's counts into a part's: every tar entry is a record.
func stats(st volume.ArchiveStats) backup.Stats {
	return backup.Stats{
		Records: st.Files + st.Dirs + st.Symlinks + st.Links,
		Counts: map[string]int64{
			"files": st.Files, "dirs": st.Dirs, "symlinks": st.Symlinks, "links": st.Links, "bytes": st.Bytes,
		},
	}
}

// Checker parses a volume part for backup.Manager.Verify: every tar header
// and every byte of content is read and counted, nothing is written.
type Checker struct{}

// Check implements backup.Checker.
func (Checker) Check(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
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

// VolumeRestorer restores a volume part into a volume of a volume.Manager
// with its RestoreFrom: extracted (safely, within the volume's quota) next
// to the volume and swapped in only when complete, the volume's metadata
// kept, so the volume never shows a half restore and stays as it was on
// any error.
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

// Restorer extracts a volume part into a directory with volume.Extract
// (safe extraction: nothing is written outside Dir).
type Restorer struct {
	// Dir is where to restore; empty means the directory the part was
	// taken from (its manifest's Meta "dir").
	Dir string
	// Overwrite allows restoring into a directory that is not empty:
	// entries of the part replace files of their names, anything else in
	// the directory stays. Without it such a directory is refused with
	// backup.ErrExists.
	Overwrite bool
	// Extract is passed to volume.Extract (space and entry caps, owners).
	Extract volume.ExtractOptions
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
	if !r.Overwrite {
		full, err := hasEntries(ctx, dir)
		if err != nil {
			return backup.Stats{}, err
		}
		if full {
			return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrExists, Msg: dir + " is not empty (set Overwrite to restore over it)"}
		}
	}
	st, err := volume.Extract(ctx, rd, dir, r.Extract)
	if err != nil {
		if errors.Is(err, volume.ErrCorrupt) || errors.Is(err, volume.ErrUnsafePath) {
			return stats(st), &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Err: err}
		}
		return stats(st), err
	}
	return stats(st), nil
}
