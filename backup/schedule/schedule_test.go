//go:build !lucidfuzz

package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/schedule"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestRace: two schedulers, each with its own Redis client and Manager
// over one target (a local directory; a versitygw bucket), race for the same job over 20 ticks of @every 1s on a
// shared fake clock: every tick is backed up exactly once (one call of
// Parts, one ok record, one manifest labelled with it) and nothing is
// reported missed.
func TestRace(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"local", "s3"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testRace(t, target(t, kind))
		})
	}
}

func testRace(t *testing.T, newManager func() *backup.Manager) {
	ctx := testenv.Context(t)
	ns := testenv.Namespace(t)
	clk := newFakeClock(t0)
	var mu sync.Mutex
	calls := map[time.Time]int{}
	hosts := map[string]int{}
	mk := func(host string) *schedule.Scheduler {
		s, err := schedule.New(newManager(), redisLocker(t, ns), schedule.Options{Host: host, Clock: clk, LockTTL: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Add(schedule.Job{Name: "race", Schedule: "@every 1s", Parts: func(ctx context.Context, tick time.Time) ([]backup.Part, error) {
			mu.Lock()
			calls[tick]++
			hosts[host]++
			mu.Unlock()
			return []backup.Part{{Name: "data", Source: source{data: []byte("tick " + tick.String())}}}, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := mk("host-a"), mk("host-b")
	for k := 1; k <= 20; k++ {
		clk.AdvanceWhen(t, 2, time.Second)
		waitFor(t, fmt.Sprintf("tick %d", k), func() bool { return !lastTick(ctx, a, "race").Before(tickN(k)) })
	}
	noErr(t, a.Close())
	noErr(t, b.Close())

	runs, err := b.Runs(ctx, "race")
	noErr(t, err)
	byTick := runsByTick(t, runs)
	if len(runs) != 20 || len(byTick) != 20 {
		t.Fatalf("%d records over %d ticks, want 20 over 20: %+v", len(runs), len(byTick), runs)
	}
	for k := 1; k <= 20; k++ {
		rs := byTick[tickN(k)]
		if len(rs) != 1 || rs[0].Status != schedule.StatusOK || rs[0].Backup == "" || rs[0].Parts != 1 || rs[0].Bytes == 0 {
			t.Errorf("tick %d: %+v", k, rs)
		}
		if calls[tickN(k)] != 1 {
			t.Errorf("tick %d: Parts called %d times", k, calls[tickN(k)])
		}
	}
	mans, err := newManager().List(ctx)
	noErr(t, err)
	seen := map[time.Time]bool{}
	for _, m := range mans {
		job, tick, fence, ok := schedule.FromManifest(m)
		if !ok || job != "race" || seen[tick] || len(byTick[tick]) != 1 || byTick[tick][0].Fence != fence || byTick[tick][0].Backup != m.ID {
			t.Errorf("manifest %s labels %v (duplicate tick %v, records %+v)", m.ID, m.Labels, seen[tick], byTick[tick])
		}
		seen[tick] = true
	}
	if len(mans) != 20 {
		t.Errorf("%d manifests, want 20", len(mans))
	}
	t.Logf("runs per host: %v", hosts)
}

// pausedLocker simulates a runner whose process was stopped past its
// lease: no watchdog refreshes the lease, and its lock's Context does not
// end (a stopped process's timers have not fired when it resumes). With
// foolRefresh, Refresh also succeeds, as it could against a lock server
// that lost the lock in a failover: then only the fencing tokens in the
// target stop it.
type pausedLocker struct {
	l           schedule.Locker
	foolRefresh bool
}

func (p pausedLocker) Obtain(ctx context.Context, name string, o cache.LockOptions) (cache.Lock, error) {
	o.NoWatchdog = true
	lk, err := p.l.Obtain(ctx, name, o)
	if err != nil {
		return nil, err
	}
	return pausedLock{lk, p.foolRefresh}, nil
}

type pausedLock struct {
	cache.Lock
	foolRefresh bool
}

func (p pausedLock) Context() context.Context { return context.Background() }

func (p pausedLock) Refresh(ctx context.Context, ttl time.Duration) error {
	if p.foolRefresh {
		return nil
	}
	return p.Lock.Refresh(ctx, ttl)
}

// TestStaleRunner: host A starts tick 1 and stalls inside its source past
// its 1 s lease; host B runs tick 2 under the lock with a higher fencing
// token and commits. When A resumes its backup is refused just before the
// manifest: by the lock server (lease lost) or, when the lock check is
// fooled, by B's higher token in the target. A writes no manifest and
// leaves no objects; its run is recorded as failed.
func TestStaleRunner(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		foolRefresh bool
		want        error
	}{{"lease lost", false, schedule.ErrLockLost}, {"failover", true, schedule.ErrFenced}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testenv.Context(t)
			ns, dir := testenv.Namespace(t), t.TempDir()
			clk := newFakeClock(t0)
			started, block := make(chan struct{}, 1), make(chan struct{})
			a, err := schedule.New(localManager(t, dir), pausedLocker{redisLocker(t, ns), tc.foolRefresh},
				schedule.Options{Host: "host-a", Clock: clk, LockTTL: time.Second})
			noErr(t, err)
			noErr(t, a.Add(schedule.Job{Name: "stale", Schedule: "@every 1s", Parts: parts(source{data: []byte("a"), started: started, block: block})}))
			noErr(t, a.Start())
			t.Cleanup(func() { _ = a.Close() })
			clk.AdvanceWhen(t, 1, time.Second) // tick 1: A alone
			<-started
			time.Sleep(1500 * time.Millisecond) // past A's lease on the server

			b, err := schedule.New(localManager(t, dir), redisLocker(t, ns), schedule.Options{Host: "host-b", Clock: clk})
			noErr(t, err)
			noErr(t, b.Add(schedule.Job{Name: "stale", Schedule: "@every 1s", Parts: parts(source{data: []byte("b")})}))
			noErr(t, b.Start())
			t.Cleanup(func() { _ = b.Close() })
			clk.AdvanceWhen(t, 1, time.Second) // tick 2: B takes the lock A lost
			waitFor(t, "B's run", func() bool { return !lastTick(ctx, b, "stale").Before(tickN(2)) })

			close(block) // A resumes
			var ra schedule.Run
			waitFor(t, "A's record", func() bool {
				runs, err := b.Runs(ctx, "stale")
				noErr(t, err)
				for _, r := range runs {
					if r.Host == "host-a" {
						ra = r
						return true
					}
				}
				return false
			})
			noErr(t, a.Close())
			noErr(t, b.Close())
			rb, err := b.Last(ctx, "stale")
			noErr(t, err)
			if ra.Status != schedule.StatusFailed || !ra.Tick.Equal(tickN(1)) || ra.Backup != "" || !strings.Contains(ra.Error, strings.TrimPrefix(tc.want.Error(), "schedule: ")) {
				t.Fatalf("A's record %+v, want failed with %v", ra, tc.want)
			}
			if rb.Host != "host-b" || rb.Status != schedule.StatusOK || rb.Fence <= ra.Fence {
				t.Fatalf("B's record %+v after A's fence %d", rb, ra.Fence)
			}
			m := localManager(t, dir)
			mans, err := m.List(ctx)
			noErr(t, err)
			if len(mans) != 1 || mans[0].Labels[schedule.LabelHost] != "host-b" || mans[0].Labels[schedule.LabelFence] != strconv.FormatInt(rb.Fence, 10) {
				t.Fatalf("manifests %+v, want B's only", mans)
			}
			inc, err := m.Incomplete(ctx)
			noErr(t, err)
			if len(inc) != 0 {
				t.Fatalf("A left objects behind: %v", inc)
			}
		})
	}
}

// TestMissed: ticks nobody ran are recorded as missed and logged, not
// skipped silently — ticks passed while no scheduler was up (found at the
// next Start) and ticks a scheduler slept through (a clock jump, found by
// its next run).
func TestMissed(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	ns, dir := testenv.Namespace(t), t.TempDir()
	clk := newFakeClock(t0)
	opts := schedule.Options{Host: "host", Clock: clk, Grace: 700 * time.Millisecond}
	job := schedule.Job{Name: "missed", Schedule: "@every 1s", Parts: parts(source{data: []byte("x")})}
	a, err := schedule.New(localManager(t, dir), redisLocker(t, ns), opts)
	noErr(t, err)
	noErr(t, a.Add(job))
	noErr(t, a.Start())
	for k := 1; k <= 2; k++ {
		clk.AdvanceWhen(t, 1, time.Second)
		waitFor(t, fmt.Sprintf("tick %d", k), func() bool { return !lastTick(ctx, a, "missed").Before(tickN(k)) })
	}
	noErr(t, a.Close())

	clk.Advance(3300 * time.Millisecond) // ticks 3, 4, 5 pass with no scheduler up
	var logs syncBuffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	b, err := schedule.New(localManager(t, dir), redisLocker(t, ns), opts)
	noErr(t, err)
	noErr(t, b.Add(job))
	noErr(t, b.Start())
	t.Cleanup(func() { _ = b.Close() })
	waitFor(t, "ticks 3-5 reported", func() bool { return !lastTick(ctx, b, "missed").Before(tickN(5)) })
	clk.AdvanceWhen(t, 1, 200*time.Millisecond) // tick 6
	waitFor(t, "tick 6", func() bool { return !lastTick(ctx, b, "missed").Before(tickN(6)) })
	clk.AdvanceWhen(t, 1, 3*time.Second) // the clock jumps over ticks 7 and 8 to 9
	waitFor(t, "tick 9", func() bool { return !lastTick(ctx, b, "missed").Before(tickN(9)) })
	noErr(t, b.Close())

	runs, err := b.Runs(ctx, "missed")
	noErr(t, err)
	byTick := runsByTick(t, runs)
	want := map[int]schedule.Status{1: "ok", 2: "ok", 3: "missed", 4: "missed", 5: "missed", 6: "ok", 7: "missed", 8: "missed", 9: "ok"}
	if len(byTick) != len(want) {
		t.Errorf("records for ticks %v", sortedTicks(byTick))
	}
	for k, st := range want {
		rs := byTick[tickN(k)]
		if len(rs) != 1 || rs[0].Status != st {
			t.Errorf("tick %d: %+v, want one %s", k, rs, st)
		}
	}
	if n := strings.Count(logs.String(), "schedule: missed ticks"); n != 2 || !strings.Contains(logs.String(), "count=3") || !strings.Contains(logs.String(), "count=2") {
		t.Errorf("%d missed-tick log lines:\n%s", n, logs.String())
	}
}

// TestClose: Close waits for the run in progress (its record is written
// when Close returns), is idempotent, and everything after it fails with
// ErrClosed; Shutdown with an expired ctx cancels a run, which leaves no
// manifest and is recorded as failed.
func TestClose(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	for _, hard := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancel=%v", hard), func(t *testing.T) {
			ns, dir := testenv.Namespace(t), t.TempDir()
			clk := newFakeClock(t0)
			m := localManager(t, dir)
			s, err := schedule.New(m, redisLocker(t, ns), schedule.Options{Clock: clk})
			noErr(t, err)
			started, block := make(chan struct{}, 1), make(chan struct{})
			var src backup.Source = source{data: []byte("x"), started: started, block: block}
			if hard {
				src = ctxSource{started: started}
			}
			job := schedule.Job{Name: "close", Schedule: "@every 1s", Parts: parts(src)}
			noErr(t, s.Add(job))
			noErr(t, s.Start())
			clk.AdvanceWhen(t, 1, time.Second)
			<-started
			closed := make(chan error, 1)
			go func() {
				if hard {
					cctx, cancel := context.WithCancel(ctx)
					cancel()
					closed <- s.Shutdown(cctx)
					return
				}
				closed <- s.Close()
			}()
			if !hard {
				select {
				case err := <-closed:
					t.Fatalf("Close returned %v while a run was in progress", err)
				case <-time.After(200 * time.Millisecond):
				}
				close(block)
			}
			err = <-closed
			if hard != errors.Is(err, context.Canceled) {
				t.Fatalf("close: %v", err)
			}
			last, err := s.Last(ctx, "close")
			noErr(t, err)
			wantStatus := schedule.StatusOK
			if hard {
				wantStatus = schedule.StatusFailed
			}
			if last.Status != wantStatus {
				t.Fatalf("record after Close: %+v", last)
			}
			mans, err := m.List(ctx)
			noErr(t, err)
			if hard == (len(mans) != 0) {
				t.Fatalf("%d manifests", len(mans))
			}
			noErr(t, s.Close())
			if err := s.Add(schedule.Job{Name: "other", Schedule: "@daily", Parts: parts(src)}); !errors.Is(err, schedule.ErrClosed) {
				t.Fatalf("Add after Close: %v", err)
			}
			if _, err := s.RunNow(ctx, "close"); !errors.Is(err, schedule.ErrClosed) {
				t.Fatalf("RunNow after Close: %v", err)
			}
			if err := s.Start(); !errors.Is(err, schedule.ErrClosed) {
				t.Fatalf("Start after Close: %v", err)
			}
		})
	}
}

// ctxSource signals started and then waits for its ctx, as a source
// honouring cancellation does.
type ctxSource struct{ started chan<- struct{} }

func (s ctxSource) Describe() backup.SourceInfo { return source{}.Describe() }

func (s ctxSource) Stream(ctx context.Context, _ io.Writer) (backup.Stats, error) {
	s.started <- struct{}{}
	<-ctx.Done()
	return backup.Stats{}, ctx.Err()
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
