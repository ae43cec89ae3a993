//go:build !lucidfuzz

package backup_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/s3sink"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// sinks returns the real sinks the contract tests run on: a local
// directory and the S3 sink on the testenv endpoint (versitygw).
func sinks(t *testing.T) map[string]func(t *testing.T) backup.Sink {
	return map[string]func(t *testing.T) backup.Sink{
		"local": func(t *testing.T) backup.Sink {
			s, err := backup.NewLocalSink(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"s3": func(t *testing.T) backup.Sink {
			srv := testenv.S3(t)
			hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			t.Cleanup(hc.CloseIdleConnections)
			s, err := s3sink.New(s3sink.Config{HTTPClient: hc, Bucket: srv.Bucket, Prefix: "lucid/", Endpoint: srv.Endpoint,
				Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, UsePathStyle: true,
				PartSize: 5 << 20, Concurrency: 2, AbortTimeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func forEachSink(t *testing.T, f func(t *testing.T, sink backup.Sink)) {
	for _, name := range []string{"local", "s3"} {
		mk := sinks(t)[name]
		t.Run(name, func(t *testing.T) { f(t, mk(t)) })
	}
}

func contractManager(t *testing.T, sink backup.Sink, now func() time.Time) *backup.Manager {
	t.Helper()
	id := newIdentity(t)
	m, err := backup.New(sink, backup.Config{Level: 1, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id},
		Checkers: checkers(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sinkObjects lists every object of the sink (records included).
func sinkObjects(t *testing.T, sink backup.Sink) []string {
	t.Helper()
	names, err := sink.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func noBackupObjects(t *testing.T, m *backup.Manager) {
	t.Helper()
	for _, n := range sinkObjects(t, m.Sink()) {
		if !strings.HasPrefix(n, "_records/") {
			t.Fatalf("object left: %s", n)
		}
	}
	if l, err := m.List(context.Background()); err != nil || len(l) != 0 {
		t.Fatalf("list %v %v", l, err)
	}
}

// baseSource is a source incremental on base.
type baseSource struct {
	backup.Source
	base string
	kind string
}

func (b baseSource) Describe() backup.SourceInfo {
	i := b.Source.Describe()
	i.Base = b.base
	if b.kind != "" {
		i.Kind = b.kind
	}
	return i
}

func TestPermanentAndBeforeCommit(t *testing.T) {
	forEachSink(t, func(t *testing.T, sink backup.Sink) {
		ctx := testenv.Context(t)
		m := contractManager(t, sink, nil)
		parts := []backup.Part{{Name: "a", Source: &linesSource{n: 1000, seed: 1}}, {Name: "b", Source: &linesSource{n: 10, seed: 2}}}

		// The hook runs once, after every part and before the manifest.
		var calls int
		man, err := m.Backup(ctx, parts, &backup.BackupOptions{Permanent: true, BeforeCommit: func(ctx context.Context, man *backup.Manifest) error {
			calls++
			if len(man.Parts) != 2 || man.Parts[0].Stored.Size == 0 || man.Parts[1].Records != 10 {
				t.Errorf("hook sees %+v", man.Parts)
			}
			for _, p := range man.Parts {
				if _, err := sink.Size(ctx, man.ID+"/"+p.Object); err != nil {
					t.Errorf("part %s not committed before the hook: %v", p.Name, err)
				}
			}
			if _, err := sink.Size(ctx, man.ID+"/"+backup.ManifestName); !errors.Is(err, backup.ErrNotFound) {
				t.Errorf("manifest before the hook: %v", err)
			}
			return nil
		}})
		if err != nil || calls != 1 {
			t.Fatalf("backup: %v, %d calls", err, calls)
		}
		got, err := m.Open(ctx, man.ID)
		if err != nil || !got.Permanent {
			t.Fatalf("open: %+v %v", got, err)
		}
		if err := m.Delete(ctx, man.ID); err != nil {
			t.Fatal(err)
		}

		// A hook that refuses fails the backup as a part would.
		errFenced := errors.New("lock lost")
		_, err = m.Backup(ctx, parts, &backup.BackupOptions{BeforeCommit: func(context.Context, *backup.Manifest) error { return errFenced }})
		if !errors.Is(err, errFenced) || !strings.HasPrefix(err.Error(), "backup: backup ") {
			t.Fatalf("refused commit: %v", err)
		}
		noBackupObjects(t, m)
	})
}

// gate makes sources wait until n of them run at once, and records the
// most that ever ran together.
type gate struct {
	n           int32
	running     atomic.Int32
	most        atomic.Int32
	all         chan struct{}
	releaseOnce sync.Once
}

type gatedSource struct {
	g *gate
	backup.Source
}

func (s gatedSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	r := s.g.running.Add(1)
	defer s.g.running.Add(-1)
	for {
		m := s.g.most.Load()
		if r <= m || s.g.most.CompareAndSwap(m, r) {
			break
		}
	}
	if r >= s.g.n {
		s.g.releaseOnce.Do(func() { close(s.g.all) })
	}
	select {
	case <-s.g.all:
	case <-ctx.Done():
		return backup.Stats{}, ctx.Err()
	}
	return s.Source.Stream(ctx, w)
}

func TestParallelParts(t *testing.T) {
	forEachSink(t, func(t *testing.T, sink backup.Sink) {
		ctx := testenv.Context(t)
		m := contractManager(t, sink, nil)
		g := &gate{n: 3, all: make(chan struct{})}
		var parts []backup.Part
		for i := range 7 {
			parts = append(parts, backup.Part{Name: fmt.Sprintf("p%d", i), Source: gatedSource{g, &linesSource{n: 2000 * (i + 1), seed: uint64(i)}}})
		}
		// Three parts must run at once to pass the gate: without
		// parallelism this would wait for the test's deadline.
		man, err := m.Backup(ctx, parts, &backup.BackupOptions{Parallel: 3})
		if err != nil {
			t.Fatal(err)
		}
		if most := g.most.Load(); most != 3 {
			t.Fatalf("%d parts ran at once, want 3", most)
		}
		for i, p := range man.Parts {
			if p.Name != parts[i].Name || p.Records != int64(2000*(i+1)) {
				t.Fatalf("part %d: %s %d records", i, p.Name, p.Records)
			}
		}
		if _, err := m.Verify(ctx, man.ID); err != nil {
			t.Fatal(err)
		}

		// One part failing cancels the others (blocked until their ctx
		// ends) and leaves no manifest; the error names the failing part.
		block := make(chan struct{})
		defer close(block)
		if err := m.Delete(ctx, man.ID); err != nil {
			t.Fatal(err)
		}
		fparts := []backup.Part{
			{Name: "slow1", Source: &linesSource{n: 100000, seed: 1, block: block}},
			{Name: "done", Source: &linesSource{n: 10, seed: 3}},
			{Name: "bad", Source: &linesSource{n: 100000, seed: 2, failAfter: 256 << 10}},
			{Name: "slow2", Source: &linesSource{n: 100000, seed: 4, block: block}},
			{Name: "never", Source: &linesSource{n: 10, seed: 5}},
		}
		_, err = m.Backup(ctx, fparts, &backup.BackupOptions{Parallel: 4})
		if !errors.Is(err, errSource) || !strings.Contains(err.Error(), `part "bad"`) || errors.Is(err, context.Canceled) {
			t.Fatalf("failed part: %v", err)
		}
		noBackupObjects(t, m)

		if _, err := m.Backup(ctx, parts, &backup.BackupOptions{Parallel: -1}); !errors.Is(err, backup.ErrInvalid) {
			t.Fatalf("parallel -1: %v", err)
		}
	})
}

func TestIncrementalChain(t *testing.T) {
	forEachSink(t, func(t *testing.T, sink backup.Sink) {
		ctx := testenv.Context(t)
		m := contractManager(t, sink, nil)
		full, err := m.Backup(ctx, []backup.Part{{Name: "v", Source: &linesSource{n: 100, seed: 1}}, {Name: "w", Source: &linesSource{n: 5, seed: 9}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{full.ID}
		for i := range 3 {
			man, err := m.Backup(ctx, []backup.Part{{Name: "v", Source: baseSource{Source: &linesSource{n: 10, seed: uint64(i + 2)}, base: ids[len(ids)-1]}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if man.Parts[0].Base != ids[len(ids)-1] {
				t.Fatalf("base %q", man.Parts[0].Base)
			}
			ids = append(ids, man.ID)
		}
		chain, err := m.Chain(ctx, ids[3], "v")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range chain {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("chain %v, want %v", got, ids)
		}
		if c, err := m.Chain(ctx, full.ID, "w"); err != nil || len(c) != 1 {
			t.Fatalf("self-contained chain %v %v", c, err)
		}
		if _, err := m.Chain(ctx, ids[3], "w"); !errors.Is(err, backup.ErrNotFound) {
			t.Fatalf("chain of a missing part: %v", err)
		}
		if _, err := m.Verify(ctx, ids[3]); err != nil {
			t.Fatal(err)
		}

		// A base must be a complete backup holding the part with its kind.
		for name, src := range map[string]backup.Source{
			"missing": baseSource{Source: &linesSource{n: 1}, base: "20200101T000000Z-00000000"},
			"bad id":  baseSource{Source: &linesSource{n: 1}, base: "../x"},
			"kind":    baseSource{Source: &linesSource{n: 1}, base: full.ID, kind: "other"},
		} {
			if _, err := m.Backup(ctx, []backup.Part{{Name: "v", Source: src}}, nil); !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("%s base: %v", name, err)
			}
		}
		if _, err := m.Backup(ctx, []backup.Part{{Name: "x", Source: baseSource{Source: &linesSource{n: 1}, base: full.ID}}}, nil); !errors.Is(err, backup.ErrInvalid) {
			t.Fatalf("base without the part: %v", err)
		}

		// A backup others build on cannot be deleted.
		err = m.Delete(ctx, ids[1])
		if !errors.Is(err, backup.ErrInUse) || errkind.Of(err) != errkind.FailedPrecondition || !strings.Contains(err.Error(), ids[2]) {
			t.Fatalf("delete a base: %v", err)
		}
		if _, err := m.Open(ctx, ids[1]); err != nil {
			t.Fatalf("refused delete removed something: %v", err)
		}

		// A base's object gone: Verify and Chain of the newest fail Corrupt.
		var obj string
		for _, n := range sinkObjects(t, sink) {
			if strings.HasPrefix(n, ids[1]+"/v.") {
				obj = n
			}
		}
		if err := sink.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Verify(ctx, ids[3]); !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), ids[1]) {
			t.Fatalf("verify with a base's part missing: %v", err)
		}
		// Its manifest gone: the chain is broken.
		if err := sink.Delete(ctx, ids[1]+"/"+backup.ManifestName); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Chain(ctx, ids[3], "v"); !errors.Is(err, backup.ErrCorrupt) {
			t.Fatalf("chain with a base missing: %v", err)
		}
		if _, err := m.Verify(ctx, ids[3]); !errors.Is(err, backup.ErrCorrupt) {
			t.Fatalf("verify with a base missing: %v", err)
		}
		// Newest first, the chain deletes (ids[1] is gone already).
		if err := m.Delete(ctx, ids[1]); !errors.Is(err, backup.ErrNotFound) {
			t.Fatalf("delete a removed backup: %v", err)
		}
		for _, id := range []string{ids[3], ids[2], ids[0]} {
			if err := m.Delete(ctx, id); err != nil {
				t.Fatalf("delete %s: %v", id, err)
			}
		}
		noBackupObjects(t, m)
	})
}

type runStatus struct {
	Job   string    `json:"job"`
	Start time.Time `json:"start"`
	Bytes int64     `json:"bytes"`
}

func TestRecords(t *testing.T) {
	forEachSink(t, func(t *testing.T, sink backup.Sink) {
		ctx := testenv.Context(t)
		clock := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
		var mu sync.Mutex
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		m := contractManager(t, sink, now)

		in := runStatus{Job: "nightly", Start: clock, Bytes: 42}
		for _, n := range []string{"b-2", "a-1", "c.3"} {
			if err := m.PutRecord(ctx, "runs", n, in); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.PutRecord(ctx, "runs", "a-1", in); !errors.Is(err, backup.ErrExists) {
			t.Fatalf("second put: %v", err)
		}
		if err := m.PutRecord(ctx, "other", "a-1", in); err != nil {
			t.Fatal(err)
		}
		names, err := m.Records(ctx, "runs")
		if err != nil || !slices.Equal(names, []string{"a-1", "b-2", "c.3"}) {
			t.Fatalf("records %v %v", names, err)
		}
		var out runStatus
		if err := m.GetRecord(ctx, "runs", "b-2", &out); err != nil || out != in {
			t.Fatalf("get %+v %v", out, err)
		}
		if err := m.GetRecord(ctx, "runs", "zz", &out); !errors.Is(err, backup.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		for _, bad := range [][2]string{{"Runs", "a"}, {"runs", "../a"}, {"runs", "a/b"}, {"", "a"}, {"runs", ".tmp-a"}, {"runs", ""}} {
			if err := m.PutRecord(ctx, bad[0], bad[1], in); !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("put %q: %v", bad, err)
			}
			if err := m.GetRecord(ctx, bad[0], bad[1], &out); !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("get %q: %v", bad, err)
			}
		}
		if err := m.DeleteRecord(ctx, "runs", "b-2"); err != nil {
			t.Fatal(err)
		}
		if err := m.DeleteRecord(ctx, "runs", "b-2"); err != nil {
			t.Fatalf("delete again: %v", err)
		}
		if names, _ := m.Records(ctx, "runs"); !slices.Equal(names, []string{"a-1", "c.3"}) {
			t.Fatalf("after delete %v", names)
		}

		// Records are no backups: List, Incomplete and Delete ignore them.
		if l, err := m.List(ctx); err != nil || len(l) != 0 {
			t.Fatalf("list %v %v", l, err)
		}
		if l, err := m.Incomplete(ctx); err != nil || len(l) != 0 {
			t.Fatalf("incomplete %v %v", l, err)
		}

		// Verify records its success; Verified returns the last time.
		man, err := m.Backup(ctx, []backup.Part{{Name: "a", Source: &linesSource{n: 100, seed: 1}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		other, err := m.Backup(ctx, []backup.Part{{Name: "a", Source: &linesSource{n: 100, seed: 1}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := m.Verified(ctx); err != nil || len(v) != 0 {
			t.Fatalf("verified before: %v %v", v, err)
		}
		if _, err := m.VerifyChecksums(ctx, man.ID); err != nil {
			t.Fatal(err)
		}
		if v, _ := m.Verified(ctx); len(v) != 0 {
			t.Fatalf("VerifyChecksums recorded a verify: %v", v)
		}
		for range 2 { // the same (frozen) clock twice
			if _, err := m.Verify(ctx, man.ID); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		clock = clock.Add(time.Hour)
		mu.Unlock()
		if _, err := m.Verify(ctx, man.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Verify(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		v, err := m.Verified(ctx)
		if err != nil || len(v) != 2 || !v[man.ID].Equal(clock) || !v[other.ID].Equal(clock) {
			t.Fatalf("verified %v %v, want both at %v", v, err, clock)
		}
		recs, _ := m.Records(ctx, backup.RecordVerify)
		if len(recs) != 4 {
			t.Fatalf("verify records %v", recs)
		}
		var rep backup.Report
		if err := m.GetRecord(ctx, backup.RecordVerify, recs[0], &rep); err != nil || rep.ID == "" || len(rep.Parts) != 1 || rep.Parts[0].Stats.Records != 100 {
			t.Fatalf("verify record %+v %v", rep, err)
		}
		// A failed verify records nothing.
		if err := sink.Delete(ctx, man.ID+"/"+man.Parts[0].Object); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		clock = clock.Add(time.Hour)
		mu.Unlock()
		if _, err := m.Verify(ctx, man.ID); !errors.Is(err, backup.ErrCorrupt) {
			t.Fatalf("verify of a broken backup: %v", err)
		}
		if v, _ := m.Verified(ctx); !v[man.ID].Equal(clock.Add(-time.Hour)) {
			t.Fatalf("failed verify recorded: %v", v)
		}
		// Delete takes the backup's verify records with it, no other.
		if err := m.Delete(ctx, man.ID); err != nil {
			t.Fatal(err)
		}
		if v, _ := m.Verified(ctx); len(v) != 1 || v[other.ID].IsZero() {
			t.Fatalf("verified after delete: %v", v)
		}
		if names, _ := m.Records(ctx, "runs"); len(names) != 2 {
			t.Fatalf("delete took records: %v", names)
		}
	})
}

// One real cleanup per sink: a history written on a moving clock, with a
// permanent backup, a verified one and an incremental chain; the plan is
// made, Cleanup deletes exactly its Remove list and the sink then holds
// exactly its Keep list.
func TestCleanup(t *testing.T) {
	forEachSink(t, func(t *testing.T, sink backup.Sink) {
		ctx := testenv.Context(t)
		var mu sync.Mutex
		clock := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		next := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
		m := contractManager(t, sink, now)
		write := func(opts *backup.BackupOptions, base string) string {
			t.Helper()
			var src backup.Source = &linesSource{n: 50, seed: 1}
			if base != "" {
				src = baseSource{Source: src, base: base}
			}
			man, err := m.Backup(ctx, []backup.Part{{Name: "v", Source: src}}, opts)
			if err != nil {
				t.Fatal(err)
			}
			next(24 * time.Hour)
			return man.ID
		}
		perm := write(&backup.BackupOptions{Permanent: true}, "") // day 0
		old1 := write(nil, "")                                    // day 1
		verified := write(nil, "")                                // day 2
		if _, err := m.Verify(ctx, verified); err != nil {
			t.Fatal(err)
		}
		old2 := write(nil, "")     // day 3
		full := write(nil, "")     // day 4
		incr1 := write(nil, full)  // day 5
		incr2 := write(nil, incr1) // day 6
		plan, err := m.PlanCleanup(ctx, backup.RetentionPolicy{KeepLast: 1})
		if err != nil {
			t.Fatal(err)
		}
		wantKeep := []string{incr2, incr1, full, verified, perm}
		if got := ids(plan.Keep); !slices.Equal(got, wantKeep) {
			t.Fatalf("keep %v, want %v (%+v)", got, wantKeep, plan.Keep)
		}
		if got := ids(plan.Remove); !slices.Equal(got, []string{old2, old1}) {
			t.Fatalf("remove %v", got)
		}
		deleted, err := m.Cleanup(ctx, plan)
		if err != nil || !slices.Equal(deleted, []string{old2, old1}) {
			t.Fatalf("cleanup: %v %v", deleted, err)
		}
		list, err := m.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, b := range list {
			left = append(left, b.ID)
		}
		slices.Reverse(left)
		if !slices.Equal(left, wantKeep) {
			t.Fatalf("left %v, want %v", left, wantKeep)
		}
		for _, n := range sinkObjects(t, sink) {
			if strings.HasPrefix(n, old1) || strings.HasPrefix(n, old2) {
				t.Fatalf("object of a removed backup left: %s", n)
			}
		}
		if v, _ := m.Verified(ctx); len(v) != 1 || v[verified].IsZero() {
			t.Fatalf("verified %v", v)
		}

		// A plan gone stale: a backup written since builds on one the plan
		// removes. Cleanup skips it (ErrInUse) and deletes the rest, the
		// chain newest link first.
		next(24 * time.Hour)
		plan, err = m.PlanCleanup(ctx, backup.RetentionPolicy{KeepLast: 1})
		if err != nil {
			t.Fatal(err)
		}
		// The newest (incr2) is kept, and so its bases; verified, perm.
		if got := ids(plan.Remove); len(got) != 0 {
			t.Fatalf("remove %v", got)
		}
		stale := backup.CleanupPlan{Remove: []backup.PlanEntry{{ID: full, Start: time.Date(2026, 5, 5, 2, 0, 0, 0, time.UTC)},
			{ID: verified, Start: time.Date(2026, 5, 3, 2, 0, 0, 0, time.UTC)}}}
		deleted, err = m.Cleanup(ctx, stale)
		if !errors.Is(err, backup.ErrInUse) || !slices.Equal(deleted, []string{verified}) {
			t.Fatalf("stale cleanup: %v %v", deleted, err)
		}
		// Remove a whole chain, listed oldest first: it still goes.
		chain := backup.CleanupPlan{Remove: []backup.PlanEntry{{ID: full}, {ID: incr1}, {ID: incr2}}}
		deleted, err = m.Cleanup(ctx, chain)
		if err != nil || !slices.Equal(deleted, []string{incr2, incr1, full}) {
			t.Fatalf("chain cleanup: %v %v", deleted, err)
		}
		if list, _ := m.List(ctx); len(list) != 1 || list[0].ID != perm {
			t.Fatalf("left %v", list)
		}
		if _, err := m.Cleanup(ctx, backup.CleanupPlan{Remove: []backup.PlanEntry{{ID: "../x"}}}); !errors.Is(err, backup.ErrInvalid) {
			t.Fatalf("bad plan: %v", err)
		}
		if _, err := m.PlanCleanup(ctx, backup.RetentionPolicy{KeepDaily: -5}); !errors.Is(err, backup.ErrInvalid) {
			t.Fatalf("bad policy: %v", err)
		}
	})
}
