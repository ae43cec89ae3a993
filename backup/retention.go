package backup

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// RetentionPolicy says which backups to keep, with the semantics of restic's
// `forget`: a backup is kept when any rule keeps it, and removed otherwise.
// Every rule judges a backup by its manifest's Start, never by object times.
//
// KeepLast keeps the n newest backups. KeepHourly, KeepDaily, KeepWeekly
// (ISO weeks), KeepMonthly and KeepYearly each keep the newest backup of
// each of the n most recent hours, days, weeks, months and years that have
// one (in UTC); a rule with counts left when it reaches the oldest backup
// keeps that one too, as restic does, so the history stays as long as the
// counts allow. A count of -1 keeps every period. Within keeps every backup
// that started less than Within before the newest backup — the newest, not
// the clock, so a stalled schedule never ages its last backups out — not
// counting backups that started after now (another host's clock ran
// ahead), which are kept.
//
// A policy with no rule keeps everything. Whatever the rules, PlanRetention
// never removes a permanent backup, the newest verified backup, a backup
// that started after now, or a base of a kept backup's incremental part.
type RetentionPolicy struct {
	Within      time.Duration
	KeepLast    int
	KeepHourly  int
	KeepDaily   int
	KeepWeekly  int
	KeepMonthly int
	KeepYearly  int
}

// IsZero reports whether p has no rule (it then keeps everything).
func (p RetentionPolicy) IsZero() bool { return p == RetentionPolicy{} }

// String describes p in restic's flag words.
func (p RetentionPolicy) String() string {
	var s []string
	for _, r := range []struct {
		name string
		n    int
	}{{"last", p.KeepLast}, {"hourly", p.KeepHourly}, {"daily", p.KeepDaily}, {"weekly", p.KeepWeekly}, {"monthly", p.KeepMonthly}, {"yearly", p.KeepYearly}} {
		if r.n != 0 {
			s = append(s, fmt.Sprintf("keep-%s %d", r.name, r.n))
		}
	}
	if p.Within > 0 {
		s = append(s, "keep-within "+p.Within.String())
	}
	if len(s) == 0 {
		return "keep everything"
	}
	return strings.Join(s, ", ")
}

func (p RetentionPolicy) check() error {
	for _, n := range []int{p.KeepLast, p.KeepHourly, p.KeepDaily, p.KeepWeekly, p.KeepMonthly, p.KeepYearly} {
		if n < -1 {
			return newErr(ErrInvalid, "retention", "", "", "keep count %d (-1 keeps all)", n)
		}
	}
	if p.Within < 0 {
		return newErr(ErrInvalid, "retention", "", "", "negative within %v", p.Within)
	}
	return nil
}

// CleanupPlan is what a cleanup would do: every complete backup is in
// exactly one of Keep and Remove, newest first, each with the reason.
// Cleanup deletes exactly Remove.
type CleanupPlan struct {
	Policy RetentionPolicy `json:"policy"`
	Now    time.Time       `json:"now"` // the clock the plan was made at
	Keep   []PlanEntry     `json:"keep"`
	Remove []PlanEntry     `json:"remove"`
}

// PlanEntry is one backup of a CleanupPlan.
type PlanEntry struct {
	ID        string    `json:"id"`
	Start     time.Time `json:"start"`
	Permanent bool      `json:"permanent,omitempty"`
	// Reason says why it is kept ("last, daily", "within 720h0m0s",
	// "permanent", "base of <ID>", "newest verified") or removed ("no rule
	// keeps it").
	Reason string `json:"reason"`
}

