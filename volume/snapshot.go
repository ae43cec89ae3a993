package volume

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SnapshotTimeFormat is the UTC timestamp in snapshot file names.
const SnapshotTimeFormat = "20060102T150405.000000000Z"

// Archive writes volume name as a tar stream to w (see the Archive function).
func (m *DirManager) Archive(ctx context.Context, name string, w io.Writer) (ArchiveStats, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return ArchiveStats{}, err
	}
	return Archive(ctx, v.Path, w)
}

// Snapshot archives volume name to a new file "<name>-<UTC time>.tar" in dir
// (created if missing) and returns its path. The file is written through a
// temporary name, fsync'd and renamed, so a snapshot that exists is whole.
func (m *DirManager) Snapshot(ctx context.Context, name, dir string) (string, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", ioErr(err, "snapshot %q", name)
	}
	final := filepath.Join(dir, name+"-"+time.Now().UTC().Format(SnapshotTimeFormat)+".tar")
	f, err := os.CreateTemp(dir, "."+name+".snapshot-")
	if err != nil {
		return "", ioErr(err, "snapshot %q", name)
	}
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := Archive(ctx, v.Path, f); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", ioErr(err, "snapshot %q: fsync", name)
	}
	if err := f.Close(); err != nil {
		return "", ioErr(err, "snapshot %q", name)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return "", ioErr(err, "snapshot %q", name)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return "", err
	}
	m.log.Info("volume snapshot", "volume", name, "file", final)
	return final, nil
}

// Restore replaces the contents of volume name with the snapshot (a tar
// file, as written by Snapshot or Archive) at path. See RestoreFrom.
func (m *DirManager) Restore(ctx context.Context, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return ioErr(err, "restore %q from %s", name, path)
	}
	defer f.Close()
	return m.RestoreFrom(ctx, bufio.NewReaderSize(f, 1<<20), name)
}

