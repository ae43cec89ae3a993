//go:build linux

package volume

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fsMagic names the filesystems a Lucid host is likely to have.
var fsMagic = map[int64]string{
	0xEF53:     "ext2/ext3/ext4",
	0x58465342: "xfs",
	0x9123683E: "btrfs",
	0x01021994: "tmpfs",
	0x794C7630: "overlay",
	0x6969:     "nfs",
	0x2FC12FC1: "zfs",
	0xF2F52010: "f2fs",
	0x4D44:     "vfat",
	0x65735546: "fuse",
	0x5346544E: "ntfs",
	0x73717368: "squashfs",
}

// StatFS returns the statfs(2) figures of the filesystem holding path.
// Fields are converted explicitly, as their types differ between 32- and
// 64-bit Linux ports.
func StatFS(ctx context.Context, path string) (FSStats, error) {
	if err := ctx.Err(); err != nil {
		return FSStats{}, ioErr(err, "statfs %s", path)
	}
	var s unix.Statfs_t
	if err := unix.Statfs(path, &s); err != nil {
		return FSStats{}, ioErr(&os.PathError{Op: "statfs", Path: path, Err: err}, "statfs %s", path)
	}
	bs := uint64(s.Bsize)
	if s.Frsize > 0 {
		bs = uint64(s.Frsize)
	}
	magic := int64(s.Type) & 0xFFFFFFFF
	name, ok := fsMagic[magic]
	if !ok {
		name = fmt.Sprintf("0x%x", magic)
	}
	f := FSStats{
		Type:       name,
		BlockSize:  int64(bs),
		Total:      uint64(s.Blocks) * bs,
		Free:       uint64(s.Bfree) * bs,
		Available:  uint64(s.Bavail) * bs,
		Inodes:     uint64(s.Files),
		InodesFree: uint64(s.Ffree),
		ReadOnly:   uint64(s.Flags)&unix.ST_RDONLY != 0,
	}
	used := f.Total - f.Free
	if d := used + f.Available; d > 0 {
		f.UsedPercent = float64(used) * 100 / float64(d)
	}
	return f, nil
}

// mountInfo is one line of /proc/self/mountinfo.
type mountInfo struct {
	major, minor uint32
	mountPoint   string
	fsType       string
	source       string
	options      string // per-mount and per-superblock options, comma-joined
}

// findMount returns the mount holding path: the longest mount point that is
// a prefix of path and has path's device number.
func findMount(path string) (mountInfo, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return mountInfo{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	maj, min := unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return mountInfo{}, err
	}
	defer f.Close()
	var best mountInfo
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mi, ok := parseMountInfo(sc.Text())
		if !ok || mi.major != maj || mi.minor != min {
			continue
		}
		if !found || len(mi.mountPoint) > len(best.mountPoint) {
			if isUnder(path, mi.mountPoint) {
				best, found = mi, true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return mountInfo{}, err
	}
	if !found {
		return mountInfo{major: maj, minor: min}, fmt.Errorf("no mount of device %d:%d holds %s", maj, min, path)
	}
	return best, nil
}

func isUnder(path, dir string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}

// parseMountInfo parses one mountinfo line (proc(5)).
func parseMountInfo(line string) (mountInfo, bool) {
	pre, post, ok := strings.Cut(line, " - ")
	if !ok {
		return mountInfo{}, false
	}
	a, b := strings.Fields(pre), strings.Fields(post)
	if len(a) < 6 || len(b) < 3 {
		return mountInfo{}, false
	}
	majS, minS, ok := strings.Cut(a[2], ":")
	if !ok {
		return mountInfo{}, false
	}
	maj, err1 := strconv.ParseUint(majS, 10, 32)
	min, err2 := strconv.ParseUint(minS, 10, 32)
	if err1 != nil || err2 != nil {
		return mountInfo{}, false
	}
	return mountInfo{
		major: uint32(maj), minor: uint32(min),
		mountPoint: unescapeMount(a[4]),
		fsType:     b[0],
		source:     unescapeMount(b[1]),
		options:    a[5] + "," + b[2],
	}, true
}

// unescapeMount undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hasOption reports whether a comma-separated option list contains opt.
func hasOption(options, opt string) bool {
	for _, o := range strings.Split(options, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// exchange swaps two paths atomically with renameat2(RENAME_EXCHANGE), or
// returns ErrUnsupported where the kernel or filesystem lacks it.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if err == unix.ENOSYS || err == unix.EINVAL {
		return wrapErr(ErrUnsupported, err, "rename exchange")
	}
	if err != nil {
		return &os.LinkError{Op: "renameat2", Old: a, New: b, Err: err}
	}
	return nil
}