// PlanRetention decides which of backups p keeps. It is a pure function
// of its arguments: verified maps backup IDs to their last passing Verify
// (Manager.Verified), now is the clock. See RetentionPolicy for the rules
// and the backups it never removes. An invalid policy (a count below -1, a
// negative Within) keeps everything, with that as the reason.
func PlanRetention(backups []*Manifest, verified map[string]time.Time, p RetentionPolicy, now time.Time) CleanupPlan {
	plan := CleanupPlan{Policy: p, Now: now}
	list := make([]*Manifest, 0, len(backups))
	seen := map[string]bool{}
	for _, b := range backups {
		if b != nil && !seen[b.ID] {
			seen[b.ID] = true
			list = append(list, b)
		}
	}
	// Newest first; equal starts by ID, newest ID first, so that the order
	// never depends on the input's.
	sort.Slice(list, func(i, j int) bool {
		if !list[i].Start.Equal(list[j].Start) {
			return list[i].Start.After(list[j].Start)
		}
		return list[i].ID > list[j].ID
	})
	reasons := make(map[string][]string, len(list))
	keep := func(id, why string) { reasons[id] = append(reasons[id], why) }

	switch err := p.check(); {
	case err != nil:
		for _, b := range list {
			keep(b.ID, "invalid policy, keeping everything: "+trimPkg(err.Error()))
		}
	case p.IsZero():
		for _, b := range list {
			keep(b.ID, "no retention rule")
		}
	default:
		applyRules(list, p, now, keep)
	}

	for _, b := range list {
		if b.Permanent {
			keep(b.ID, "permanent")
		}
		if b.Start.After(now) {
			keep(b.ID, "started after now (clock skew)")
		}
	}
	for _, b := range list { // newest first: the first verified one
		if _, ok := verified[b.ID]; ok {
			keep(b.ID, "newest verified")
			break
		}
	}
	// A kept backup keeps its bases: newest first, so a base's own bases
	// are seen after it.
	byID := make(map[string]*Manifest, len(list))
	for _, b := range list {
		byID[b.ID] = b
	}
	expanded := map[string]bool{}
	var keepBases func(b *Manifest)
	keepBases = func(b *Manifest) {
		if expanded[b.ID] {
			return // seen (and a loop in edited manifests ends here)
		}
		expanded[b.ID] = true
		for _, part := range b.Parts {
			if base, ok := byID[part.Base]; ok {
				if why := "base of " + b.ID; !slices.Contains(reasons[base.ID], why) {
					keep(base.ID, why)
				}
				keepBases(base)
			}
		}
	}
	for _, b := range list {
		if len(reasons[b.ID]) > 0 {
			keepBases(b)
		}
	}

	for _, b := range list {
		e := PlanEntry{ID: b.ID, Start: b.Start, Permanent: b.Permanent}
		if r := reasons[b.ID]; len(r) > 0 {
			e.Reason = strings.Join(r, ", ")
			plan.Keep = append(plan.Keep, e)
		} else {
			e.Reason = "no rule keeps it"
			plan.Remove = append(plan.Remove, e)
		}
	}
	return plan
}

// applyRules is restic's ApplyPolicy over list (newest first).
func applyRules(list []*Manifest, p RetentionPolicy, now time.Time, keep func(id, why string)) {
	type bucket struct {
		name  string
		count int
		key   func(t time.Time, nr int) int
		last  int
	}
	buckets := []*bucket{
		{"last", p.KeepLast, func(_ time.Time, nr int) int { return nr }, -1},
		{"hourly", p.KeepHourly, func(t time.Time, _ int) int {
			y, m, d := t.Date()
			return y*1000000 + int(m)*10000 + d*100 + t.Hour()
		}, -1},
		{"daily", p.KeepDaily, func(t time.Time, _ int) int {
			y, m, d := t.Date()
			return y*10000 + int(m)*100 + d
		}, -1},
		{"weekly", p.KeepWeekly, func(t time.Time, _ int) int {
			y, w := t.ISOWeek()
			return y*100 + w
		}, -1},
		{"monthly", p.KeepMonthly, func(t time.Time, _ int) int {
			y, m, _ := t.Date()
			return y*100 + int(m)
		}, -1},
		{"yearly", p.KeepYearly, func(t time.Time, _ int) int { return t.Year() }, -1},
	}
	var since time.Time
	if p.Within > 0 {
		// From the newest backup that is not in the future: one from a
		// host whose clock ran ahead must not age the others out.
		ref := now
		for _, b := range list {
			if !b.Start.After(now) {
				ref = b.Start
				break
			}
		}
		since = ref.Add(-p.Within)
	}
	for nr, b := range list {
		t := b.Start.UTC()
		if p.Within > 0 && t.After(since) {
			keep(b.ID, "within "+p.Within.String())
		}
		for _, bk := range buckets {
			if bk.count == 0 {
				continue
			}
			k := bk.key(t, nr)
			if k != bk.last || nr == len(list)-1 {
				bk.last = k
				if bk.count > 0 {
					bk.count--
				}
				keep(b.ID, bk.name)
			}
		}
	}
}

