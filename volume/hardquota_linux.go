//go:build linux

package volume

import (
	"context"
	"errors"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux project-quota interface (linux/fs.h, linux/quota.h). The ioctl
// numbers are those of the generic _IOC layout, used by amd64, 386, arm,
// arm64 and riscv64.
const (
	fsIocFsGetXattr    = 0x801C581F // _IOR('X', 31, struct fsxattr)
	fsIocFsSetXattr    = 0x401C5820 // _IOW('X', 32, struct fsxattr)
	fsXflagProjInherit = 0x00000200
	qGetQuota          = 0x800007
	qSetQuota          = 0x800008
	prjQuota           = 2
	qifBLimits         = 1
)

// fsxattr is struct fsxattr.
type fsxattr struct {
	xflags, extsize, nextents, projid, cowextsize uint32
	pad                                           [8]byte
}

// ifDqblk is struct if_dqblk.
type ifDqblk struct {
	bhardlimit, bsoftlimit, curspace, ihardlimit, isoftlimit, curinodes, btime, itime uint64
	valid                                                                             uint32
	_                                                                                 uint32
}

// ProjectID returns the project quota id SetHardQuota gives the volume
// directory dir: a stable hash of its absolute path in [1<<20, 1<<31).
func ProjectID(dir string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(filepath.Clean(dir)))
	return 1<<20 + h.Sum32()%(1<<31-1<<20)
}

func setHardQuota(ctx context.Context, dir string, bytes int64) error {
	if err := ctx.Err(); err != nil {
		return ioErr(err, "hard quota of %s", dir)
	}
	mi, err := findMount(dir)
	if err != nil {
		return wrapErr(ErrUnsupported, err, "hard quota of %s: cannot tell its filesystem", dir)
	}
	if mi.fsType != "ext4" && mi.fsType != "xfs" {
		return newErr(ErrUnsupported, "hard quotas are not available for %s: its filesystem is %s, and only ext4 and xfs have project quotas; only the soft quota applies", dir, mi.fsType)
	}
	if !hasOption(mi.options, "prjquota") && !hasOption(mi.options, "pquota") && !hasOption(mi.options, "prjjquota") {
		return newErr(ErrUnsupported, "hard quotas are not available for %s: project quotas are not configured on its %s filesystem %s (it is not mounted with prjquota); only the soft quota applies", dir, mi.fsType, mi.mountPoint)
	}
	switch runtime.GOARCH {
	case "amd64", "386", "arm", "arm64", "riscv64":
	default:
		return newErr(ErrUnsupported, "hard quotas for %s: not wired up on %s", dir, runtime.GOARCH)
	}
	id := ProjectID(dir)
	// Tag the directory (inherited by new entries) and what it holds.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil // symlinks and special files cannot be opened for the ioctl
		}
		return setProject(p, id, d.IsDir())
	})
	if err != nil {
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) {
			return wrapErr(ErrUnsupported, err, "hard quota of %s: the filesystem refuses project ids", dir)
		}
		return ioErr(err, "hard quota of %s: set project id %d", dir, id)
	}
	dq := ifDqblk{bhardlimit: uint64((bytes + 1023) / 1024), bsoftlimit: uint64((bytes + 1023) / 1024), valid: qifBLimits}
	special, err := unix.BytePtrFromString(mi.source)
	if err != nil {
		return wrapErr(ErrInvalid, err, "hard quota of %s: device %q", dir, mi.source)
	}
	cmd := uintptr(qSetQuota<<8 | prjQuota)
	if _, _, e := unix.Syscall6(unix.SYS_QUOTACTL, cmd, uintptr(unsafe.Pointer(special)), uintptr(id), uintptr(unsafe.Pointer(&dq)), 0, 0); e != 0 {
		if e == unix.ESRCH || e == unix.ENOSYS || e == unix.EINVAL {
			return wrapErr(ErrUnsupported, e, "hard quotas are not available for %s: project quotas are not enabled on %s", dir, mi.source)
		}
		return ioErr(&os.PathError{Op: "quotactl", Path: mi.source, Err: e}, "hard quota of %s", dir)
	}
	return nil
}

