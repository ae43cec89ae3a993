package backup_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup"
)

// hist builds a synthetic history: one manifest per start time, IDs from
// the start and an index, so that equal starts stay distinct.
type hist struct {
	list []*backup.Manifest
}

func (h *hist) add(start time.Time, opts ...func(*backup.Manifest)) string {
	id := fmt.Sprintf("%s-%08x", start.UTC().Format("20060102T150405Z"), len(h.list))
	m := &backup.Manifest{ID: id, Start: start, End: start.Add(time.Minute), Parts: []backup.PartManifest{{Name: "v", Kind: "volume"}}}
	for _, o := range opts {
		o(m)
	}
	h.list = append(h.list, m)
	return id
}

func permanent(m *backup.Manifest) { m.Permanent = true }

func baseOn(id string) func(*backup.Manifest) {
	return func(m *backup.Manifest) { m.Parts[0].Base = id }
}

func ids(es []backup.PlanEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

var t0 = time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)

// daily makes n nightly backups at 02:00, the newest at t0 + (n-1) days.
func daily(n int) (*hist, []string) {
	h := &hist{}
	var out []string
	for i := range n {
		out = append(out, h.add(t0.AddDate(0, 0, i)))
	}
	return h, out
}

func TestPlanRetention(t *testing.T) {
	day := 24 * time.Hour
	type tc struct {
		name     string
		h        *hist
		verified map[string]time.Time
		p        backup.RetentionPolicy
		now      time.Time
		keep     []string // IDs kept, any order
		reason   map[string]string
	}
	var cases []tc
	{
		h, d := daily(10)
		cases = append(cases, tc{name: "keep-last", h: h, p: backup.RetentionPolicy{KeepLast: 3}, now: t0.AddDate(0, 0, 10),
			keep: d[7:], reason: map[string]string{d[9]: "last"}})
	}
	{
		h, d := daily(40)
		cases = append(cases, tc{name: "within 30 days of the newest", h: h, p: backup.RetentionPolicy{Within: 30 * day}, now: t0.AddDate(0, 0, 40),
			keep: d[10:]})
		// The schedule stalled a year ago: the newest 30 days are kept,
		// not aged out by the clock.
		cases = append(cases, tc{name: "within, stalled schedule", h: h, p: backup.RetentionPolicy{Within: 30 * day}, now: t0.AddDate(1, 0, 40),
			keep: d[10:]})
	}
	{
		// Two backups a day, 03:00 and 15:00: daily keeps the newest of
		// each day (15:00), for the 4 newest days.
		h := &hist{}
		var am, pm []string
		for i := range 7 {
			am = append(am, h.add(t0.AddDate(0, 0, i).Add(time.Hour)))
			pm = append(pm, h.add(t0.AddDate(0, 0, i).Add(13*time.Hour)))
		}
		cases = append(cases, tc{name: "daily buckets", h: h, p: backup.RetentionPolicy{KeepDaily: 4}, now: t0.AddDate(0, 0, 8),
			keep: pm[3:], reason: map[string]string{pm[6]: "daily"}})
		cases = append(cases, tc{name: "hourly", h: h, p: backup.RetentionPolicy{KeepHourly: 3}, now: t0.AddDate(0, 0, 8),
			keep: []string{pm[6], am[6], pm[5]}})
		// Counts left at the oldest backup keep it (restic does).
		cases = append(cases, tc{name: "counts left keep the oldest", h: h, p: backup.RetentionPolicy{KeepDaily: 30}, now: t0.AddDate(0, 0, 8),
			keep: append(slices.Clone(pm), am[0])})
		cases = append(cases, tc{name: "keep all days", h: h, p: backup.RetentionPolicy{KeepDaily: -1}, now: t0.AddDate(0, 0, 8),
			keep: append(slices.Clone(pm), am[0])})
	}
	{
		// Gaps: nightly for 10 days, nothing for 3 months, nightly again.
		// Daily 5 keeps the 5 newest days that have a backup, weekly 3 the
		// newest of 3 ISO weeks, monthly 3 the newest of each month.
		h := &hist{}
		var old, recent []string
		for i := range 10 {
			old = append(old, h.add(t0.AddDate(0, 0, i))) // Jan 1..10
		}
		start := t0.AddDate(0, 4, 0) // May 1
		for i := range 10 {
			recent = append(recent, h.add(start.AddDate(0, 0, i))) // May 1..10
		}
		// May 2026: the 1st is a Friday; ISO weeks: 1-3 (w18), 4-10 (w19).
		// Jan 2026: 1-4 (w1), 5-11 (w2).
		cases = append(cases, tc{name: "gaps: daily", h: h, p: backup.RetentionPolicy{KeepDaily: 5}, now: start.AddDate(0, 0, 11),
			keep: recent[5:]})
		cases = append(cases, tc{name: "gaps: weekly", h: h, p: backup.RetentionPolicy{KeepWeekly: 3}, now: start.AddDate(0, 0, 11),
			keep: []string{recent[9], recent[2], old[9]}})
		cases = append(cases, tc{name: "gaps: monthly", h: h, p: backup.RetentionPolicy{KeepMonthly: 3}, now: start.AddDate(0, 0, 11),
			keep: []string{recent[9], old[9], old[0]}})
		cases = append(cases, tc{name: "gaps: yearly", h: h, p: backup.RetentionPolicy{KeepYearly: 2}, now: start.AddDate(0, 0, 11),
			keep: []string{recent[9], old[0]}})
		cases = append(cases, tc{name: "gaps: combined", h: h, p: backup.RetentionPolicy{KeepLast: 2, KeepWeekly: 2, KeepMonthly: 2}, now: start.AddDate(0, 0, 11),
			keep:   []string{recent[9], recent[8], recent[2], old[9]},
			reason: map[string]string{recent[9]: "last, weekly, monthly", recent[8]: "last"}})
	}
	{
		h, d := daily(10)
		p := h.add(t0.AddDate(0, 0, -100), permanent)
		cases = append(cases, tc{name: "permanent", h: h, p: backup.RetentionPolicy{KeepLast: 1}, now: t0.AddDate(0, 0, 10),
			keep: []string{d[9], p}, reason: map[string]string{p: "permanent"}})
	}
	{
		// The newest verified backup stays whatever the rules; older
		// verified ones do not.
		h, d := daily(10)
		v := map[string]time.Time{d[2]: t0.AddDate(0, 0, 3), d[5]: t0.AddDate(0, 0, 6)}
		cases = append(cases, tc{name: "newest verified", h: h, verified: v, p: backup.RetentionPolicy{KeepLast: 2}, now: t0.AddDate(0, 0, 10),
			keep: []string{d[9], d[8], d[5]}, reason: map[string]string{d[5]: "newest verified"}})
		// Verified records of deleted backups do not count.
		cases = append(cases, tc{name: "verified, deleted", h: h, verified: map[string]time.Time{"20200101T000000Z-00000000": t0}, p: backup.RetentionPolicy{KeepLast: 2}, now: t0.AddDate(0, 0, 10),
			keep: d[8:]})
	}
	{
		// Incremental chains: a kept backup keeps its bases, transitively,
		// and nothing else of the chain beyond what the rules keep.
		h := &hist{}
		full1 := h.add(t0)
		i1 := h.add(t0.AddDate(0, 0, 1), baseOn(full1))
		i2 := h.add(t0.AddDate(0, 0, 2), baseOn(i1))
		full2 := h.add(t0.AddDate(0, 0, 3))
		i3 := h.add(t0.AddDate(0, 0, 4), baseOn(full2))
		i4 := h.add(t0.AddDate(0, 0, 5), baseOn(i3))
		cases = append(cases, tc{name: "chain: last keeps its bases", h: h, p: backup.RetentionPolicy{KeepLast: 1}, now: t0.AddDate(0, 0, 6),
			keep: []string{i4, i3, full2}, reason: map[string]string{i3: "base of " + i4, full2: "base of " + i3}})
		// Monthly 2 has a count left at the oldest backup, which it keeps
		// (a full backup: nothing more).
		cases = append(cases, tc{name: "chain: monthly keeps the oldest", h: h, p: backup.RetentionPolicy{KeepLast: 1, KeepMonthly: 2}, now: t0.AddDate(0, 0, 6),
			keep: []string{i4, i3, full2, full1}})
		// Daily 5 reaches i1, whose base full1 goes with it.
		cases = append(cases, tc{name: "chain: a kept old link keeps its base", h: h, p: backup.RetentionPolicy{KeepDaily: 5}, now: t0.AddDate(0, 0, 6),
			keep: []string{i4, i3, full2, i2, i1, full1}, reason: map[string]string{full1: "base of " + i1}})
		cases = append(cases, tc{name: "chain: oldest chain through a permanent", h: h.with(i2, permanent), p: backup.RetentionPolicy{KeepLast: 1}, now: t0.AddDate(0, 0, 6),
			keep: []string{i4, i3, full2, i2, i1, full1}})
	}
	{
		// Skewed clocks: one host ran a year ahead. Its backup is the
		// newest by Start, but Within judges from the newest backup not
		// after now, as if it were not there, and it is kept.
		h, d := daily(40)
		fut := h.add(t0.AddDate(1, 0, 0))
		cases = append(cases, tc{name: "skew: a backup from the future", h: h, p: backup.RetentionPolicy{Within: 30 * day}, now: t0.AddDate(0, 0, 40),
			keep: append(slices.Clone(d[10:]), fut), reason: map[string]string{fut: "within 720h0m0s, started after now (clock skew)"}})
		// Jumping clocks: a host's clock jumped back a week and then
		// forward again; Start times interleave, and rules judge by them.
		h2 := &hist{}
		a := h2.add(t0.AddDate(0, 0, 10))
		b := h2.add(t0.AddDate(0, 0, 3)) // written after a, started "earlier"
		c := h2.add(t0.AddDate(0, 0, 11))
		cases = append(cases, tc{name: "jump: last by start", h: h2, p: backup.RetentionPolicy{KeepLast: 2}, now: t0.AddDate(0, 0, 12),
			keep: []string{c, a}})
		cases = append(cases, tc{name: "jump: daily by start", h: h2, p: backup.RetentionPolicy{KeepDaily: 3}, now: t0.AddDate(0, 0, 12),
			keep: []string{c, a, b}})
	}
	{
		h, d := daily(3)
		cases = append(cases, tc{name: "no rule keeps everything", h: h, now: t0.AddDate(0, 0, 3), keep: d})
		cases = append(cases, tc{name: "invalid policy keeps everything", h: h, p: backup.RetentionPolicy{KeepLast: -2}, now: t0.AddDate(0, 0, 3), keep: d})
		cases = append(cases, tc{name: "empty history", h: &hist{}, p: backup.RetentionPolicy{KeepLast: 1}, now: t0})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The input order does not matter.
			in := slices.Clone(c.h.list)
			slices.Reverse(in)
			plan := backup.PlanRetention(in, c.verified, c.p, c.now)
			if len(plan.Keep)+len(plan.Remove) != len(c.h.list) {
				t.Fatalf("%d kept + %d removed of %d", len(plan.Keep), len(plan.Remove), len(c.h.list))
			}
			got := ids(plan.Keep)
			slices.Sort(got)
			want := slices.Clone(c.keep)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("kept %v\nwant %v\nplan %+v", got, want, plan)
			}
			for _, list := range [][]backup.PlanEntry{plan.Keep, plan.Remove} {
				for i := 1; i < len(list); i++ {
					if list[i].Start.After(list[i-1].Start) {
						t.Fatalf("not newest first: %v", ids(list))
					}
				}
			}
			for _, e := range plan.Keep {
				if e.Reason == "" {
					t.Fatalf("no reason for %s", e.ID)
				}
				if want, ok := c.reason[e.ID]; ok && e.Reason != want {
					t.Fatalf("%s kept for %q, want %q", e.ID, e.Reason, want)
				}
			}
			for _, e := range plan.Remove {
				if e.Reason == "" || e.Permanent {
					t.Fatalf("removed %+v", e)
				}
			}
			checkInvariants(t, c.h.list, c.verified, plan)
			if !strings.Contains(c.p.String(), "keep") {
				t.Fatalf("policy string %q", c.p.String())
			}
		})
	}
}

