package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
)

// Sentinel errors. Every error of this package wraps at most one of them
// and keeps its cause (a cache or backup error stays reachable with
// errors.Is and errors.As); each matches its errkind kind. Messages start
// with "schedule: ".
var (
	// ErrInvalid: a bad job name, schedule or option (kind InvalidArgument).
	ErrInvalid = errkind.New(errkind.InvalidArgument, "schedule: invalid argument")
	// ErrClosed: the Scheduler was closed (kind Closed).
	ErrClosed = errkind.New(errkind.Closed, "schedule: closed")
	// ErrNotFound: no such job, or no run recorded for it (kind NotFound).
	ErrNotFound = errkind.New(errkind.NotFound, "schedule: not found")
	// ErrBusy: RunNow could not get the job's lock within LockWait:
	// another host (or this one) is running the job (kind Aborted).
	ErrBusy = errkind.New(errkind.Aborted, "schedule: job running elsewhere")
	// ErrLockLost: the run's lease on the job's lock ran out or was taken
	// before the manifest was written; the backup was abandoned (kind
	// FailedPrecondition). The cache error (cache.ErrLockExpired,
	// cache.ErrLockTaken) is kept as the cause.
	ErrLockLost = errkind.New(errkind.FailedPrecondition, "schedule: lock lost")
	// ErrFenced: the target holds a run record of the job with a higher
	// fencing token than the run's own, so a newer holder ran; the backup
	// was abandoned (kind FailedPrecondition).
	ErrFenced = errkind.New(errkind.FailedPrecondition, "schedule: fenced out by a newer run")
)

// Manifest labels set on every scheduled backup, next to the job's own.
const (
	LabelJob    = "schedule.job"    // the job's name
	LabelTick   = "schedule.tick"   // the tick, RFC 3339 in UTC
	LabelFence  = "schedule.fence"  // the run's fencing token, decimal
	LabelHost   = "schedule.host"   // the host that ran it
	LabelManual = "schedule.manual" // "true" for RunNow
)

// RecordKind is the kind of the run records in the target.
const RecordKind = "run"

// Locker hands out the job locks. cache.Locker (Redis, Redis Cluster or in
// memory) satisfies it; a Lock's Fence must increase strictly from one
// Obtain of a name to the next, and its Context must end when the lease is
// lost.
type Locker interface {
	Obtain(ctx context.Context, name string, opts cache.LockOptions) (cache.Lock, error)
}

var (
	_ Locker = cache.Locker(nil)
	_ Locker = (*cache.RedisLocker)(nil)
	_ Locker = (*cache.MemoryLocker)(nil)
)

// Clock is the scheduler's time source; tests inject one that they
// advance by hand. The default is the system clock.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Scheduler. The zero value means the defaults given.
type Options struct {
	// Host names this scheduler in records and labels (default
	// os.Hostname).
	Host string
	// LockTTL is the job lock's lease (default 30 s). The lock's watchdog
	// keeps it while a run is alive, so it bounds how long a crashed or
	// paused runner blocks the job, not how long a run may take.
	LockTTL time.Duration
	// LockWait bounds how long a host waits for the job's lock at a tick
	// (default 2 s): long enough that a host losing a race for a tick
	// usually finds the winner's record, short enough not to queue behind
	// a long run.
	LockWait time.Duration
	// LockPrefix starts every lock name: "<LockPrefix>.<job>" (default
	// "backup-schedule").
	LockPrefix string
	// Grace is how late after its tick (plus the job's Jitter) a run may
	// still start (default 1 min); a tick later than that is recorded as
	// missed instead.
	Grace time.Duration
	// MaxMissed bounds the missed ticks recorded by one check (default
	// 100): the newest ones are recorded, the log line counts them all.
	MaxMissed int
	// Location is where schedules without CRON_TZ= are read (default UTC).
	Location *time.Location
	// Clock is the time source (default the system clock).
	Clock Clock
	// Logger receives runs, misses and failures (default: discard).
	Logger *slog.Logger
}

// Job is a backup taken on a schedule.
type Job struct {
	// Name identifies the job in lock names, record names and labels:
	// 1 to 63 of a-z, 0-9, '_' and '-', starting with a letter or digit.
	// Hosts that share a target and a lock server run the job of a name
	// once per tick between them.
	Name string
	// Schedule is a cron expression (see the package doc), e.g.
	// "0 2 * * *" or "@every 1h".
	Schedule string
	// Jitter, if positive, delays each start by a random duration up to it.
	Jitter time.Duration
	// Parts returns the parts of the run of tick. Its ctx ends when the
	// lease is lost or the scheduler shuts down.
	Parts func(ctx context.Context, tick time.Time) ([]backup.Part, error)
	// Options are passed to Backup. Labels are copied and the schedule's
	// labels added; BeforeCommit, if set, runs after the scheduler's own
	// lock check.
	Options backup.BackupOptions
}

var jobNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// epochEvery is robfig's @every aligned to the Unix epoch, so that every
// host computes the same ticks.
type epochEvery struct{ d time.Duration }

func (e epochEvery) Next(t time.Time) time.Time {
	n := t.UnixNano()
	d := int64(e.d)
	next := n - n%d + d
	if n < 0 && n%d != 0 {
		next -= d
	}
	return time.Unix(0, next).In(t.Location())
}

// Parse parses a job schedule as Add does, reading fields in loc (nil:
// UTC) unless the spec starts with CRON_TZ=.
func Parse(spec string, loc *time.Location) (cron.Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	sc, err := cronParser.Parse(strings.TrimSpace(spec))
	if err != nil {
		return nil, fmt.Errorf("%w: schedule %.80q: %w", ErrInvalid, spec, err)
	}
	switch s := sc.(type) {
	case cron.ConstantDelaySchedule:
		return epochEvery{s.Delay}, nil
	case *cron.SpecSchedule:
		if s.Location == time.Local {
			c := *s
			c.Location = loc
			return &c, nil
		}
	}
	return sc, nil
}

type job struct {
	Job
	sched cron.Schedule
}

// Scheduler runs jobs on their schedules. It is safe for concurrent use.
type Scheduler struct {
	m      *backup.Manager
	locker Locker
	o      Options
	log    *slog.Logger
	clock  Clock

	mu      sync.Mutex
	jobs    map[string]*job
	started bool
	closed  bool
	since   time.Time // Start's time: no tick before it is reported missed for a job without records

	loopCtx  context.Context // ends on Close: no new run starts
	stopLoop context.CancelFunc
	runCtx   context.Context // ends when Shutdown's wait runs out: running backups abort
	killRuns context.CancelFunc
	wg       sync.WaitGroup
}

// New returns a Scheduler backing up into m and locking through l.
func New(m *backup.Manager, l Locker, o Options) (*Scheduler, error) {
	if m == nil || l == nil {
		return nil, fmt.Errorf("%w: nil manager or locker", ErrInvalid)
	}
	if o.LockTTL < 0 || o.LockWait < 0 || o.Grace < 0 || o.MaxMissed < 0 {
		return nil, fmt.Errorf("%w: negative duration or count", ErrInvalid)
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.LockTTL == 0 {
		o.LockTTL = 30 * time.Second
	}
	if o.LockWait == 0 {
		o.LockWait = 2 * time.Second
	}
	if o.LockPrefix == "" {
		o.LockPrefix = "backup-schedule"
	}
	if o.Grace == 0 {
		o.Grace = time.Minute
	}
	if o.MaxMissed == 0 {
		o.MaxMissed = 100
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{m: m, locker: l, o: o, log: log, clock: o.Clock, jobs: map[string]*job{}}
	s.loopCtx, s.stopLoop = context.WithCancel(context.Background())
	s.runCtx, s.killRuns = context.WithCancel(context.Background())
	return s, nil
}

// Add registers a job; after Start it is scheduled at once.
func (s *Scheduler) Add(j Job) error {
	if !jobNameRE.MatchString(j.Name) {
		return fmt.Errorf("%w: job name %.80q", ErrInvalid, j.Name)
	}
	if j.Parts == nil {
		return fmt.Errorf("%w: job %q has no Parts", ErrInvalid, j.Name)
	}
	if j.Jitter < 0 {
		return fmt.Errorf("%w: job %q: negative jitter", ErrInvalid, j.Name)
	}
	sc, err := Parse(j.Schedule, s.o.Location)
	if err != nil {
		return fmt.Errorf("%w (job %q)", err, j.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, dup := s.jobs[j.Name]; dup {
		return fmt.Errorf("%w: job %q added twice", ErrInvalid, j.Name)
	}
	jb := &job{Job: j, sched: sc}
	s.jobs[j.Name] = jb
	if s.started {
		s.wg.Add(1)
		go s.loop(jb)
	}
	return nil
}

// Start starts scheduling the jobs added so far and any added later.
// Each job first checks for ticks missed while no host was running it.
func (s *Scheduler) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return nil
	}
	s.started = true
	s.since = s.clock.Now()
	for _, j := range s.jobs {
		s.wg.Add(1)
		go s.loop(j)
	}
	return nil
}

// Close stops scheduling and waits for the runs in progress to finish.
// It is idempotent.
func (s *Scheduler) Close() error {
	_ = s.Shutdown(context.Background())
	return nil
}

// Shutdown stops scheduling and waits for the runs in progress until ctx
// ends; then it cancels them (their backups abort, leave no manifest and
// are recorded as failed) and waits for that. It returns ctx's error if it
// had to cancel. Calling it again waits again.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stopLoop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.killRuns()
		<-done
		return ctx.Err()
	}
}

