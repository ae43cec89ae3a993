//go:build !lucidfuzz

package schedule_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/schedule"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestParse: the standard five fields, an optional seconds field,
// descriptors and CRON_TZ= parse through robfig/cron; fields are read in
// the given location; @every ticks are aligned to the epoch whatever time
// they are computed from; bad specs are ErrInvalid.
func TestParse(t *testing.T) {
	t.Parallel()
	plus2 := time.FixedZone("plus2", 2*3600)
	from := time.Date(2026, 3, 1, 10, 17, 33, 250, time.UTC)
	for _, tc := range []struct {
		spec string
		loc  *time.Location
		want time.Time
	}{
		{"0 2 * * *", nil, time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)},
		{"0 2 * * *", plus2, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"CRON_TZ=UTC 0 2 * * *", plus2, time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)},
		{"30 */5 * * * *", nil, time.Date(2026, 3, 1, 10, 20, 30, 0, time.UTC)},
		{"@daily", nil, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"@every 1s", nil, time.Date(2026, 3, 1, 10, 17, 34, 0, time.UTC)},
		{"@every 1h", nil, time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"@every 7m", nil, time.Unix((from.Unix()/420+1)*420, 0)},
		{" 0 2 * * 1-5 ", nil, time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)}, // 1 March 2026 is a Sunday
	} {
		sc, err := schedule.Parse(tc.spec, tc.loc)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got := sc.Next(from); !got.Equal(tc.want) {
			t.Errorf("%q in %v: next %v, want %v", tc.spec, tc.loc, got.UTC(), tc.want.UTC())
		}
		// Hosts asking at different times before a tick agree on it
		// (robfig's own @every would answer from + 7m).
		if mid := sc.Next(from.Add(sc.Next(from).Sub(from) / 2)); !mid.Equal(tc.want) {
			t.Errorf("%q: next from half-way %v, want %v", tc.spec, mid.UTC(), tc.want.UTC())
		}
	}
	for _, spec := range []string{"", "bogus", "0 25 * * *", "* * * *", "@every x", "CRON_TZ=Nowhere/City 0 2 * * *", "1 2 3 4 5 6 7"} {
		if _, err := schedule.Parse(spec, nil); !errors.Is(err, schedule.ErrInvalid) || errkind.Of(err) != errkind.InvalidArgument {
			t.Errorf("%q: %v, want ErrInvalid", spec, err)
		}
	}
}

// TestAdd: job names, schedules, Parts and jitter are checked; names are
// unique; New refuses a nil manager or locker and negative options.
func TestAdd(t *testing.T) {
	t.Parallel()
	m := localManager(t, t.TempDir())
	l, err := cache.NewMemory().Locker(cache.LockerOptions{})
	noErr(t, err)
	if _, err := schedule.New(nil, l, schedule.Options{}); !errors.Is(err, schedule.ErrInvalid) {
		t.Errorf("nil manager: %v", err)
	}
	if _, err := schedule.New(m, nil, schedule.Options{}); !errors.Is(err, schedule.ErrInvalid) {
		t.Errorf("nil locker: %v", err)
	}
	if _, err := schedule.New(m, l, schedule.Options{Grace: -time.Second}); !errors.Is(err, schedule.ErrInvalid) {
		t.Errorf("negative grace: %v", err)
	}
	s, err := schedule.New(m, l, schedule.Options{})
	noErr(t, err)
	defer s.Close()
	p := parts(source{data: []byte("x")})
	ok := schedule.Job{Name: "ok", Schedule: "@daily", Parts: p}
	noErr(t, s.Add(ok))
	for _, j := range []schedule.Job{
		{Name: "", Schedule: "@daily", Parts: p},
		{Name: "Nightly", Schedule: "@daily", Parts: p},
		{Name: "a.b", Schedule: "@daily", Parts: p},
		{Name: strings.Repeat("a", 64), Schedule: "@daily", Parts: p},
		{Name: "x", Schedule: "0 2 * *", Parts: p},
		{Name: "x", Schedule: "@daily"},
		{Name: "x", Schedule: "@daily", Parts: p, Jitter: -time.Second},
		ok,
	} {
		if err := s.Add(j); !errors.Is(err, schedule.ErrInvalid) {
			t.Errorf("Add(%q, %q): %v, want ErrInvalid", j.Name, j.Schedule, err)
		}
	}
	if got := s.Jobs(); len(got) != 1 || got[0] != "ok" {
		t.Errorf("Jobs: %v", got)
	}
	if _, err := s.RunNow(context.Background(), "nope"); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("RunNow of an unknown job: %v", err)
	}
	if _, err := s.Last(context.Background(), "ok"); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("Last with no runs: %v", err)
	}
	if n, err := s.Next("ok"); err != nil || n.Hour() != 0 || n.Minute() != 0 || !n.After(time.Now()) {
		t.Errorf("Next: %v, %v", n, err)
	}
}