func (h *hist) with(id string, opt func(*backup.Manifest)) *hist {
	out := &hist{}
	for _, m := range h.list {
		c := *m
		c.Parts = slices.Clone(m.Parts)
		if c.ID == id {
			opt(&c)
		}
		out.list = append(out.list, &c)
	}
	return out
}

// checkInvariants: no permanent backup, no newest verified backup, no base
// of a kept backup is removed.
func checkInvariants(t *testing.T, list []*backup.Manifest, verified map[string]time.Time, plan backup.CleanupPlan) {
	t.Helper()
	removed := map[string]bool{}
	for _, e := range plan.Remove {
		removed[e.ID] = true
	}
	var newestVerified *backup.Manifest
	for _, m := range list {
		if m.Permanent && removed[m.ID] {
			t.Fatalf("permanent %s removed", m.ID)
		}
		if _, ok := verified[m.ID]; ok && (newestVerified == nil || m.Start.After(newestVerified.Start)) {
			newestVerified = m
		}
		if !removed[m.ID] {
			for _, p := range m.Parts {
				if removed[p.Base] {
					t.Fatalf("base %s of kept %s removed", p.Base, m.ID)
				}
			}
		}
	}
	if newestVerified != nil && removed[newestVerified.ID] {
		t.Fatalf("newest verified %s removed", newestVerified.ID)
	}
}

