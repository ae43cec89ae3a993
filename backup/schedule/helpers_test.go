//go:build !lucidfuzz

package schedule_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/s3sink"
	"github.com/HamiGames/lucid-data/backup/schedule"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// fakeClock is a Clock the test advances by hand; waiters whose time has
// come are woken by Advance.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// AdvanceWhen waits until n waiters are pending — the schedulers are all
// asleep until their next tick, done with the previous one — then
// advances the clock by d.
func (c *fakeClock) AdvanceWhen(t *testing.T, n int, d time.Duration) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d sleeping schedulers", n), func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.waiters) >= n
	})
	c.Advance(d)
}

// Advance moves the clock by d and wakes the waiters whose time came.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// t0 is the fake clocks' start: half a second before a tick of @every 1s.
var t0 = time.Date(2026, 3, 1, 2, 0, 0, 500_000_000, time.UTC)

func tickN(n int) time.Time { return t0.Truncate(time.Second).Add(time.Duration(n) * time.Second) }

// redisLocker is one host's Locker: a client of its own on the shared
// Redis, locks under entity ns.
func redisLocker(t *testing.T, ns string) cache.Locker {
	t.Helper()
	ctx := testenv.Context(t)
	cli, err := cache.Connect(ctx, cache.Config{URL: testenv.RedisURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	l, err := cli.Locker(cache.LockerOptions{Entity: ns})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// localManager is one host's Manager over the shared target dir.
func localManager(t *testing.T, dir string) *backup.Manager {
	t.Helper()
	m, err := backup.NewLocal(dir, backup.Config{Plaintext: true, Compression: backup.None})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// target returns a maker of Managers — one per host — over one shared
// target: a local directory, or a bucket of versitygw through s3sink.
func target(t *testing.T, kind string) func() *backup.Manager {
	t.Helper()
	switch kind {
	case "local":
		dir := t.TempDir()
		return func() *backup.Manager { return localManager(t, dir) }
	case "s3":
		srv := testenv.S3(t)
		return func() *backup.Manager {
			// A client of the host's own, whose idle connections go with
			// the test (goleak checks for their goroutines).
			hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			t.Cleanup(hc.CloseIdleConnections)
			sink, err := s3sink.New(s3sink.Config{HTTPClient: hc, Bucket: srv.Bucket, Prefix: "lucid/", Endpoint: srv.Endpoint,
				Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, UsePathStyle: true})
			if err != nil {
				t.Fatal(err)
			}
			m, err := backup.New(sink, backup.Config{Plaintext: true, Compression: backup.None})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Close() })
			return m
		}
	}
	t.Fatalf("no target %q", kind)
	return nil
}

// source writes data; with block set it first signals started and waits
// for block to close, ignoring ctx as a stopped process would.
type source struct {
	data    []byte
	started chan<- struct{}
	block   <-chan struct{}
}

func (s source) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "test", Format: "bin", FormatVersion: 1, Source: "test"}
}

func (s source) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	if s.started != nil {
		s.started <- struct{}{}
	}
	if s.block != nil {
		<-s.block
	}
	if _, err := io.Copy(w, bytes.NewReader(s.data)); err != nil {
		return backup.Stats{}, err
	}
	return backup.Stats{Records: 1}, nil
}

func parts(src backup.Source) func(context.Context, time.Time) ([]backup.Part, error) {
	return func(context.Context, time.Time) ([]backup.Part, error) {
		return []backup.Part{{Name: "data", Source: src}}, nil
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lastTick is the newest recorded tick of job (zero when none).
func lastTick(ctx context.Context, s *schedule.Scheduler, job string) time.Time {
	r, err := s.Last(ctx, job)
	if err != nil {
		return time.Time{}
	}
	return r.Tick
}

func runsByTick(t *testing.T, runs []schedule.Run) map[time.Time][]schedule.Run {
	t.Helper()
	out := map[time.Time][]schedule.Run{}
	for _, r := range runs {
		out[r.Tick] = append(out[r.Tick], r)
	}
	return out
}

func sortedTicks(m map[time.Time][]schedule.Run) []time.Time {
	var ts []time.Time
	for k := range m {
		ts = append(ts, k)
	}
	sort.Slice(ts, func(i, k int) bool { return ts[i].Before(ts[k]) })
	return ts
}

// syncBuffer is a log sink for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
