package main

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/schedule"
)

// metrics is the daemon's Prometheus collector and the source of /status.
// It learns of runs two ways: each part's source is wrapped (instrument), so
// a part that fails on this host is counted at once, and the job's run
// records are read from the target (observe), so the last success, its
// duration and bytes are the fleet's, whichever host ran the tick.
type metrics struct {
	mu    sync.Mutex
	parts map[string]*partState
	runs  map[string]int // run records seen, by status
	seen  map[string]bool
	last  *schedule.Run // the newest record
	ok    *schedule.Run // the newest good record
	set   *backup.Manifest

	descPartSuccess, descPartDuration, descPartBytes, descPartFailures *prometheus.Desc
	descSuccess, descDuration, descBytes, descRuns, descLastFailed     *prometheus.Desc
}

// partState is what is known of one part.
type partState struct {
	LastSuccess time.Time `json:"last_success,omitzero"`
	Duration    float64   `json:"duration_seconds"`
	Bytes       int64     `json:"bytes"`       // stored bytes in the last good set
	PlainBytes  int64     `json:"plain_bytes"` // read from the source in the last good set
	Records     int64     `json:"records"`
	Failures    int64     `json:"failures"` // on this host, since it started
	LastError   string    `json:"last_error,omitempty"`
}

func newMetrics() *metrics {
	part := []string{"part"}
	return &metrics{
		parts:            map[string]*partState{},
		runs:             map[string]int{},
		seen:             map[string]bool{},
		descPartSuccess:  prometheus.NewDesc("lucid_backup_part_last_success_timestamp_seconds", "When the part was last written in a complete backup set.", part, nil),
		descPartDuration: prometheus.NewDesc("lucid_backup_part_last_duration_seconds", "How long the part took in the last complete set.", part, nil),
		descPartBytes:    prometheus.NewDesc("lucid_backup_part_last_bytes", "Stored bytes of the part in the last complete set.", part, nil),
		descPartFailures: prometheus.NewDesc("lucid_backup_part_failures_total", "Parts that failed on this host (a part cancelled because another failed is not counted).", part, nil),
		descSuccess:      prometheus.NewDesc("lucid_backup_last_success_timestamp_seconds", "End of the last good run of the job, on any host.", nil, nil),
		descDuration:     prometheus.NewDesc("lucid_backup_last_duration_seconds", "Duration of the last good run.", nil, nil),
		descBytes:        prometheus.NewDesc("lucid_backup_last_bytes", "Stored bytes of the last good run.", nil, nil),
		descRuns:         prometheus.NewDesc("lucid_backup_runs_total", "Run records of the job seen in the target, by status (ok, failed, missed).", []string{"status"}, nil),
		descLastFailed:   prometheus.NewDesc("lucid_backup_last_run_failed", "1 when the newest run record is not ok (failed or missed).", nil, nil),
	}
}

func (mx *metrics) part(name string) *partState {
	p := mx.parts[name]
	if p == nil {
		p = &partState{}
		mx.parts[name] = p
	}
	return p
}

// instrument wraps each part's source so its failures are counted.
func (mx *metrics) instrument(parts []backup.Part) []backup.Part {
	out := make([]backup.Part, len(parts))
	for i, p := range parts {
		out[i] = backup.Part{Name: p.Name, Source: countedSource{Source: p.Source, name: p.Name, mx: mx}}
	}
	return out
}

type countedSource struct {
	backup.Source
	name string
	mx   *metrics
}

func (c countedSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	st, err := c.Source.Stream(ctx, w)
	// A part stopped because the run was (another part failed, the lease
	// was lost, the daemon stops) did not fail itself: its ctx is done, or
	// its error is that cancellation. The part that failed first returns
	// before the others are cancelled.
	if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		c.mx.mu.Lock()
		p := c.mx.part(c.name)
		p.Failures++
		p.LastError = err.Error()
		c.mx.mu.Unlock()
	}
	return st, err
}

// observe takes the job's run records, oldest first, and the manifest of the
// newest good one (nil when none can be opened).
func (mx *metrics) observe(runs []schedule.Run, man *backup.Manifest) {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	for i := range runs {
		r := runs[i]
		key := r.Tick.String() + "|" + r.Host + "|" + r.Start.String() + "|" + string(r.Status)
		if !mx.seen[key] {
			mx.seen[key] = true
			mx.runs[string(r.Status)]++
		}
		mx.last = &r
		if r.Status == schedule.StatusOK {
			mx.ok = &r
		}
	}
	if man == nil {
		return
	}
	mx.set = man
	for _, p := range man.Parts {
		s := mx.part(p.Name)
		s.LastSuccess, s.Duration, s.Bytes, s.PlainBytes, s.Records = man.End, p.End.Sub(p.Start).Seconds(), p.Stored.Size, p.Plain.Size, p.Records
	}
}

// Describe implements prometheus.Collector.
func (mx *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mx.descPartSuccess, mx.descPartDuration, mx.descPartBytes, mx.descPartFailures,
		mx.descSuccess, mx.descDuration, mx.descBytes, mx.descRuns, mx.descLastFailed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (mx *metrics) Collect(ch chan<- prometheus.Metric) {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	for name, p := range mx.parts {
		if !p.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(mx.descPartSuccess, prometheus.GaugeValue, float64(p.LastSuccess.UnixNano())/1e9, name)
			ch <- prometheus.MustNewConstMetric(mx.descPartDuration, prometheus.GaugeValue, p.Duration, name)
			ch <- prometheus.MustNewConstMetric(mx.descPartBytes, prometheus.GaugeValue, float64(p.Bytes), name)
		}
		ch <- prometheus.MustNewConstMetric(mx.descPartFailures, prometheus.CounterValue, float64(p.Failures), name)
	}
	if mx.ok != nil {
		ch <- prometheus.MustNewConstMetric(mx.descSuccess, prometheus.GaugeValue, float64(mx.ok.End.UnixNano())/1e9)
		ch <- prometheus.MustNewConstMetric(mx.descDuration, prometheus.GaugeValue, mx.ok.End.Sub(mx.ok.Start).Seconds())
		ch <- prometheus.MustNewConstMetric(mx.descBytes, prometheus.GaugeValue, float64(mx.ok.Bytes))
	}
	for _, st := range []schedule.Status{schedule.StatusOK, schedule.StatusFailed, schedule.StatusMissed} {
		ch <- prometheus.MustNewConstMetric(mx.descRuns, prometheus.CounterValue, float64(mx.runs[string(st)]), string(st))
	}
	if mx.last != nil {
		v := 0.0
		if mx.last.Status != schedule.StatusOK {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(mx.descLastFailed, prometheus.GaugeValue, v)
	}
}

// status is the body of GET /status.
type status struct {
	Job         string                `json:"job"`
	Schedule    string                `json:"schedule"`
	Storage     string                `json:"storage"`
	Next        time.Time             `json:"next,omitzero"`
	RunningHere bool                  `json:"running_here"`
	Last        *schedule.Run         `json:"last,omitempty"`    // the newest run record, any host
	LastOK      *schedule.Run         `json:"last_ok,omitempty"` // the newest good one
	Runs        map[string]int        `json:"runs"`              // records seen, by status
	Parts       map[string]*partState `json:"parts"`
}

func (mx *metrics) snapshot() status {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	s := status{Last: mx.last, LastOK: mx.ok, Runs: map[string]int{}, Parts: map[string]*partState{}}
	for k, v := range mx.runs {
		s.Runs[k] = v
	}
	for k, v := range mx.parts {
		c := *v
		s.Parts[k] = &c
	}
	return s
}
