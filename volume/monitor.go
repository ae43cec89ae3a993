package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
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

// DefaultMonitorInterval is the time between ticks when
// MonitorOptions.Interval is 0.
const DefaultMonitorInterval = time.Minute

// DefaultWalkInterval is the time between full walks when
// MonitorOptions.WalkInterval is 0.
const DefaultWalkInterval = 15 * time.Minute

// MonitorOptions configures a Monitor. The zero value ticks once a minute,
// walks every volume every 15 minutes and delivers events on the Events
// channel.
type MonitorOptions struct {
	// Interval between ticks. A tick costs a statfs per volume (and a
	// quotactl where the filesystem keeps project quota accounting),
	// whatever the volume holds. Default DefaultMonitorInterval.
	Interval time.Duration
	// WalkInterval between full walks of every volume, which count bytes
	// and files where no quota accounting does (on an SD card with a large
	// volume, minutes of reads). Between walks, ticks judge the quota on
	// the last walk's figure and report its age. Default
	// DefaultWalkInterval; negative: Start never walks (call Walk).
	WalkInterval time.Duration
	// Volumes to watch. Default: every volume the manager lists each round.
	Volumes []string
	// OnEvent, if set, receives events (from the monitor's goroutines, one
	// at a time) instead of the Events channel.
	OnEvent func(Event)
	// Buffer is the capacity of the Events channel. Default 64.
	Buffer int
}

// Monitor watches volumes and reports level changes as events, and keeps
// the last measurement of each (Last), which package volumeprom exports as
// Prometheus metrics (so this package links no Prometheus client).
//
// It is statfs-based: each tick (Poll) reads the filesystem's fullness and
// inodes and, where the filesystem keeps project quota accounting for the
// volume (ext4 or xfs mounted with prjquota, the directory tagged by
// SetHardQuota), the volume's usage from quotactl — instant answers. Where
// there is no accounting, usage comes from full walks (Walk) on their own,
// slower schedule, and every measurement says where its bytes came from
// and when (Usage.Source, Usage.Measured). Create it with
// Manager.NewMonitor, run it with Start, end it with Close.
type Monitor struct {
	m      *DirManager
	opts   MonitorOptions
	events chan Event

	startOnce, closeOnce sync.Once
	cancel               context.CancelFunc
	wg                   sync.WaitGroup // the goroutines of Start
	stopped              chan struct{}

	mu     sync.Mutex // guards the fields below; held while delivering
	closed bool
	state  map[string][2]Level // per volume: quota and disk level
	last   map[string]sample   // last measurement per volume
}

type sample struct {
	v Volume
	u Usage
	t time.Time
}

var _ io.Closer = (*Monitor)(nil)