// TestJitter: a job with Jitter waits, on the scheduler's clock, a random
// delay below it before starting, and still runs well within its grace.
func TestJitter(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	clk := newFakeClock(t0)
	m := localManager(t, t.TempDir())
	l, err := cache.NewMemory().Locker(cache.LockerOptions{})
	noErr(t, err)
	s, err := schedule.New(m, l, schedule.Options{Clock: clk})
	noErr(t, err)
	defer s.Close()
	const jitter = 30 * time.Second
	noErr(t, s.Add(schedule.Job{Name: "jitter", Schedule: "@every 1m", Jitter: jitter, Parts: parts(source{data: []byte("x")})}))
	noErr(t, s.Start())
	clk.AdvanceWhen(t, 1, time.Minute) // the tick at 02:01:00
	tick := t0.Truncate(time.Minute).Add(time.Minute)
	waitFor(t, "the jitter wait", func() bool {
		clk.mu.Lock()
		defer clk.mu.Unlock()
		return len(clk.waiters) == 1 && clk.waiters[0].at.Before(clk.now.Add(jitter))
	})
	if _, err := s.Last(ctx, "jitter"); !errors.Is(err, schedule.ErrNotFound) {
		t.Fatalf("ran before its jitter: %v", err)
	}
	clk.Advance(jitter)
	waitFor(t, "the run", func() bool { return lastTick(ctx, s, "jitter").Equal(tick) })
	r, err := s.Last(ctx, "jitter")
	noErr(t, err)
	if r.Status != schedule.StatusOK || r.Start.Sub(r.Tick) > jitter+time.Second || r.Start.Before(r.Tick) {
		t.Fatalf("run %+v", r)
	}
}

// TestLongRun: a run longer than the lock's TTL keeps its lease through
// the cache Locker's watchdog and commits; its record says how long it
// took and what it wrote.
func TestLongRun(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	clk := newFakeClock(t0)
	m := localManager(t, t.TempDir())
	s, err := schedule.New(m, redisLocker(t, testenv.Namespace(t)), schedule.Options{Clock: clk, LockTTL: time.Second})
	noErr(t, err)
	defer s.Close()
	block := make(chan struct{})
	time.AfterFunc(2200*time.Millisecond, func() { close(block) }) // past two TTLs
	noErr(t, s.Add(schedule.Job{Name: "long", Schedule: "@every 1s", Parts: parts(source{data: []byte("long"), block: block})}))
	noErr(t, s.Start())
	clk.AdvanceWhen(t, 1, time.Second)
	waitFor(t, "the run", func() bool { return !lastTick(ctx, s, "long").IsZero() })
	r, err := s.Last(ctx, "long")
	noErr(t, err)
	if r.Status != schedule.StatusOK || r.Bytes == 0 || r.Parts != 1 {
		t.Fatalf("run %+v", r)
	}
	man, err := m.Open(ctx, r.Backup)
	noErr(t, err)
	if man.Labels[schedule.LabelTick] != tickN(1).Format(time.RFC3339) || man.Size() != r.Bytes {
		t.Fatalf("manifest labels %v size %d, run %+v", man.Labels, man.Size(), r)
	}
}