// RestoreFrom replaces the contents of volume name, which must exist, with
// the tar stream r. The stream is extracted safely (see Extract), limited
// to the volume's quota as space allocated on disk (ExtractOptions.MaxBytes:
// at least one block per entry, so many tiny files cost more than their
// bytes), into a temporary directory next to the volume; only
// when that succeeded is it swapped in (atomically where the kernel has
// renameat2 RENAME_EXCHANGE), the old contents removed, and the volume's
// metadata kept. On any error the volume is left as it was.
func (m *DirManager) RestoreFrom(ctx context.Context, r io.Reader, name string) error {
	v, err := m.Get(ctx, name)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(m.cfg.Root, "."+name+".restore-")
	if err != nil {
		return ioErr(err, "restore %q", name)
	}
	defer os.RemoveAll(tmp)
	if _, err := Extract(ctx, r, tmp, ExtractOptions{MaxBytes: v.Quota}); err != nil {
		return err
	}
	if m.testHookAfterCopy != nil {
		if err := m.testHookAfterCopy(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return ioErr(err, "restore %q", name)
	}
	fi, err := os.Stat(v.Path)
	if err != nil {
		return ioErr(err, "restore %q", name)
	}
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		return ioErr(err, "restore %q", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	nv := v
	nv.Path = tmp
	nv.Updated = time.Now().UTC()
	if err := writeMetadata(nv); err != nil {
		return err
	}
	if err := swapDirs(tmp, v.Path); err != nil {
		return ioErr(err, "restore %q: swap", name)
	}
	// tmp now holds the old contents; the deferred RemoveAll drops them.
	_ = syncDir(m.cfg.Root)
	m.log.Info("volume restored", "volume", name)
	return nil
}

// swapDirs exchanges two directories: atomically with RENAME_EXCHANGE where
// available, otherwise by three renames (b aside, a to b, old b to a).
func swapDirs(a, b string) error {
	err := exchange(a, b)
	if err == nil || !errors.Is(err, ErrUnsupported) {
		return err
	}
	aside := b + ".old-" + filepath.Base(a)
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(aside, b)
		return err
	}
	return os.Rename(aside, a)
}

// MigrateOptions tunes Migrate. The zero value moves the volume.
type MigrateOptions struct {
	// KeepSource leaves the source volume in place after a successful
	// migration (a verified copy rather than a move).
	KeepSource bool
}

// Migrate moves volume name to another root directory (for example a new
// disk): it copies it into a temporary directory under newRoot (through
// Archive and Extract, so modes, times, symlinks and hard links are kept),
// then checksums source and copy, and only if both manifests match
// renames the copy into place as newRoot/name with the volume's metadata;
// then it removes the source unless opts.KeepSource. If anything fails or ctx
// is cancelled before that point, the copy is removed and the source is
// untouched. Writers should be stopped during a migration: a file changed
// meanwhile makes verification fail with ErrCorrupt. newRoot/name must not
// exist (ErrExists). It returns the volume at its new path; open a
// DirManager on newRoot to manage it there.
func (m *DirManager) Migrate(ctx context.Context, name, newRoot string, opts MigrateOptions) (Volume, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return Volume{}, err
	}
	newRoot, err = filepath.Abs(newRoot)
	if err != nil {
		return Volume{}, wrapErr(ErrInvalid, err, "migrate %q: root %q", name, newRoot)
	}
	if newRoot == m.cfg.Root {
		return Volume{}, newErr(ErrInvalid, "migrate %q: new root is the current root", name)
	}
	if isUnderPath(newRoot, v.Path) {
		return Volume{}, newErr(ErrInvalid, "migrate %q: new root %s is inside the volume", name, newRoot)
	}
	dst := filepath.Join(newRoot, name)
	if _, err := os.Lstat(dst); err == nil {
		return Volume{}, newErr(ErrExists, "migrate %q: %s exists", name, dst)
	}
	if err := os.MkdirAll(newRoot, 0o755); err != nil {
		return Volume{}, ioErr(err, "migrate %q", name)
	}
	tmp, err := os.MkdirTemp(newRoot, "."+name+".migrate-")
	if err != nil {
		return Volume{}, ioErr(err, "migrate %q", name)
	}
	placed := false
	defer func() {
		if !placed {
			_ = os.RemoveAll(tmp)
		}
	}()

	if err := copyTree(ctx, v.Path, tmp); err != nil {
		return Volume{}, err
	}
	if m.testHookAfterCopy != nil {
		if err := m.testHookAfterCopy(); err != nil {
			return Volume{}, err
		}
	}
	// Checksum source and copy after the copy, so a change to the source
	// during the copy shows as a difference.
	var want, got *Manifest
	var werr, gerr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		want, werr = CreateManifest(ctx, v.Path, m.cfg.Workers)
	}()
	got, gerr = CreateManifest(ctx, tmp, m.cfg.Workers)
	wg.Wait()
	if werr != nil {
		return Volume{}, werr
	}
	if gerr != nil {
		return Volume{}, gerr
	}
	if rep := diffManifests(want, got); !rep.OK() {
		return Volume{}, newErr(ErrCorrupt, "migrate %q: copy differs from source (%d added, %d removed, %d changed, e.g. %s); source left intact",
			name, len(rep.Added), len(rep.Removed), len(rep.Changed), firstOf(rep))
	}
	if fi, err := os.Stat(v.Path); err == nil {
		_ = os.Chmod(tmp, fi.Mode().Perm())
	}
	nv := v
	nv.Path = tmp
	nv.Updated = time.Now().UTC()
	if err := writeMetadata(nv); err != nil {
		return Volume{}, err
	}
	if err := ctx.Err(); err != nil {
		return Volume{}, ioErr(err, "migrate %q", name)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return Volume{}, ioErr(err, "migrate %q: place copy", name)
	}
	placed = true
	_ = syncDir(newRoot)
	nv.Path = dst
	m.log.Info("volume migrated", "volume", name, "to", dst, "source_kept", opts.KeepSource)
	if !opts.KeepSource {
		if err := m.Delete(context.WithoutCancel(ctx), name, true); err != nil {
			return nv, err
		}
	}
	return nv, nil
}

func firstOf(r VerifyReport) string {
	for _, l := range [][]string{r.Changed, r.Added, r.Removed} {
		if len(l) > 0 {
			return l[0]
		}
	}
	return ""
}

// isUnderPath reports whether p is dir or inside it.
func isUnderPath(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// copyTree copies src into the existing directory dst by streaming Archive
// into Extract through a pipe.
func copyTree(ctx context.Context, src, dst string) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Archive(ctx, src, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	_, xerr := Extract(ctx, pr, dst, ExtractOptions{})
	pr.CloseWithError(errors.New("volume: copy stopped"))
	aerr := <-done
	if xerr != nil {
		return xerr
	}
	return aerr
}
