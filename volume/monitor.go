package volume

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Scope says what an Event is about.
type Scope int

// Scopes of events.
const (
	ScopeQuota Scope = iota // the volume's usage against its quota
	ScopeDisk               // the filesystem holding the volume
)

// String returns "quota" or "disk".
func (s Scope) String() string {
	if s == ScopeDisk {
		return "disk"
	}
	return "quota"
}

// Event reports that a volume's level changed: its usage crossed the warning
// threshold or the quota (ScopeQuota), or its filesystem crossed the warning
// threshold or became full (ScopeDisk) — upwards or, when it drops back,
// downwards (To < From).
type Event struct {
	Volume string
	Scope  Scope
	From   Level
	To     Level
	Usage  Usage // the measurement that caused the change
	Time   time.Time
}

// String describes the event in one line.
func (e Event) String() string {
	if e.Scope == ScopeDisk {
		return fmt.Sprintf("volume %s: disk %s -> %s (%.1f%% used, %s available)", e.Volume, e.From, e.To, e.Usage.FS.UsedPercent, FormatSize(int64(e.Usage.FS.Available)))
	}
	return fmt.Sprintf("volume %s: quota %s -> %s (%s of %s, %.1f%%)", e.Volume, e.From, e.To, FormatSize(e.Usage.Bytes), FormatSize(e.Usage.Quota), e.Usage.Percent)
}

// DefaultMonitorInterval is the time between checks when
// MonitorOptions.Interval is 0.
const DefaultMonitorInterval = time.Minute

// MonitorOptions configures a Monitor. The zero value checks every volume
// once a minute and delivers events on the Events channel.
type MonitorOptions struct {
	// Interval between checks. Default DefaultMonitorInterval.
	Interval time.Duration
	// Volumes to watch. Default: every volume the manager lists at each check.
	Volumes []string
	// OnEvent, if set, receives events (from the monitor's goroutine, one at
	// a time) instead of the Events channel.
	OnEvent func(Event)
	// Buffer is the capacity of the Events channel. Default 64.
	Buffer int
}

// Monitor checks volumes periodically and reports level changes as events,
// and exports the last measurements as Prometheus metrics (it implements
// prometheus.Collector; collecting never walks a volume). Create it with
// VolumeManager.NewMonitor, run it with Start, end it with Stop.
type Monitor struct {
	m      *VolumeManager
	opts   MonitorOptions
	events chan Event

	startOnce, stopOnce sync.Once
	cancel              context.CancelFunc
	done                chan struct{}
	stopped             chan struct{}

	mu     sync.Mutex // serialises checks; guards the fields below
	closed bool
	state  map[string][2]Level // per volume: quota and disk level
	last   map[string]sample   // last measurement per volume
}

type sample struct {
	v Volume
	u Usage
	t time.Time
}

var _ prometheus.Collector = (*Monitor)(nil)

