package volume

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// DefaultTempPatterns are the base-name patterns Cleanup treats as temporary
// files when CleanupOptions.TempPatterns is nil.
var defaultTempPatterns = []string{"*.tmp", "*.temp", "*.partial", "*.swp", "*~", ".#*"}

// DefaultTempPatterns returns the patterns Cleanup uses for temporary files
// when none are given: *.tmp, *.temp, *.partial, *.swp, *~ and .#*.
func DefaultTempPatterns() []string { return append([]string(nil), defaultTempPatterns...) }

// CleanupOptions selects what Cleanup removes. Only regular files are ever
// removed, symlinks are never followed, and the package's own files are
// never touched.
type CleanupOptions struct {
	// TempPatterns are base-name patterns (path.Match syntax) of temporary
	// files. nil means DefaultTempPatterns(); an empty non-nil slice
	// disables temp-file cleanup.
	TempPatterns []string
	// TempMinAge spares temporary files modified more recently than this, as
	// a writer may still be using them. Default 1 hour; negative means no
	// minimum.
	TempMinAge time.Duration
	// Glob and OlderThan, when both set, also remove files matching Glob
	// that were last modified more than OlderThan ago. A Glob with a '/' is
	// matched against the slash-separated path relative to the volume,
	// otherwise against the base name: "*.log", "archive/*.gz".
	Glob      string
	OlderThan time.Duration
	// DryRun reports what would be removed without removing anything.
	DryRun bool
}

// CleanupResult lists what Cleanup removed (or would remove, in a dry run).
type CleanupResult struct {
	Removed []string // relative, slash-separated paths
	Bytes   int64    // their total size
}

// Cleanup removes temporary files and old files from volume name, see
// CleanupOptions. Malformed patterns are ErrInvalid.
func (m *DirManager) Cleanup(ctx context.Context, name string, opts CleanupOptions) (CleanupResult, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return CleanupResult{}, err
	}
	return CleanupDir(ctx, v.Path, opts)
}

// CleanupDir is Cleanup for any directory.
func CleanupDir(ctx context.Context, dir string, opts CleanupOptions) (CleanupResult, error) {
	temps := opts.TempPatterns
	if temps == nil {
		temps = defaultTempPatterns
	}
	for _, p := range append(append([]string(nil), temps...), opts.Glob) {
		if _, err := path.Match(p, ""); err != nil {
			return CleanupResult{}, wrapErr(ErrInvalid, err, "cleanup pattern %q", p)
		}
	}
	minAge := opts.TempMinAge
	if minAge == 0 {
		minAge = time.Hour
	}
	now := time.Now()
	var res CleanupResult
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
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
		age := now.Sub(fi.ModTime())
		base := path.Base(rel)
		remove := false
		if minAge < 0 || age >= minAge {
			for _, pat := range temps {
				if ok, _ := path.Match(pat, base); ok {
					remove = true
					break
				}
			}
		}
		if !remove && opts.Glob != "" && opts.OlderThan > 0 && age > opts.OlderThan {
			subject := base
			if strings.Contains(opts.Glob, "/") {
				subject = rel
			}
			remove, _ = path.Match(opts.Glob, subject)
		}
		if !remove {
			return nil
		}
		if !opts.DryRun {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		res.Removed = append(res.Removed, rel)
		res.Bytes += fi.Size()
		return nil
	})
	if err != nil {
		return res, ioErr(err, "cleanup %s", dir)
	}
	return res, nil
}

// Defragment runs e4defrag on volume name when its filesystem is ext4 and
// the tool is installed; the command is killed if ctx is cancelled. Anywhere
// else it returns ErrUnsupported saying why: other filesystems have their own
// tools (xfs_fsr, btrfs filesystem defragment) or need none.
func (m *DirManager) Defragment(ctx context.Context, name string) error {
	v, err := m.Get(ctx, name)
	if err != nil {
		return err
	}
	return defragment(ctx, v.Path, m.log)
}

// SetHardQuota asks the kernel to enforce a block limit of bytes on volume
// name, so that writes past it fail with EDQUOT whoever makes them. That
// needs project quotas: an ext4 or xfs filesystem mounted with prjquota (and
// a kernel built with quota support). SetHardQuota then gives the volume's
// directory and contents the project id ProjectID(path), inherited by new
// entries, and sets that project's limit with quotactl(2). Where project
// quotas are not configured it returns ErrUnsupported with a plain sentence,
// and only the soft quota (Check, Reserve, the monitor) applies.
func (m *DirManager) SetHardQuota(ctx context.Context, name string, bytes int64) error {
	v, err := m.Get(ctx, name)
	if err != nil {
		return err
	}
	if bytes <= 0 {
		return newErr(ErrInvalid, "hard quota of %q: %d bytes", name, bytes)
	}
	return setHardQuota(ctx, v.Path, bytes)
}
