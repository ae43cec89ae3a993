package volume

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ManifestFile is the name, at the top of a volume, of the manifest that
// DirManager.CreateManifest saves and VerifyIntegrity checks.
const ManifestFile = ".lucid-volume.manifest.json"

// AlgorithmSHA256 is the checksum algorithm of manifests.
const AlgorithmSHA256 = "sha256"

// Manifest lists every entry of a directory tree with a checksum of each
// regular file's content. It is plain JSON, readable by other tools.
type Manifest struct {
	Version   int             `json:"version"`
	Algorithm string          `json:"algorithm"` // "sha256"
	Created   time.Time       `json:"created"`
	Entries   []ManifestEntry `json:"entries"` // sorted by Path
}

// ManifestEntry is one file, directory or symlink of a manifest.
type ManifestEntry struct {
	Path   string      `json:"path"`             // slash-separated, relative to the tree's top
	Type   string      `json:"type"`             // "file", "dir" or "symlink"
	Mode   os.FileMode `json:"mode"`             // permission bits
	Size   int64       `json:"size,omitempty"`   // content bytes of a file
	Digest string      `json:"digest,omitempty"` // hex checksum of a file's content
	Target string      `json:"target,omitempty"` // a symlink's target
}

// VerifyReport is the difference between a manifest and a tree.
type VerifyReport struct {
	Checked int      // entries compared
	Added   []string // in the tree, not in the manifest
	Removed []string // in the manifest, not in the tree
	Changed []string // in both, with a different type, mode, size, content or target
}

// OK reports whether the tree matches the manifest exactly.
func (r VerifyReport) OK() bool {
	return len(r.Added) == 0 && len(r.Removed) == 0 && len(r.Changed) == 0
}

// CreateManifest checksums every regular file under dir (SHA-256, up to
// workers files at once; 0 means GOMAXPROCS) and lists directories and
// symlinks too. Symlinks are recorded, not followed; other special files and
// the package's own files at the top of dir are left out.
func CreateManifest(ctx context.Context, dir string, workers int) (*Manifest, error) {
	entries, err := listTree(ctx, dir)
	if err != nil {
		return nil, ioErr(err, "manifest of %s", dir)
	}
	if err := hashFiles(ctx, dir, entries, hashWorkers(workers)); err != nil {
		return nil, ioErr(err, "manifest of %s", dir)
	}
	return &Manifest{Version: 1, Algorithm: AlgorithmSHA256, Created: time.Now().UTC(), Entries: entries}, nil
}

// VerifyManifest checks dir against m and reports what was added, removed
// and changed. The error is for failures to read the tree, not for
// differences.
func VerifyManifest(ctx context.Context, dir string, m *Manifest, workers int) (VerifyReport, error) {
	if m == nil || m.Algorithm != AlgorithmSHA256 {
		return VerifyReport{}, newErr(ErrInvalid, "verify %s: manifest is nil or not %s", dir, AlgorithmSHA256)
	}
	now, err := CreateManifest(ctx, dir, workers)
	if err != nil {
		return VerifyReport{}, err
	}
	return diffManifests(m, now), nil
}

// diffManifests compares want (the manifest) with got (the tree).
func diffManifests(want, got *Manifest) VerifyReport {
	var r VerifyReport
	w := make(map[string]ManifestEntry, len(want.Entries))
	for _, e := range want.Entries {
		w[e.Path] = e
	}
	for _, g := range got.Entries {
		e, ok := w[g.Path]
		if !ok {
			r.Added = append(r.Added, g.Path)
			continue
		}
		delete(w, g.Path)
		r.Checked++
		if e != g {
			r.Changed = append(r.Changed, g.Path)
		}
	}
	for p := range w {
		r.Removed = append(r.Removed, p)
	}
	sort.Strings(r.Removed)
	return r
}

// WriteTo writes m as indented JSON.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return 0, ioErr(err, "encode manifest")
	}
	n, err := w.Write(append(b, '\n'))
	if err != nil {
		return int64(n), ioErr(err, "write manifest")
	}
	return int64(n), nil
}

// ReadManifest parses a manifest written by WriteTo; a malformed one is
// ErrCorrupt.
func ReadManifest(r io.Reader) (*Manifest, error) {
	var m Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, wrapErr(ErrCorrupt, err, "read manifest")
	}
	if m.Algorithm != AlgorithmSHA256 {
		return nil, newErr(ErrCorrupt, "manifest algorithm %q is not %s", m.Algorithm, AlgorithmSHA256)
	}
	return &m, nil
}

// CreateManifest checksums volume name, saves the manifest at the top of the
// volume (ManifestFile, written atomically) and returns it.
func (m *DirManager) CreateManifest(ctx context.Context, name string) (*Manifest, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	man, err := CreateManifest(ctx, v.Path, m.cfg.Workers)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if _, err := man.WriteTo(&b); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(v.Path, ManifestFile), []byte(b.String()), 0o640); err != nil {
		return nil, err
	}
	return man, nil
}

// VerifyIntegrity checks volume name against the manifest saved by
// CreateManifest (ErrNotFound if there is none).
func (m *DirManager) VerifyIntegrity(ctx context.Context, name string) (VerifyReport, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return VerifyReport{}, err
	}
	f, err := os.Open(filepath.Join(v.Path, ManifestFile))
	if err != nil {
		return VerifyReport{}, ioErr(err, "volume %q has no manifest (run CreateManifest)", name)
	}
	defer f.Close()
	man, err := ReadManifest(f)
	if err != nil {
		return VerifyReport{}, err
	}
	return VerifyManifest(ctx, v.Path, man, m.cfg.Workers)
}

// listTree returns the entries under dir, sorted, without checksums.
func listTree(ctx context.Context, dir string) ([]ManifestEntry, error) {
	var out []ManifestEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !strings.Contains(rel, "/") && strings.HasPrefix(rel, reservedPrefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		e := ManifestEntry{Path: rel, Mode: fi.Mode().Perm()}
		switch {
		case fi.IsDir():
			e.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Type = "symlink"
			if e.Target, err = os.Readlink(p); err != nil {
				return err
			}
			e.Mode = 0
		case fi.Mode().IsRegular():
			e.Type = "file"
			e.Size = fi.Size()
		default:
			return nil
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// hashFiles fills Digest (and the actual Size) of the file entries.
func hashFiles(ctx context.Context, dir string, entries []ManifestEntry, workers int) error {
	idx := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for i := range idx {
				e := &entries[i]
				sum, n, err := hashFile(ctx, filepath.Join(dir, filepath.FromSlash(e.Path)), buf)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					continue
				}
				e.Digest, e.Size = sum, n
			}
		}()
	}
	for i := range entries {
		if entries[i].Type != "file" {
			continue
		}
		select {
		case idx <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(idx)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// hashFile returns the hex SHA-256 and length of a file, checking ctx
// between 256 KiB reads.
func hashFile(ctx context.Context, p string, buf []byte) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", n, err
		}
		k, err := f.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", n, err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