// NewMonitor returns a Monitor of the manager's volumes. It starts nothing:
// call Start, or Poll and Walk for single rounds.
func (m *DirManager) NewMonitor(opts MonitorOptions) *Monitor {
	if opts.Interval <= 0 {
		opts.Interval = DefaultMonitorInterval
	}
	if opts.WalkInterval == 0 {
		opts.WalkInterval = DefaultWalkInterval
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	return &Monitor{
		m: m, opts: opts,
		events:  make(chan Event, opts.Buffer),
		stopped: make(chan struct{}),
		state:   make(map[string][2]Level),
		last:    make(map[string]sample),
	}
}

// Events returns the channel events are delivered on, or nil when
// MonitorOptions.OnEvent is set. The reader must keep draining it: the
// monitor waits for it (until Close). It is closed by Close.
func (mon *Monitor) Events() <-chan Event {
	if mon.opts.OnEvent != nil {
		return nil
	}
	return mon.events
}

// Start runs the monitor until ctx is cancelled or Close is called: a tick
// (Poll) at once and every Interval, and a full walk (Walk) at once and
// every WalkInterval, in a goroutine of its own so a long walk never
// delays a tick. Calling Start again, or after Close, does nothing.
func (mon *Monitor) Start(ctx context.Context) {
	mon.startOnce.Do(func() {
		ctx, mon.cancel = context.WithCancel(ctx)
		mon.wg.Add(1)
		go mon.loop(ctx, mon.opts.Interval, mon.Poll, "tick")
		if mon.opts.WalkInterval > 0 {
			mon.wg.Add(1)
			go mon.loop(ctx, mon.opts.WalkInterval, mon.Walk, "walk")
		}
	})
}

func (mon *Monitor) loop(ctx context.Context, every time.Duration, round func(context.Context) ([]Event, error), what string) {
	defer mon.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := round(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) {
			mon.m.log.Warn("volume monitor "+what+" failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close ends the monitor, waits for its goroutines and closes the Events
// channel; Poll and Walk then return ErrClosed. It is idempotent, safe to
// call without Start, and always returns nil.
func (mon *Monitor) Close() error {
	mon.closeOnce.Do(func() {
		close(mon.stopped)
		mon.startOnce.Do(func() {}) // a later Start does nothing
		if mon.cancel != nil {
			mon.cancel()
		}
		mon.wg.Wait()
		mon.mu.Lock()
		mon.closed = true
		close(mon.events)
		mon.mu.Unlock()
	})
	return nil
}

// Poll runs one tick now: for each watched volume a statfs (fullness,
// inodes) and the usage from project quota accounting where the filesystem
// keeps it, else from the volume's last full walk. It never walks, so its
// cost does not grow with the files a volume holds; a volume never walked
// and without accounting has its disk level judged, not its quota. It
// updates the metrics, delivers events for level changes and returns them.
// Volumes that fail to measure are skipped (logged) and the first such
// error is returned after the round.
func (mon *Monitor) Poll(ctx context.Context) ([]Event, error) {
	return mon.round(ctx, false)
}

// Walk runs one full round now: it walks every watched volume (as Usage
// does, the figure then kept for ticks and health checks), then judges
// each as Poll does.
func (mon *Monitor) Walk(ctx context.Context) ([]Event, error) {
	return mon.round(ctx, true)
}

// volumes returns the watched volumes and forgets deleted ones.
func (mon *Monitor) volumes(ctx context.Context) ([]Volume, error) {
	var firstErr error
	if len(mon.opts.Volumes) == 0 {
		l, err := mon.m.List(ctx)
		if err != nil {
			return nil, err
		}
		seen := make(map[string]bool, len(l))
		for _, v := range l {
			seen[v.Name] = true
		}
		mon.mu.Lock()
		for name := range mon.state {
			if !seen[name] {
				delete(mon.state, name)
				delete(mon.last, name)
			}
		}
		mon.mu.Unlock()
		return l, nil
	}
	var vols []Volume
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
	return vols, firstErr
}

func (mon *Monitor) isClosed() bool {
	mon.mu.Lock()
	defer mon.mu.Unlock()
	return mon.closed
}

// round measures the watched volumes, walking them first if walk is set.
func (mon *Monitor) round(ctx context.Context, walk bool) ([]Event, error) {
	if mon.isClosed() {
		return nil, newErr(ErrClosed, "monitor is closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, ioErr(err, "monitor")
	}
	vols, firstErr := mon.volumes(ctx)
	if vols == nil && firstErr != nil {
		return nil, firstErr
	}
	fail := func(v Volume, what string, err error) {
		mon.m.log.Warn("volume monitor: "+what+" failed", "volume", v.Name, "err", err)
		if firstErr == nil {
			firstErr = err
		}
	}
	var out []Event
	for _, v := range vols {
		if err := ctx.Err(); err != nil {
			return out, ioErr(err, "monitor")
		}
		if walk {
			if _, err := mon.m.walkVolume(ctx, v, false); err != nil {
				fail(v, "walk", err)
				continue
			}
		}
		u, err := mon.measure(ctx, v)
		if err != nil {
			fail(v, "statfs", err)
			continue
		}
		evs, ok := mon.judge(ctx, v, u)
		out = append(out, evs...)
		if !ok {
			if err := ctx.Err(); err != nil {
				return out, ioErr(err, "monitor")
			}
			return out, newErr(ErrClosed, "monitor is closed")
		}
	}
	return out, firstErr
}

// measure is one tick's view of v: statfs now, bytes from quota accounting
// now or from the last walk. Usage.Source is usageUnknown when neither has
// a figure.
func (mon *Monitor) measure(ctx context.Context, v Volume) (Usage, error) {
	fs, err := StatFS(ctx, v.Path)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Path: v.Path, Source: usageUnknown}
	b, inodes, qerr := projectUsage(ctx, v.Path)
	switch {
	case qerr == nil:
		u = Usage{Path: v.Path, Bytes: b, Files: inodes, Source: usageFromQuota, Measured: time.Now().UTC()}
		if w, ok := mon.m.lastWalk(v.Name); ok { // keep the walk's breakdown
			u.AllocatedBytes, u.Dirs, u.Others = w.u.AllocatedBytes, w.u.Dirs, w.u.Others
		}
	case ctx.Err() != nil:
		return Usage{}, qerr
	default:
		if w, ok := mon.m.lastWalk(v.Name); ok {
			u = w.u
		}
	}
	u.FS, u.Quota, u.Percent = fs, v.Quota, percent(u.Bytes, v.Quota)
	return u, nil
}

// judge records u, updates v's levels and delivers the events of changes;
// false when delivery was cut short by ctx or Close.
func (mon *Monitor) judge(ctx context.Context, v Volume, u Usage) ([]Event, bool) {
	mon.mu.Lock()
	defer mon.mu.Unlock()
	if mon.closed {
		return nil, false
	}
	now := time.Now().UTC()
	mon.last[v.Name] = sample{v: v, u: u, t: now}
	prev, seen := mon.state[v.Name]
	cur := [2]Level{prev[ScopeQuota], diskLevel(u.FS, mon.m.cfg.WarningPercent)}
	if u.Source != usageUnknown {
		cur[ScopeQuota] = quotaLevel(u.Bytes, v.Quota, mon.m.cfg.WarningPercent)
	} else if !seen {
		cur[ScopeQuota] = LevelOK
	}
	mon.state[v.Name] = cur
	var out []Event
	for s := range cur {
		if cur[s] == prev[s] {
			continue
		}
		e := Event{Volume: v.Name, Scope: Scope(s), From: prev[s], To: cur[s], Usage: u, Time: now}
		out = append(out, e)
		mon.m.log.Info("volume level changed", "volume", v.Name, "scope", e.Scope.String(), "from", e.From.String(), "to", e.To.String())
		if !mon.deliver(ctx, e) {
			return out, false
		}
	}
	return out, true
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

// Measurement is a Monitor's last measurement of one volume.
type Measurement struct {
	Volume Volume
	Usage  Usage // Usage.Measured and Usage.Source say where the bytes came from
	// Quota and Disk are the volume's levels against its quota and its
	// filesystem's fullness after that measurement.
	Quota, Disk Level
	// Checked is when the tick or walk that produced it ran.
	Checked time.Time
}

// Last returns the last measurement of every volume the monitor has
// measured (by Poll, Walk or Start's rounds), sorted by volume name, and
// none before the first round. It never measures: exporters read it as
// often as they like.
func (mon *Monitor) Last() []Measurement {
	mon.mu.Lock()
	out := make([]Measurement, 0, len(mon.last))
	for name, s := range mon.last {
		lv := mon.state[name]
		out = append(out, Measurement{Volume: s.v, Usage: s.u, Quota: lv[ScopeQuota], Disk: lv[ScopeDisk], Checked: s.t})
	}
	mon.mu.Unlock()
	slices.SortFunc(out, func(a, b Measurement) int { return strings.Compare(a.Volume.Name, b.Volume.Name) })
	return out
}
