//go:build !linux

package volume

import (
	"context"
	"log/slog"
	"runtime"
)

// StatFS returns the statfs(2) figures of the filesystem holding path. This
// build supports it on Linux only; elsewhere it returns ErrUnsupported.
func StatFS(ctx context.Context, path string) (FSStats, error) {
	return FSStats{}, newErr(ErrUnsupported, "statfs of %s: not implemented on %s", path, runtime.GOOS)
}

func deviceStats(dir string) (string, diskStats, error) {
	return "", diskStats{}, newErr(ErrUnsupported, "disk statistics of %s: /proc/diskstats is Linux only", dir)
}

func exchange(a, b string) error {
	return newErr(ErrUnsupported, "rename exchange: Linux only")
}

func defragment(ctx context.Context, dir string, log *slog.Logger) error {
	return newErr(ErrUnsupported, "defragment %s: only ext4 on Linux (e4defrag) is supported", dir)
}

func setHardQuota(ctx context.Context, dir string, bytes int64) error {
	return newErr(ErrUnsupported, "hard quotas are not available for %s: project quotas are Linux only; only the soft quota applies", dir)
}

func projectUsage(ctx context.Context, dir string) (bytes, inodes int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, ioErr(err, "quota usage of %s", dir)
	}
	return 0, 0, newErr(ErrUnsupported, "quota usage of %s: project quotas are Linux only", dir)
}