// maxScan bounds the ticks one missed-tick check walks (a day of @every 1s
// is 86,400).
const maxScan = 1 << 20

// maxSleep caps one wait, so that a wall clock that jumps (NTP, a resumed
// VM) is noticed within a minute.
const maxSleep = time.Minute

func (s *Scheduler) loop(j *job) {
	defer s.wg.Done()
	ctx := s.loopCtx
	s.checkMissed(ctx, j)
	next := j.sched.Next(s.clock.Now().In(s.o.Location))
	for {
		if next.IsZero() {
			s.log.Warn("schedule: job has no future tick", "job", j.Name, "schedule", j.Schedule)
			return
		}
		now := s.clock.Now()
		if now.Before(next) {
			select {
			case <-ctx.Done():
				return
			case <-s.clock.After(min(next.Sub(now), maxSleep)):
			}
			continue
		}
		// Woken late (a busy host, a long previous run, a clock jump):
		// the newest due tick is run; the runner reports the others.
		due := next
		for range maxScan {
			t := j.sched.Next(due)
			if t.IsZero() || t.After(now) {
				break
			}
			due = t
		}
		next = j.sched.Next(due)
		if ctx.Err() != nil {
			return
		}
		s.tick(ctx, j, due)
	}
}

// tick runs tick t of j on this host if it is the one to (see the package
// doc).
func (s *Scheduler) tick(ctx context.Context, j *job, t time.Time) {
	if j.Jitter > 0 {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(rand.N(j.Jitter)):
		}
	}
	lk, err := s.obtain(ctx, j)
	if err != nil {
		if ctx.Err() == nil {
			if errors.Is(err, ErrBusy) {
				s.log.Debug("schedule: job held elsewhere", "job", j.Name, "tick", t)
			} else {
				s.log.Error("schedule: cannot lock job", "job", j.Name, "tick", t, "err", err)
			}
		}
		return
	}
	defer s.release(lk, j)
	recs, err := s.records(ctx, j.Name)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("schedule: cannot read run records", "job", j.Name, "tick", t, "err", err)
		}
		return
	}
	last, ok := lastScheduled(recs)
	if ok && !last.Before(t) {
		s.log.Debug("schedule: tick already run", "job", j.Name, "tick", t, "last", last)
		return
	}
	if !ok {
		last = s.since
	}
	late := s.clock.Now().After(t.Add(j.Jitter + s.o.Grace))
	until := t
	if late {
		until = t.Add(time.Nanosecond)
	}
	s.reportMissed(ctx, j, last, until, lk.Fence())
	if late || ctx.Err() != nil { // closed meanwhile: start nothing new
		return
	}
	run, _ := s.execute(s.runCtx, j, t, lk, false)
	s.put(j, run)
}

// checkMissed is the check a job makes when scheduling starts: ticks past
// their grace with no record are reported, under the job's lock (skipped
// when another host holds it: that host reports them).
func (s *Scheduler) checkMissed(ctx context.Context, j *job) {
	recs, err := s.records(ctx, j.Name)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("schedule: cannot read run records", "job", j.Name, "err", err)
		}
		return
	}
	last, ok := lastScheduled(recs)
	if !ok {
		return // a new job: nothing ran it before, so nothing was missed
	}
	until := s.clock.Now().Add(-j.Jitter - s.o.Grace)
	if t := j.sched.Next(last); t.IsZero() || !t.Before(until) {
		return
	}
	lk, err := s.obtain(ctx, j)
	if err != nil {
		return
	}
	defer s.release(lk, j)
	if recs, err = s.records(ctx, j.Name); err != nil {
		if ctx.Err() == nil {
			s.log.Error("schedule: cannot read run records", "job", j.Name, "err", err)
		}
		return
	}
	last, _ = lastScheduled(recs)
	s.reportMissed(ctx, j, last, until, lk.Fence())
}

