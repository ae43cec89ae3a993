package volume

import (
	"context"
	"time"
)

// Performance is the I/O activity of the device under a volume over a
// sampling interval, from /proc/diskstats, plus an fsync latency probe on
// the volume itself.
type Performance struct {
	Path     string
	Device   string        // kernel name of the block device, e.g. "vda", "mmcblk0p2"
	Interval time.Duration // sampling interval actually measured

	ReadBytesPerSec  float64
	WriteBytesPerSec float64
	ReadIOPS         float64       // completed reads per second
	WriteIOPS        float64       // completed writes per second
	ReadLatency      time.Duration // mean time per completed read
	WriteLatency     time.Duration // mean time per completed write
	Utilization      float64       // percent of the interval the device was busy
	InFlight         uint64        // requests in flight at the end

	// DeviceErr is non-nil, wrapping ErrUnsupported, when the filesystem has
	// no block device with statistics (tmpfs, overlay, btrfs subvolumes,
	// network filesystems); the device fields are then zero.
	DeviceErr error

	// FsyncLatency is the time to write 4 KiB to a new file in the volume
	// and fsync it: what a database commit costs at least.
	FsyncLatency time.Duration
}

// DefaultPerfInterval is the sampling interval of Performance when 0 is given.
const DefaultPerfInterval = time.Second

// Performance samples the device of volume name over interval (0:
// DefaultPerfInterval) and runs an fsync probe. When the device has no
// statistics, the report has DeviceErr set and still carries the probe.
func (m *DirManager) Performance(ctx context.Context, name string, interval time.Duration) (Performance, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return Performance{}, err
	}
	return DirPerformance(ctx, v.Path, interval)
}

// DirPerformance is Performance for any directory.
func DirPerformance(ctx context.Context, dir string, interval time.Duration) (Performance, error) {
	if interval <= 0 {
		interval = DefaultPerfInterval
	}
	// A done ctx wins even when the interval has also passed: select picks
	// at random among ready cases, and under emulation (qemu, CI's arm run)
	// reading diskstats outlasted a 1 ms interval.
	if err := ctx.Err(); err != nil {
		return Performance{}, ioErr(err, "performance of %s", dir)
	}
	p := Performance{Path: dir}
	dev, before, derr := deviceStats(dir)
	p.Device = dev
	start := time.Now()
	t := time.NewTimer(interval)
	select {
	case <-ctx.Done():
		t.Stop()
		return Performance{}, ioErr(ctx.Err(), "performance of %s", dir)
	case <-t.C:
		if err := ctx.Err(); err != nil {
			return Performance{}, ioErr(err, "performance of %s", dir)
		}
	}
	p.Interval = time.Since(start)
	if derr == nil {
		_, after, err := deviceStats(dir)
		derr = err
		if err == nil {
			p.fill(before, after)
		}
	}
	p.DeviceErr = derr

	begin := time.Now()
	if err := probeWrite(dir, 4096); err != nil {
		return p, ioErr(err, "fsync probe in %s", dir)
	}
	p.FsyncLatency = time.Since(begin)
	return p, nil
}

// diskStats is one device's line of /proc/diskstats.
type diskStats struct {
	reads, readSectors, readMs    uint64
	writes, writeSectors, writeMs uint64
	inFlight, ioMs                uint64
}

// fill computes rates from two samples.
func (p *Performance) fill(a, b diskStats) {
	secs := p.Interval.Seconds()
	if secs <= 0 {
		return
	}
	d := func(x, y uint64) float64 {
		if y < x { // counter wrapped or device reset
			return 0
		}
		return float64(y - x)
	}
	reads, writes := d(a.reads, b.reads), d(a.writes, b.writes)
	p.ReadBytesPerSec = d(a.readSectors, b.readSectors) * 512 / secs
	p.WriteBytesPerSec = d(a.writeSectors, b.writeSectors) * 512 / secs
	p.ReadIOPS = reads / secs
	p.WriteIOPS = writes / secs
	if reads > 0 {
		p.ReadLatency = time.Duration(d(a.readMs, b.readMs) / reads * float64(time.Millisecond))
	}
	if writes > 0 {
		p.WriteLatency = time.Duration(d(a.writeMs, b.writeMs) / writes * float64(time.Millisecond))
	}
	p.Utilization = d(a.ioMs, b.ioMs) / (secs * 1000) * 100
	if p.Utilization > 100 {
		p.Utilization = 100
	}
	p.InFlight = b.inFlight
}

// DeviceIO is the cumulative I/O of the block device holding a directory
// since the kernel started, from /proc/diskstats: what a metrics exporter
// turns into rates (Performance samples it twice instead).
type DeviceIO struct {
	Device       string        // kernel name, e.g. "vda", "mmcblk0p2"
	Reads        uint64        // reads completed
	ReadBytes    uint64        // bytes read (512-byte sectors, as the kernel counts)
	ReadTime     time.Duration // time spent reading
	Writes       uint64        // writes completed
	WrittenBytes uint64        // bytes written
	WriteTime    time.Duration // time spent writing
	IOTime       time.Duration // time the device was busy
	InFlight     uint64        // requests in flight now
}

// DirDeviceIO returns the cumulative I/O of the block device holding dir.
// The error wraps ErrUnsupported when dir is on no block device with
// statistics (tmpfs, overlay, network filesystems) or off Linux.
func DirDeviceIO(dir string) (DeviceIO, error) {
	dev, s, err := deviceStats(dir)
	if err != nil {
		return DeviceIO{Device: dev}, err
	}
	ms := func(v uint64) time.Duration { return time.Duration(v) * time.Millisecond }
	return DeviceIO{Device: dev,
		Reads: s.reads, ReadBytes: s.readSectors * 512, ReadTime: ms(s.readMs),
		Writes: s.writes, WrittenBytes: s.writeSectors * 512, WriteTime: ms(s.writeMs),
		IOTime: ms(s.ioMs), InFlight: s.inFlight}, nil
}