// A clock behind the newest backup (it jumped back) removes nothing that
// the right clock would keep, whatever the policy; a clock far ahead
// removes nothing extra either, as rules judge by Start.
func TestPlanRetentionClock(t *testing.T) {
	h := &hist{}
	for i := range 60 {
		h.add(t0.Add(time.Duration(i) * 7 * time.Hour))
	}
	newest := h.list[len(h.list)-1].Start
	for _, p := range []backup.RetentionPolicy{
		{Within: 48 * time.Hour}, {KeepLast: 5}, {KeepDaily: 3, KeepWeekly: 2}, {Within: 24 * time.Hour, KeepHourly: 10, KeepMonthly: 1},
	} {
		right := backup.PlanRetention(h.list, nil, p, newest.Add(time.Hour))
		removed := map[string]bool{}
		for _, e := range right.Remove {
			removed[e.ID] = true
		}
		for _, now := range []time.Time{newest.Add(-time.Hour), newest.AddDate(0, 0, -10), newest.AddDate(-1, 0, 0), newest.AddDate(5, 0, 0)} {
			plan := backup.PlanRetention(h.list, nil, p, now)
			for _, e := range plan.Remove {
				if !removed[e.ID] {
					t.Fatalf("policy %v, clock %v: removes %s, which the right clock keeps", p, now, e.ID)
				}
			}
		}
	}
}