// TestRunNowBusy: RunNow waits at most LockWait for a job's lock held
// elsewhere, then fails with ErrBusy (kind Aborted) and runs nothing.
func TestRunNowBusy(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	l := redisLocker(t, testenv.Namespace(t))
	m := localManager(t, t.TempDir())
	s, err := schedule.New(m, l, schedule.Options{LockWait: 300 * time.Millisecond})
	noErr(t, err)
	defer s.Close()
	noErr(t, s.Add(schedule.Job{Name: "busy", Schedule: "@daily", Parts: parts(source{data: []byte("x")})}))
	held, err := l.Obtain(ctx, "backup-schedule.busy", cache.LockOptions{TTL: time.Minute})
	noErr(t, err)
	if _, err := s.RunNow(ctx, "busy"); !errors.Is(err, schedule.ErrBusy) || errkind.Of(err) != errkind.Aborted {
		t.Fatalf("RunNow while held: %v", err)
	}
	noErr(t, held.Release(ctx))
	r, err := s.RunNow(ctx, "busy")
	noErr(t, err)
	if !r.Manual || r.Status != schedule.StatusOK || r.Fence <= held.Fence() {
		t.Fatalf("run %+v after fence %d", r, held.Fence())
	}
	mans, err := m.List(ctx)
	noErr(t, err)
	if len(mans) != 1 || mans[0].Labels[schedule.LabelManual] != "true" {
		t.Fatalf("manifests %+v", mans)
	}
}

// TestRunFails: a job whose Parts fails is recorded as failed with the
// error, which RunNow returns with its cause kept; no backup is written.
func TestRunFails(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	m := localManager(t, t.TempDir())
	l, err := cache.NewMemory().Locker(cache.LockerOptions{})
	noErr(t, err)
	s, err := schedule.New(m, l, schedule.Options{})
	noErr(t, err)
	defer s.Close()
	boom := errors.New("source down")
	noErr(t, s.Add(schedule.Job{Name: "fails", Schedule: "@daily", Parts: func(context.Context, time.Time) ([]backup.Part, error) { return nil, boom }}))
	r, err := s.RunNow(ctx, "fails")
	if !errors.Is(err, boom) || r == nil || r.Status != schedule.StatusFailed || !strings.Contains(r.Error, "source down") {
		t.Fatalf("RunNow: %+v, %v", r, err)
	}
	last, err := s.Last(ctx, "fails")
	noErr(t, err)
	if last.Status != schedule.StatusFailed || last.Backup != "" || last.Error != r.Error {
		t.Fatalf("record %+v", last)
	}
	if mans, err := m.List(ctx); err != nil || len(mans) != 0 {
		t.Fatalf("manifests %v, %v", mans, err)
	}
}

// TestMaxMissed: past MaxMissed missed ticks the newest are recorded and
// the log line counts them all, naming the first.
func TestMaxMissed(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	dir := t.TempDir()
	clk := newFakeClock(t0)
	l, err := cache.NewMemory().Locker(cache.LockerOptions{})
	noErr(t, err)
	var logs syncBuffer
	opts := schedule.Options{Clock: clk, Grace: 100 * time.Millisecond, MaxMissed: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	job := schedule.Job{Name: "cap", Schedule: "@every 1s", Parts: parts(source{data: []byte("x")})}
	a, err := schedule.New(localManager(t, dir), l, opts)
	noErr(t, err)
	noErr(t, a.Add(job))
	noErr(t, a.Start())
	clk.AdvanceWhen(t, 1, 600*time.Millisecond) // tick 1 at 1.1 s
	waitFor(t, "tick 1", func() bool { return lastTick(ctx, a, "cap").Equal(tickN(1)) })
	noErr(t, a.Close())
	clk.Advance(5200 * time.Millisecond) // 6.3 s: ticks 2 to 6 missed, past their grace
	b, err := schedule.New(localManager(t, dir), l, opts)
	noErr(t, err)
	noErr(t, b.Add(job))
	noErr(t, b.Start())
	defer b.Close()
	waitFor(t, "the missed records", func() bool { return lastTick(ctx, b, "cap").Equal(tickN(6)) })
	runs, err := b.Runs(ctx, "cap")
	noErr(t, err)
	if len(runs) != 3 || runs[1].Tick != tickN(5) || runs[1].Status != schedule.StatusMissed || runs[2].Tick != tickN(6) {
		t.Fatalf("records %+v", runs)
	}
	if out := logs.String(); !strings.Contains(out, "count=5") || !strings.Contains(out, "recorded=2") || !strings.Contains(out, "first="+tickN(2).Format("2006-01-02T15:04:05")) {
		t.Fatalf("log:\n%s", out)
	}
}
