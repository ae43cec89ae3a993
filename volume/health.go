package volume

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/HamiGames/lucid-data/health"
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
func (m *DirManager) Health(ctx context.Context, name string) (HealthReport, error) {
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
	case errors.Is(perr, syscall.EROFS):
		r.ReadOnlyFS = true
		if !fs.ReadOnly {
			problem(LevelCritical, "filesystem is read-only: %v", perr)
		}
	case errors.Is(perr, syscall.ENOSPC) || errors.Is(perr, syscall.EDQUOT):
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

	u, err := m.walkVolume(ctx, v, false)
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

// Usage sources reported by CheckVolume and the Monitor.
const (
	usageFromQuota = "quota" // the kernel's project quota accounting, read now
	usageFromWalk  = "walk"  // the last full walk, of some age
	usageUnknown   = "none"  // no walk yet and no quota accounting
)

// freshUsage returns the volume's used bytes from the kernel's project
// quota accounting when the filesystem keeps it, else from the last full
// walk (with its end time), and where it came from. It never walks.
func (m *DirManager) freshUsage(ctx context.Context, v Volume) (bytes int64, at time.Time, source string, err error) {
	b, _, qerr := projectUsage(ctx, v.Path)
	if qerr == nil {
		return b, time.Now(), usageFromQuota, nil
	}
	if ctx.Err() != nil {
		return 0, time.Time{}, "", qerr
	}
	if w, ok := m.lastWalk(v.Name); ok {
		return w.u.Bytes, w.at, usageFromWalk, nil
	}
	return 0, time.Time{}, usageUnknown, nil
}

// CheckVolume reports the health of volume name as a health.Report, cheaply
// enough for a readiness probe: a statfs, a probe write with fsync, and
// usage from project quota accounting or the last full walk (Usage, Health,
// CheckSpace, Reserve or a Monitor's walks; see MonitorOptions.WalkInterval)
// — it never walks the volume itself. Down: the volume is missing, its
// metadata unreadable, its filesystem read-only, full (see HealthReport) or
// not writable, or its usage at the quota. Degraded: usage or filesystem at
// the warning threshold (Config.WarningPercent), so the service keeps
// serving while someone makes room. Details hold the figures, including
// "usage_source" ("quota", "walk" or "none") and, for a walk,
// "usage_age_seconds".
func (m *DirManager) CheckVolume(ctx context.Context, name string) health.Report {
	start := time.Now()
	r := health.Report{Status: health.Up, Details: map[string]any{}}
	var problems []error
	fail := func(st health.Status, err error) {
		r.Status = r.Status.Worst(st)
		problems = append(problems, err)
	}
	done := func() health.Report {
		r.Latency = time.Since(start)
		if len(problems) == 1 {
			r.Err = problems[0]
		} else if len(problems) > 1 {
			r.Err = errors.Join(problems...)
		}
		return r
	}
	v, err := m.Get(ctx, name)
	if err != nil {
		fail(health.Down, err)
		return done()
	}
	r.Details["path"] = v.Path
	r.Details["type"] = string(v.Type)
	r.Details["quota_bytes"] = v.Quota
	fs, err := StatFS(ctx, v.Path)
	if err != nil {
		fail(health.Down, err)
		return done()
	}
	r.Details["fs_type"] = fs.Type
	r.Details["fs_used_percent"] = fs.UsedPercent
	r.Details["fs_available_bytes"] = fs.Available
	r.Details["fs_inodes_free"] = fs.InodesFree
	r.Details["read_only"] = fs.ReadOnly
	if fs.ReadOnly {
		fail(health.Down, ioErr(&os.PathError{Op: "statfs", Path: v.Path, Err: syscall.EROFS}, "volume %q: filesystem is mounted read-only", name))
	}
	if err := ctx.Err(); err != nil {
		fail(health.Down, ioErr(err, "check %q", name))
		return done()
	}
	pstart := time.Now()
	perr := probeWrite(v.Path, 4096)
	r.Details["probe_ms"] = float64(time.Since(pstart).Microseconds()) / 1000
	r.Details["writable"] = perr == nil
	if perr != nil && !fs.ReadOnly {
		fail(health.Down, ioErr(perr, "volume %q: not writable", name))
	}
	switch diskLevel(fs, m.cfg.WarningPercent) {
	case LevelCritical:
		fail(health.Down, newErr(ErrNoSpace, "volume %q: filesystem full: %s available of %s, %d inodes free", name, FormatSize(int64(fs.Available)), FormatSize(int64(fs.Total)), fs.InodesFree))
	case LevelWarning:
		fail(health.Degraded, fmt.Errorf("volume %q: filesystem %.1f%% used (warning at %d%%)", name, fs.UsedPercent, m.cfg.WarningPercent))
	}
	used, at, source, err := m.freshUsage(ctx, v)
	if err != nil {
		fail(health.Down, err)
		return done()
	}
	r.Details["usage_source"] = source
	if source == usageUnknown {
		return done()
	}
	if source == usageFromWalk {
		r.Details["usage_age_seconds"] = time.Since(at).Seconds()
	}
	p := percent(used, v.Quota)
	r.Details["used_bytes"] = used
	r.Details["used_percent"] = p
	switch quotaLevel(used, v.Quota, m.cfg.WarningPercent) {
	case LevelCritical:
		fail(health.Down, newErr(ErrQuotaExceeded, "volume %q: %s used of its %s quota (%.1f%%)", name, FormatSize(used), FormatSize(v.Quota), p))
	case LevelWarning:
		fail(health.Degraded, fmt.Errorf("volume %q: quota %.1f%% used (warning at %d%%)", name, p, m.cfg.WarningPercent))
	}
	return done()
}

// Check reports the health of every volume under the root as one
// health.Report, for health.Aggregator: the status of the worst volume,
// and each volume's status, error and figures in Details under keys
// prefixed with its name ("mongodb.status", "mongodb.used_percent"). No
// volume at all is Up. Like CheckVolume it never walks.
func (m *DirManager) Check(ctx context.Context) health.Report {
	start := time.Now()
	vols, err := m.List(ctx)
	if err != nil {
		return health.DownReport(err, time.Since(start))
	}
	r := health.Report{Status: health.Up, Details: map[string]any{"volumes": len(vols)}}
	var errs []error
	for _, v := range vols {
		vr := m.CheckVolume(ctx, v.Name)
		r.Status = r.Status.Worst(vr.Status)
		r.Details[v.Name+".status"] = vr.Status.String()
		if vr.Err != nil {
			r.Details[v.Name+".error"] = vr.Err.Error()
			errs = append(errs, vr.Err)
		}
		for k, val := range vr.Details {
			if !strings.Contains(k, ".") {
				r.Details[v.Name+"."+k] = val
			}
		}
	}
	if len(errs) > 0 {
		r.Err = errors.Join(errs...)
	}
	r.Latency = time.Since(start)
	return r
}