// setProject sets the project id of p (and, for a directory, the inherit flag).
func setProject(p string, id uint32, dir bool) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var fa fsxattr
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFsGetXattr, uintptr(unsafe.Pointer(&fa))); e != 0 {
		return &os.PathError{Op: "ioctl FS_IOC_FSGETXATTR", Path: p, Err: e}
	}
	fa.projid = id
	if dir {
		fa.xflags |= fsXflagProjInherit
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFsSetXattr, uintptr(unsafe.Pointer(&fa))); e != 0 {
		return &os.PathError{Op: "ioctl FS_IOC_FSSETXATTR", Path: p, Err: e}
	}
	return nil
}

// projectUsage returns the bytes and inodes the kernel's project quota
// accounting charges to the volume directory dir: an instant answer where a
// walk would read every inode. It answers only when dir sits on an ext4 or
// xfs filesystem mounted with project quotas and dir carries the project id
// SetHardQuota gives it (ProjectID); otherwise ErrUnsupported says which
// condition failed. It is asked on every monitor tick, so a volume that
// gains accounting later is picked up.
func projectUsage(ctx context.Context, dir string) (bytes, inodes int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, ioErr(err, "quota usage of %s", dir)
	}
	mi, err := findMount(dir)
	if err != nil {
		return 0, 0, wrapErr(ErrUnsupported, err, "quota usage of %s: cannot tell its filesystem", dir)
	}
	if mi.fsType != "ext4" && mi.fsType != "xfs" {
		return 0, 0, newErr(ErrUnsupported, "quota usage of %s: its filesystem is %s; only ext4 and xfs keep project quota accounting", dir, mi.fsType)
	}
	if !hasOption(mi.options, "prjquota") && !hasOption(mi.options, "pquota") && !hasOption(mi.options, "prjjquota") {
		return 0, 0, newErr(ErrUnsupported, "quota usage of %s: %s is not mounted with project quotas", dir, mi.mountPoint)
	}
	switch runtime.GOARCH {
	case "amd64", "386", "arm", "arm64", "riscv64":
	default:
		return 0, 0, newErr(ErrUnsupported, "quota usage of %s: not wired up on %s", dir, runtime.GOARCH)
	}
	id := ProjectID(dir)
	f, err := os.Open(dir)
	if err != nil {
		return 0, 0, ioErr(err, "quota usage of %s", dir)
	}
	var fa fsxattr
	_, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFsGetXattr, uintptr(unsafe.Pointer(&fa)))
	_ = f.Close()
	if e != 0 {
		return 0, 0, wrapErr(ErrUnsupported, e, "quota usage of %s: the filesystem reports no project id", dir)
	}
	if fa.projid != id {
		// Another id would charge other directories too (or none): not
		// this volume's figure.
		return 0, 0, newErr(ErrUnsupported, "quota usage of %s: it carries project id %d, not its own %d (SetHardQuota tags it)", dir, fa.projid, id)
	}
	special, err := unix.BytePtrFromString(mi.source)
	if err != nil {
		return 0, 0, wrapErr(ErrInvalid, err, "quota usage of %s: device %q", dir, mi.source)
	}
	var dq ifDqblk
	cmd := uintptr(qGetQuota<<8 | prjQuota)
	if _, _, e := unix.Syscall6(unix.SYS_QUOTACTL, cmd, uintptr(unsafe.Pointer(special)), uintptr(id), uintptr(unsafe.Pointer(&dq)), 0, 0); e != 0 {
		if e == unix.ESRCH || e == unix.ENOSYS || e == unix.EINVAL || e == unix.ENOENT || e == unix.EPERM {
			return 0, 0, wrapErr(ErrUnsupported, e, "quota usage of %s: project quota accounting is not available on %s", dir, mi.source)
		}
		return 0, 0, ioErr(&os.PathError{Op: "quotactl", Path: mi.source, Err: e}, "quota usage of %s", dir)
	}
	return int64(dq.curspace), int64(dq.curinodes), nil
}