// reportMissed records the ticks of j in (after, before) as missed: the
// newest MaxMissed of them, all counted in one log line.
func (s *Scheduler) reportMissed(ctx context.Context, j *job, after, before time.Time, fence int64) {
	var ticks []time.Time
	var first time.Time
	total := 0
	for t := j.sched.Next(after.In(s.o.Location)); !t.IsZero() && t.Before(before) && total < maxScan; t = j.sched.Next(t) {
		if total == 0 {
			first = t
		}
		total++
		ticks = append(ticks, t)
		if len(ticks) > s.o.MaxMissed {
			ticks = ticks[1:]
		}
	}
	if total == 0 {
		return
	}
	// Past maxScan ticks the count is a lower bound and the next check
	// goes on from the last tick recorded.
	s.log.Warn("schedule: missed ticks", "job", j.Name, "count", total, "capped", total == maxScan,
		"first", first, "last", ticks[len(ticks)-1], "recorded", len(ticks))
	now := s.clock.Now().UTC()
	for _, t := range ticks {
		r := Run{Job: j.Name, Tick: t.UTC(), Status: StatusMissed, End: now, Fence: fence, Host: s.o.Host,
			Error: "no host started this tick within its grace: every host was down or could not reach the lock server, a clock jumped, or the job's previous run still held the lock"}
		if err := s.m.PutRecord(ctx, RecordKind, recordName(r), r); err != nil && !errors.Is(err, backup.ErrExists) {
			if ctx.Err() == nil {
				s.log.Error("schedule: cannot record missed tick", "job", j.Name, "tick", t, "err", err)
			}
			return
		}
	}
}