// NewMonitor returns a Monitor of the manager's volumes. It starts nothing:
// call Start, or Check for a single round.
func (m *VolumeManager) NewMonitor(opts MonitorOptions) *Monitor {
	if opts.Interval <= 0 {
		opts.Interval = DefaultMonitorInterval
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	return &Monitor{
		m: m, opts: opts,
		events:  make(chan Event, opts.Buffer),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		state:   make(map[string][2]Level),
		last:    make(map[string]sample),
	}
}

// Events returns the channel events are delivered on, or nil when
// MonitorOptions.OnEvent is set. The reader must keep draining it: the
// monitor waits for it (until Stop). It is closed by Stop.
func (mon *Monitor) Events() <-chan Event {
	if mon.opts.OnEvent != nil {
		return nil
	}
	return mon.events
}

// Start runs checks in a goroutine, the first one at once, then every
// Interval, until ctx is cancelled or Stop is called. Calling Start again
// does nothing.
func (mon *Monitor) Start(ctx context.Context) {
	mon.startOnce.Do(func() {
		ctx, mon.cancel = context.WithCancel(ctx)
		go mon.loop(ctx)
	})
}

func (mon *Monitor) loop(ctx context.Context) {
	defer close(mon.done)
	t := time.NewTicker(mon.opts.Interval)
	defer t.Stop()
	for {
		if _, err := mon.Check(ctx); err != nil && ctx.Err() == nil {
			mon.m.log.Warn("volume monitor check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the monitor, waits for its goroutine and closes the Events
// channel. It is idempotent and safe to call without Start.
func (mon *Monitor) Stop() {
	mon.stopOnce.Do(func() {
		close(mon.stopped)
		started := false
		mon.startOnce.Do(func() {}) // a later Start does nothing
		if mon.cancel != nil {
			mon.cancel()
			started = true
		}
		if started {
			<-mon.done
		}
		mon.mu.Lock()
		mon.closed = true
		close(mon.events)
		mon.mu.Unlock()
	})
}

// Check runs one round now: it measures each watched volume, updates the
// metrics, delivers events for level changes and returns them. Volumes
// that fail to measure are skipped (logged) and the first such error is
// returned after the round.
func (mon *Monitor) Check(ctx context.Context) ([]Event, error) {
	mon.mu.Lock()
	defer mon.mu.Unlock()
	if mon.closed {
		return nil, newErr(ErrClosed, "monitor is closed")
	}
	var vols []Volume
	if len(mon.opts.Volumes) == 0 {
		l, err := mon.m.List(ctx)
		if err != nil {
			return nil, err
		}
		vols = l
		seen := make(map[string]bool, len(l))
		for _, v := range l {
			seen[v.Name] = true
		}
		for name := range mon.state { // forget deleted volumes
			if !seen[name] {
				delete(mon.state, name)
				delete(mon.last, name)
			}
		}
	}
	var firstErr error
	for _, name := range mon.opts.Volumes {
		v, err := mon.m.Get(ctx, name)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		vols = append(vols, v)
	}
	var out []Event
	for _, v := range vols {
		if err := ctx.Err(); err != nil {
			return out, ioErr(err, "monitor")
		}
		u, err := scanVolume(ctx, v.Path, walkWorkers(mon.m.cfg.Workers), true)
		if err != nil {
			mon.m.log.Warn("volume monitor: scan failed", "volume", v.Name, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		u.Quota, u.Percent = v.Quota, percent(u.Bytes, v.Quota)
		now := time.Now().UTC()
		mon.last[v.Name] = sample{v: v, u: u, t: now}
		prev := mon.state[v.Name]
		cur := [2]Level{quotaLevel(u.Bytes, v.Quota, mon.m.cfg.WarningPercent), diskLevel(u.FS, mon.m.cfg.WarningPercent)}
		mon.state[v.Name] = cur
		for s := range cur {
			if cur[s] == prev[s] {
				continue
			}
			e := Event{Volume: v.Name, Scope: Scope(s), From: prev[s], To: cur[s], Usage: u, Time: now}
			out = append(out, e)
			mon.m.log.Info("volume level changed", "volume", v.Name, "scope", e.Scope.String(), "from", e.From.String(), "to", e.To.String())
			if !mon.deliver(ctx, e) {
				return out, ioErr(ctx.Err(), "monitor")
			}
		}
	}
	return out, firstErr
}

// deliver hands e to the callback or the channel; false if stopped first.
func (mon *Monitor) deliver(ctx context.Context, e Event) bool {
	if mon.opts.OnEvent != nil {
		mon.opts.OnEvent(e)
		return true
	}
	select {
	case mon.events <- e:
		return true
	case <-ctx.Done():
		return false
	case <-mon.stopped:
		return false
	}
}

// Metric descriptors. Labels: volume name and type.
var (
	volLabels    = []string{"volume", "type"}
	descUsed     = prometheus.NewDesc("lucid_volume_used_bytes", "Apparent size of the volume's contents (du -sb).", volLabels, nil)
	descAlloc    = prometheus.NewDesc("lucid_volume_allocated_bytes", "Disk space allocated to the volume's contents.", volLabels, nil)
	descFiles    = prometheus.NewDesc("lucid_volume_files", "Regular files in the volume.", volLabels, nil)
	descQuota    = prometheus.NewDesc("lucid_volume_quota_bytes", "Soft quota of the volume.", volLabels, nil)
	descRatio    = prometheus.NewDesc("lucid_volume_usage_ratio", "Used bytes divided by the quota.", volLabels, nil)
	descFSSize   = prometheus.NewDesc("lucid_volume_fs_size_bytes", "Size of the filesystem holding the volume.", volLabels, nil)
	descFSFree   = prometheus.NewDesc("lucid_volume_fs_free_bytes", "Free bytes on the filesystem, root's reserve included.", volLabels, nil)
	descFSAvail  = prometheus.NewDesc("lucid_volume_fs_available_bytes", "Bytes available to unprivileged users on the filesystem.", volLabels, nil)
	descFSInodes = prometheus.NewDesc("lucid_volume_fs_inodes_free", "Free inodes on the filesystem.", volLabels, nil)
	descLevel    = prometheus.NewDesc("lucid_volume_level", "0 ok, 1 warning, 2 critical.", append(volLabels, "scope"), nil)
	descChecked  = prometheus.NewDesc("lucid_volume_last_check_timestamp_seconds", "Unix time of the last measurement.", volLabels, nil)
)

// Describe implements prometheus.Collector.
func (mon *Monitor) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsed, descAlloc, descFiles, descQuota, descRatio, descFSSize, descFSFree, descFSAvail, descFSInodes, descLevel, descChecked} {
		ch <- d
	}
}

// Collect implements prometheus.Collector with the last measurements.
func (mon *Monitor) Collect(ch chan<- prometheus.Metric) {
	mon.mu.Lock()
	samples := make([]sample, 0, len(mon.last))
	levels := make([][2]Level, 0, len(mon.last))
	for name, s := range mon.last {
		samples = append(samples, s)
		levels = append(levels, mon.state[name])
	}
	mon.mu.Unlock()
	g := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	for i, s := range samples {
		n, t := s.v.Name, string(s.v.Type)
		g(descUsed, float64(s.u.Bytes), n, t)
		g(descAlloc, float64(s.u.AllocatedBytes), n, t)
		g(descFiles, float64(s.u.Files), n, t)
		g(descQuota, float64(s.v.Quota), n, t)
		g(descRatio, s.u.Percent/100, n, t)
		g(descFSSize, float64(s.u.FS.Total), n, t)
		g(descFSFree, float64(s.u.FS.Free), n, t)
		g(descFSAvail, float64(s.u.FS.Available), n, t)
		g(descFSInodes, float64(s.u.FS.InodesFree), n, t)
		g(descLevel, float64(levels[i][ScopeQuota]), n, t, "quota")
		g(descLevel, float64(levels[i][ScopeDisk]), n, t, "disk")
		g(descChecked, float64(s.t.UnixNano())/1e9, n, t)
	}
}
