package schedule

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/backup"
)

// Status is a run's outcome.
type Status string

// The statuses of a run record.
const (
	StatusOK     Status = "ok"     // the backup was written; Run.Backup names it
	StatusFailed Status = "failed" // the backup failed or was abandoned; Run.Error says why
	StatusMissed Status = "missed" // no host started the tick (see the package doc)
)

// Run is one record of kind "run": a run of a job's tick, or a tick that
// was missed.
type Run struct {
	Job    string    `json:"job"`
	Tick   time.Time `json:"tick"` // the scheduled time (for a manual run, its start)
	Status Status    `json:"status"`
	Start  time.Time `json:"start,omitzero"` // zero for a missed tick
	End    time.Time `json:"end"`            // for a missed tick, when it was found missed
	Backup string    `json:"backup,omitempty"`
	Bytes  int64     `json:"bytes,omitempty"` // stored bytes of all parts
	Parts  int       `json:"parts,omitempty"`
	Error  string    `json:"error,omitempty"`
	// Fence is the fencing token of the lock the run (or, for a missed
	// tick, the host that found it missed) held.
	Fence  int64  `json:"fence"`
	Host   string `json:"host,omitempty"`
	Manual bool   `json:"manual,omitempty"` // started by RunNow, not by the schedule
}

// Duration is End minus Start (0 for a missed tick).
func (r *Run) Duration() time.Duration {
	if r.Start.IsZero() {
		return 0
	}
	return r.End.Sub(r.Start)
}

const tickFormat = "20060102T150405Z"

// recordName is "<job>.<tick>.<fence, 20 digits>", with ".manual" after a
// manual run's: lexical order is job, tick, fence.
func recordName(r Run) string {
	n := r.Job + "." + r.Tick.UTC().Format(tickFormat) + "." + fmt.Sprintf("%020d", max(r.Fence, 0))
	if r.Manual {
		n += ".manual"
	}
	return n
}

type recName struct {
	name   string
	tick   time.Time
	fence  int64
	manual bool
}

func parseRecordName(job, name string) (recName, bool) {
	rest, ok := strings.CutPrefix(name, job+".")
	if !ok {
		return recName{}, false
	}
	f := strings.Split(rest, ".")
	if len(f) < 2 || len(f) > 3 || (len(f) == 3 && f[2] != "manual") || len(f[1]) != 20 {
		return recName{}, false
	}
	t, err := time.Parse(tickFormat, f[0])
	if err != nil {
		return recName{}, false
	}
	fence, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return recName{}, false
	}
	return recName{name: name, tick: t, fence: fence, manual: len(f) == 3}, true
}

// records lists job's run records in the target, in lexical order (tick,
// then fence).
func (s *Scheduler) records(ctx context.Context, job string) ([]recName, error) {
	names, err := s.m.Records(ctx, RecordKind)
	if err != nil {
		return nil, fmt.Errorf("schedule: job %q: records: %w", job, err)
	}
	var out []recName
	for _, n := range names {
		if r, ok := parseRecordName(job, n); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// lastScheduled returns the newest tick with a record that is not a
// manual run's.
func lastScheduled(recs []recName) (time.Time, bool) {
	var last time.Time
	ok := false
	for _, r := range recs {
		if !r.manual && (!ok || r.tick.After(last)) {
			last, ok = r.tick, true
		}
	}
	return last, ok
}

// Runs returns the records of job in the target — runs of every host,
// manual runs and missed ticks — oldest tick first (ties by fencing
// token). It reads every record of the job (Last reads one). A record
// that cannot be read is an error.
func (s *Scheduler) Runs(ctx context.Context, job string) ([]Run, error) {
	recs, err := s.records(ctx, job)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(recs, func(i, k int) bool {
		if !recs[i].tick.Equal(recs[k].tick) {
			return recs[i].tick.Before(recs[k].tick)
		}
		return recs[i].fence < recs[k].fence
	})
	out := make([]Run, 0, len(recs))
	for _, r := range recs {
		var run Run
		if err := s.m.GetRecord(ctx, RecordKind, r.name, &run); err != nil {
			if errors.Is(err, backup.ErrNotFound) {
				continue // deleted since it was listed
			}
			return nil, fmt.Errorf("schedule: job %q: record %s: %w", job, r.name, err)
		}
		out = append(out, run)
	}
	return out, nil
}

// Last returns the newest record of job (the latest tick, the highest
// fencing token among its records): ErrNotFound when there is none.
func (s *Scheduler) Last(ctx context.Context, job string) (*Run, error) {
	recs, err := s.records(ctx, job)
	if err != nil {
		return nil, err
	}
	var best *recName
	for i := range recs {
		r := &recs[i]
		if best == nil || r.tick.After(best.tick) || (r.tick.Equal(best.tick) && r.fence > best.fence) {
			best = r
		}
	}
	if best == nil {
		return nil, fmt.Errorf("schedule: job %q: no run recorded: %w", job, ErrNotFound)
	}
	var run Run
	if err := s.m.GetRecord(ctx, RecordKind, best.name, &run); err != nil {
		return nil, fmt.Errorf("schedule: job %q: record %s: %w", job, best.name, err)
	}
	return &run, nil
}

// FromManifest reads the schedule's labels of a backup: its job, tick and
// fencing token (ok false when m was not written by a scheduled run).
// Among backups of one job and tick — two can exist only after the window
// the package doc describes — the one with the higher token is the newer
// holder's.
func FromManifest(m *backup.Manifest) (job string, tick time.Time, fence int64, ok bool) {
	if m == nil || m.Labels[LabelJob] == "" {
		return "", time.Time{}, 0, false
	}
	tick, err := time.Parse(time.RFC3339, m.Labels[LabelTick])
	if err != nil {
		return "", time.Time{}, 0, false
	}
	fence, err = strconv.ParseInt(m.Labels[LabelFence], 10, 64)
	if err != nil {
		return "", time.Time{}, 0, false
	}
	return m.Labels[LabelJob], tick, fence, true
}
