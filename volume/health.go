package volume

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Level grades a usage figure against its thresholds.
type Level int

// Levels, in increasing order of severity.
const (
	LevelOK       Level = iota // below the warning threshold
	LevelWarning               // at or above the warning threshold
	LevelCritical              // quota reached, or filesystem full
)

// String returns "ok", "warning" or "critical".
func (l Level) String() string {
	switch l {
	case LevelOK:
		return "ok"
	case LevelWarning:
		return "warning"
	case LevelCritical:
		return "critical"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// quotaLevel grades bytes against quota with the warning percent.
func quotaLevel(bytes, quota int64, warnPct int) Level {
	if quota <= 0 {
		return LevelOK
	}
	switch p := percent(bytes, quota); {
	case p >= 100:
		return LevelCritical
	case p >= float64(warnPct):
		return LevelWarning
	}
	return LevelOK
}

// diskLevel grades a filesystem: critical when it is full (available space
// below 1 % of its size, at most 64 MiB, or no free inodes), warning when its
// use reaches the warning percent.
func diskLevel(fs FSStats, warnPct int) Level {
	low := fs.Total / 100
	if low > 64<<20 {
		low = 64 << 20
	}
	if fs.Total > 0 && (fs.Available <= low || (fs.Inodes > 0 && fs.InodesFree == 0)) {
		return LevelCritical
	}
	if fs.UsedPercent >= float64(warnPct) {
		return LevelWarning
	}
	return LevelOK
}

// HealthReport is the result of a health check of one volume. Status is the
// worst of QuotaLevel, DiskLevel and the checks; Problems says in words what
// is wrong (empty when Status is LevelOK).
type HealthReport struct {
	Volume     string
	Path       string
	Checked    time.Time
	Status     Level
	Exists     bool          // the directory and its metadata exist
	Writable   bool          // a probe file was written and fsync'd
	ReadOnlyFS bool          // the filesystem is mounted read-only
	ProbeTime  time.Duration // time to create, write, fsync and remove the probe
	FS         FSStats       // filesystem figures
	Usage      Usage         // bytes, files and percent of quota
	QuotaLevel Level         // usage against the quota
	DiskLevel  Level         // filesystem fullness
	Problems   []string
}

// Healthy reports whether no problem was found.
func (r HealthReport) Healthy() bool { return r.Status == LevelOK }

// Health checks volume name: that it exists, that its filesystem is mounted
// read-write and a probe file can be written and fsync'd, free space and
// inodes, and usage against the quota. Everything found goes in the report;
// the error is non-nil only for a bad name, a cancelled ctx, or a scan that
// could not run.
func (m *VolumeManager) Health(ctx context.Context, name string) (HealthReport, error) {
	r := HealthReport{Volume: name, Checked: time.Now().UTC()}
	dir, err := m.Path(name)
	if err != nil {
		return r, err
	}
	r.Path = dir
	problem := func(l Level, format string, args ...any) {
		if l > r.Status {
			r.Status = l
		}
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
	v, err := m.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		problem(LevelCritical, "volume does not exist")
		return r, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return r, err
		}
		problem(LevelCritical, "metadata: %v", err)
		return r, nil
	}
	r.Exists = true

	fs, err := StatFS(ctx, dir)
	if err != nil {
		return r, err
	}
	r.FS = fs
	r.ReadOnlyFS = fs.ReadOnly
	if fs.ReadOnly {
		problem(LevelCritical, "filesystem is mounted read-only")
	}

	start := time.Now()
	perr := probeWrite(dir, 4096)
	r.ProbeTime = time.Since(start)
	switch {
	case perr == nil:
		r.Writable = true
	case errors.Is(perr, unix.EROFS):
		r.ReadOnlyFS = true
		if !fs.ReadOnly {
			problem(LevelCritical, "filesystem is read-only: %v", perr)
		}
	case errors.Is(perr, unix.ENOSPC) || errors.Is(perr, unix.EDQUOT):
		problem(LevelCritical, "cannot write: no space left (%v)", perr)
	default:
		problem(LevelCritical, "cannot write: %v", perr)
	}

	r.DiskLevel = diskLevel(fs, m.cfg.WarningPercent)
	switch r.DiskLevel {
	case LevelCritical:
		problem(LevelCritical, "filesystem full: %s available of %s, %d inodes free", FormatSize(int64(fs.Available)), FormatSize(int64(fs.Total)), fs.InodesFree)
	case LevelWarning:
		problem(LevelWarning, "filesystem %.1f%% used (warning at %d%%)", fs.UsedPercent, m.cfg.WarningPercent)
	}

	u, err := scanVolume(ctx, dir, walkWorkers(m.cfg.Workers), false)
	if err != nil {
		if ctx.Err() != nil {
			return r, err
		}
		problem(LevelCritical, "usage scan failed: %v", err)
		return r, nil
	}
	u.FS, u.Quota, u.Percent = fs, v.Quota, percent(u.Bytes, v.Quota)
	r.Usage = u
	r.QuotaLevel = quotaLevel(u.Bytes, v.Quota, m.cfg.WarningPercent)
	switch r.QuotaLevel {
	case LevelCritical:
		problem(LevelCritical, "quota exceeded: %s used of %s (%.1f%%)", FormatSize(u.Bytes), FormatSize(v.Quota), u.Percent)
	case LevelWarning:
		problem(LevelWarning, "quota %.1f%% used (warning at %d%%)", u.Percent, m.cfg.WarningPercent)
	}
	return r, nil
}

// probeWrite creates a probe file of size bytes in dir, fsyncs it and removes it.
func probeWrite(dir string, size int) error {
	f, err := os.CreateTemp(dir, reservedPrefix+".probe-")
	if err != nil {
		return err
	}
	name := f.Name()
	defer os.Remove(name)
	buf := make([]byte, size)
	if _, err := f.Write(buf); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Remove(filepath.Clean(name))
}