// PlanCleanup plans a cleanup of the sink's complete backups under p, at
// the Manager's clock, with the verify records (Manager.Verified). It
// deletes nothing: pass the plan to Cleanup.
func (m *Manager) PlanCleanup(ctx context.Context, p RetentionPolicy) (CleanupPlan, error) {
	if err := m.check("cleanup"); err != nil {
		return CleanupPlan{}, err
	}
	if err := p.check(); err != nil {
		return CleanupPlan{}, err
	}
	list, err := m.List(ctx)
	if err != nil {
		return CleanupPlan{}, wrap(ctx, err, "cleanup", "", "")
	}
	verified, err := m.Verified(ctx)
	if err != nil {
		return CleanupPlan{}, wrap(ctx, err, "cleanup", "", "")
	}
	return PlanRetention(list, verified, p, m.now()), nil
}

// Cleanup deletes the backups of plan.Remove and nothing else, an
// incremental before its base (newest first otherwise), and returns the IDs
// it deleted. A backup that a complete backup outside plan.Remove builds
// on (one written since the plan) is skipped with ErrInUse, and Cleanup
// goes on; any other failure stops it. A backup already gone is not an
// error. The first error is returned with what was deleted.
func (m *Manager) Cleanup(ctx context.Context, plan CleanupPlan) ([]string, error) {
	if err := m.check("cleanup"); err != nil {
		return nil, err
	}
	pending := make([]PlanEntry, 0, len(plan.Remove))
	for _, e := range plan.Remove {
		if !ValidID(e.ID) {
			return nil, newErr(ErrInvalid, "cleanup", "", "", "bad backup id %.60q in the plan", e.ID)
		}
		pending = append(pending, e)
	}
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].Start.After(pending[j].Start) })
	all, err := m.List(ctx)
	if err != nil {
		return nil, wrap(ctx, err, "cleanup", "", "")
	}
	gone := map[string]bool{}
	var deleted []string
	// Passes until none makes progress: a backup goes once nothing left
	// builds on it, so a chain goes newest link first whatever the starts.
	for progress := true; progress && len(pending) > 0; {
		progress = false
		var left []PlanEntry
		for _, e := range pending {
			if dep, _ := dependent(all, e.ID, gone); dep != "" {
				left = append(left, e)
				continue
			}
			names, err := m.sink.List(ctx, e.ID+"/")
			if err != nil {
				return deleted, wrap(ctx, err, "cleanup", e.ID, "")
			}
			gone[e.ID], progress = true, true
			if len(names) == 0 {
				continue
			}
			if err := m.deleteObjects(ctx, e.ID, names); err != nil {
				return deleted, err
			}
			deleted = append(deleted, e.ID)
		}
		pending = left
	}
	var first error
	for _, e := range pending {
		dep, part := dependent(all, e.ID, gone)
		err := newErr(ErrInUse, "cleanup", e.ID, "", "part %q of backup %s, which the plan keeps, is incremental on it", part, dep)
		m.log.WarnContext(ctx, "backup: cleanup skips a backup in use", "backup", e.ID, "err", err)
		if first == nil {
			first = err
		}
	}
	m.log.InfoContext(ctx, "backup: cleanup done", "deleted", len(deleted), "planned", len(plan.Remove))
	return deleted, first
}
