//go:build linux

package volume

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// deviceStats finds the block device holding dir — st_dev's major:minor,
// named by /sys/dev/block/MAJ:MIN/uevent (partitions included) — and returns
// its /proc/diskstats counters.
func deviceStats(dir string) (string, diskStats, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return "", diskStats{}, ioErr(&os.PathError{Op: "stat", Path: dir, Err: err}, "device of %s", dir)
	}
	maj, min := unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))
	uevent := fmt.Sprintf("/sys/dev/block/%d:%d/uevent", maj, min)
	b, err := os.ReadFile(uevent)
	if err != nil {
		return "", diskStats{}, wrapErr(ErrUnsupported, err, "%s is on device %d:%d, which is not a block device (tmpfs, overlay, network or virtual filesystem): no disk statistics", dir, maj, min)
	}
	name := ""
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "DEVNAME="); ok {
			name = strings.TrimSpace(v)
		}
	}
	if name == "" {
		return "", diskStats{}, newErr(ErrUnsupported, "%s names no device for %d:%d", uevent, maj, min)
	}
	ds, err := readDiskStats(maj, min)
	if err != nil {
		return name, diskStats{}, wrapErr(ErrUnsupported, err, "device %s (%d:%d) of %s", name, maj, min, dir)
	}
	return name, ds, nil
}

// readDiskStats returns the /proc/diskstats line of device maj:min.
func readDiskStats(maj, min uint32) (diskStats, error) {
	f, err := os.Open("/proc/diskstats")
	if err != nil {
		return diskStats{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 14 || fs[0] != strconv.FormatUint(uint64(maj), 10) || fs[1] != strconv.FormatUint(uint64(min), 10) {
			continue
		}
		var n [11]uint64
		for i := range n {
			v, err := strconv.ParseUint(fs[3+i], 10, 64)
			if err != nil {
				return diskStats{}, fmt.Errorf("/proc/diskstats: field %d of %s: %w", 4+i, fs[2], err)
			}
			n[i] = v
		}
		return diskStats{
			reads: n[0], readSectors: n[2], readMs: n[3],
			writes: n[4], writeSectors: n[6], writeMs: n[7],
			inFlight: n[8], ioMs: n[9],
		}, nil
	}
	if err := sc.Err(); err != nil {
		return diskStats{}, err
	}
	return diskStats{}, fmt.Errorf("no line for device %d:%d in /proc/diskstats", maj, min)
}