// obtain gets j's lock, waiting at most LockWait: ErrBusy when another
// owner keeps it that long.
func (s *Scheduler) obtain(ctx context.Context, j *job) (cache.Lock, error) {
	lctx, cancel := context.WithTimeout(ctx, s.o.LockWait)
	defer cancel()
	lk, err := s.locker.Obtain(lctx, s.lockName(j.Name), cache.LockOptions{TTL: s.o.LockTTL,
		Retry: &cache.Backoff{Min: 10 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err == nil {
		return lk, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if errors.Is(err, cache.ErrLockNotObtained) {
		return nil, fmt.Errorf("schedule: job %q: %w: %w", j.Name, ErrBusy, err)
	}
	if lctx.Err() != nil {
		// Our own wait ran out, not the caller's deadline: the cause is
		// left out so that the error is of ErrBusy's kind only.
		return nil, fmt.Errorf("schedule: job %q: %w (lock held for the %v waited)", j.Name, ErrBusy, s.o.LockWait)
	}
	return nil, fmt.Errorf("schedule: job %q: lock: %w", j.Name, err)
}

func (s *Scheduler) release(lk cache.Lock, j *job) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lk.Release(ctx); err != nil {
		s.log.Warn("schedule: lock release", "job", j.Name, "fence", lk.Fence(), "err", err)
	}
}

func (s *Scheduler) lockName(job string) string { return s.o.LockPrefix + "." + job }

// execute runs the backup of tick t under lk; stopCtx ending cancels it.
// The error is the run's, also recorded in Run.Error.
func (s *Scheduler) execute(stopCtx context.Context, j *job, t time.Time, lk cache.Lock, manual bool) (Run, error) {
	run := Run{Job: j.Name, Tick: t.UTC(), Start: s.clock.Now().UTC(), Fence: lk.Fence(), Host: s.o.Host, Manual: manual}
	s.log.Info("schedule: run started", "job", j.Name, "tick", run.Tick, "fence", run.Fence, "manual", manual)
	// The run lives as long as the lease (the watchdog cancels the lock's
	// Context once it is lost) and until Shutdown gives up waiting.
	ctx, cancel := context.WithCancelCause(lk.Context())
	defer cancel(nil)
	stop := context.AfterFunc(s.runCtx, func() { cancel(fmt.Errorf("%w: shut down during the run", ErrClosed)) })
	defer stop()
	stop2 := context.AfterFunc(stopCtx, func() { cancel(context.Cause(stopCtx)) })
	defer stop2()

	err := func() error {
		parts, err := j.Parts(ctx, t)
		if err != nil {
			return fmt.Errorf("schedule: job %q: parts: %w", j.Name, err)
		}
		opts := j.Options
		opts.Labels = make(map[string]string, len(j.Options.Labels)+5)
		for k, v := range j.Options.Labels {
			opts.Labels[k] = v
		}
		opts.Labels[LabelJob] = j.Name
		opts.Labels[LabelTick] = run.Tick.Format(time.RFC3339)
		opts.Labels[LabelFence] = strconv.FormatInt(run.Fence, 10)
		opts.Labels[LabelHost] = s.o.Host
		if manual {
			opts.Labels[LabelManual] = "true"
		}
		user := j.Options.BeforeCommit
		opts.BeforeCommit = func(ctx context.Context, m *backup.Manifest) error {
			if err := s.checkFence(ctx, j.Name, lk); err != nil {
				return err
			}
			if user != nil {
				return user(ctx, m)
			}
			return nil
		}
		man, err := s.m.Backup(ctx, parts, &opts)
		if err != nil {
			return err
		}
		run.Backup, run.Bytes, run.Parts = man.ID, man.Size(), len(man.Parts)
		return nil
	}()
	if err != nil && !errors.Is(err, ErrLockLost) && !errors.Is(err, ErrFenced) && lk.Context().Err() != nil {
		err = fmt.Errorf("schedule: job %q: %w: %w (the backup: %v)", j.Name, ErrLockLost, context.Cause(lk.Context()), err)
	}
	run.End = s.clock.Now().UTC()
	if err != nil {
		run.Status, run.Error = StatusFailed, err.Error()
		s.log.Error("schedule: run failed", "job", j.Name, "tick", run.Tick, "fence", run.Fence, "err", err)
	} else {
		run.Status = StatusOK
		s.log.Info("schedule: run done", "job", j.Name, "tick", run.Tick, "backup", run.Backup, "bytes", run.Bytes,
			"duration", run.End.Sub(run.Start))
	}
	return run, err
}

// checkFence is the scheduler's BeforeCommit: the lease must still be this
// run's (Context not done, Refresh accepted by the lock server) and no run
// record may carry a newer fencing token.
func (s *Scheduler) checkFence(ctx context.Context, job string, lk cache.Lock) error {
	if lk.Context().Err() != nil {
		return fmt.Errorf("schedule: job %q fence %d: %w: %w", job, lk.Fence(), ErrLockLost, context.Cause(lk.Context()))
	}
	if err := lk.Refresh(ctx, 0); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("schedule: job %q fence %d: %w: %w", job, lk.Fence(), ErrLockLost, err)
	}
	recs, err := s.records(ctx, job)
	if err != nil {
		return err // unproven is refused
	}
	for _, r := range recs {
		if r.fence > lk.Fence() {
			return fmt.Errorf("schedule: job %q fence %d: %w (record %s has %d)", job, lk.Fence(), ErrFenced, r.name, r.fence)
		}
	}
	return nil
}

// put writes run's record, even when the run was cancelled.
func (s *Scheduler) put(j *job, run Run) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.m.PutRecord(ctx, RecordKind, recordName(run), run); err != nil {
		s.log.Error("schedule: cannot record run", "job", j.Name, "tick", run.Tick, "err", err)
	}
}

// RunNow runs job name at once on this host, under the job's lock like a
// scheduled run (ErrBusy when another run holds it for LockWait). The run
// is recorded with Manual set and its own time as tick, and does not count
// as any scheduled tick. It returns the run's record, with the backup's
// error, if any, as the error too.
func (s *Scheduler) RunNow(ctx context.Context, name string) (*Run, error) {
	s.mu.Lock()
	j, ok := s.jobs[name]
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("schedule: job %q: %w", name, ErrNotFound)
	}
	s.wg.Add(1) // under mu, so that Shutdown's Wait starts after it or sees closed
	s.mu.Unlock()
	defer s.wg.Done()
	lk, err := s.obtain(ctx, j)
	if err != nil {
		return nil, err
	}
	defer s.release(lk, j)
	tick := s.clock.Now().UTC()
	run, err := s.execute(ctx, j, tick, lk, true)
	s.put(j, run)
	return &run, err
}

// Jobs returns the names of the jobs added, sorted.
func (s *Scheduler) Jobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Next returns the next tick of job name after now on this host's clock.
func (s *Scheduler) Next(name string) (time.Time, error) {
	s.mu.Lock()
	j, ok := s.jobs[name]
	s.mu.Unlock()
	if !ok {
		return time.Time{}, fmt.Errorf("schedule: job %q: %w", name, ErrNotFound)
	}
	return j.sched.Next(s.clock.Now().In(s.o.Location)), nil
}
