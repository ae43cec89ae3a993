//go:build !lucidfuzz

package search

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// TestLifecycleRunner creates monthly indices dated in the past and runs
// the SDK's lifecycle: dry run first, then apply, then nothing left to do.
func TestLifecycleRunner(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := newTestClient(t, Config{Clock: func() time.Time { return now }, SDKLifecycle: true, Replicas: 1})
	ctx := ctxT(t)
	months := map[string]lucidkeys.Phase{
		"2026.11": lucidkeys.PhaseHot,    // current month
		"2026.10": lucidkeys.PhaseWarm,   // ended 25 days ago
		"2026.08": lucidkeys.PhaseCold,   // ended 86 days ago
		"2026.07": lucidkeys.PhaseDelete, // ended 117 days ago
	}
	for m := range months {
		at, _ := time.Parse("2006.01", m)
		idx, err := c.EnsureMonthlyIndex(ctx, lucidkeys.EntityAuditLogs, at)
		if err != nil {
			t.Fatal(err)
		}
		// Several refreshes leave several segments to merge.
		for i := range 3 {
			if _, err := c.Index(ctx, idx, "", map[string]any{"message": "m", "timestamp": at}, &WriteOptions{Refresh: RefreshTrue}); err != nil {
				t.Fatalf("%s doc %d: %v", idx, i, err)
			}
		}
	}
	// An index outside the naming scheme is never touched.
	other := c.cfg.IndexPrefix + "lucid-other"
	if err := c.CreateIndex(ctx, other, IndexSpec{}); err != nil {
		t.Fatal(err)
	}
	plan, err := c.PlanLifecycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Mode != LifecycleSDK || plan.Applied || len(plan.Indices) != 4 {
		t.Fatalf("plan: %+v", plan)
	}
	want := map[lucidkeys.Phase]string{
		lucidkeys.PhaseHot:    "",
		lucidkeys.PhaseWarm:   "set_replicas,block_write",
		lucidkeys.PhaseCold:   "set_replicas,block_write,force_merge",
		lucidkeys.PhaseDelete: "delete",
	}
	for _, il := range plan.Indices {
		m := il.Index[strings.LastIndexByte(il.Index, '-')+1:]
		if il.Phase != months[m] || strings.Join(il.Actions, ",") != want[il.Phase] || il.Entity != lucidkeys.EntityAuditLogs {
			t.Fatalf("%s: phase %s actions %v", il.Index, il.Phase, il.Actions)
		}
	}
	// The dry run changed nothing.
	if ok, _ := c.IndexExists(ctx, c.cfg.IndexPrefix+"lucid-audit-logs-2026.07"); !ok {
		t.Fatal("dry run deleted an index")
	}
	applied, err := c.ApplyLifecycle(ctx)
	if err != nil || !applied.Applied {
		t.Fatalf("apply: %+v %v", applied, err)
	}
	if ok, _ := c.IndexExists(ctx, c.cfg.IndexPrefix+"lucid-audit-logs-2026.07"); ok {
		t.Fatal("expired index kept")
	}
	if ok, _ := c.IndexExists(ctx, other); !ok {
		t.Fatal("foreign index deleted")
	}
	var settings map[string]struct {
		Settings map[string]string `json:"settings"`
	}
	if err := c.call(ctx, "settings", "", raw("GET", "/"+c.cfg.IndexPrefix+"lucid-audit-logs-*/_settings", map[string][]string{"flat_settings": {"true"}}, nil), &settings); err != nil {
		t.Fatal(err)
	}
	for idx, s := range settings {
		warmOrCold := strings.HasSuffix(idx, "2026.10") || strings.HasSuffix(idx, "2026.08")
		if warmOrCold != (s.Settings["index.blocks.write"] == "true") || warmOrCold != (s.Settings["index.number_of_replicas"] == "0") {
			t.Fatalf("%s settings %v", idx, s.Settings)
		}
	}
	// Writes to a warm index are refused now.
	if _, err := c.Index(ctx, c.cfg.IndexPrefix+"lucid-audit-logs-2026.10", "", map[string]any{"message": "late"}, nil); err == nil {
		t.Fatal("write to warm index accepted")
	}
	again, err := c.PlanLifecycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, il := range again.Indices {
		if len(il.Actions) != 0 {
			t.Fatalf("not settled after apply: %s %v", il.Index, il.Actions)
		}
	}
}

func TestLifecyclePolicies(t *testing.T) {
	b, _ := json.Marshal(ILMPolicy())
	for _, s := range []string{`"warm":{"actions":`, `"min_age":"7d"`, `"min_age":"30d"`, `"min_age":"90d"`, `"forcemerge":{"max_num_segments":1}`, `"readonly":{}`} {
		if !strings.Contains(string(b), s) {
			t.Fatalf("ILM policy lacks %s: %s", s, b)
		}
	}
	b, _ = json.Marshal(ISMPolicy("p-lucid-*"))
	for _, s := range []string{`"min_index_age":"7d"`, `"min_index_age":"30d"`, `"min_index_age":"90d"`, `"force_merge":{"max_num_segments":1}`, `"index_patterns":["p-lucid-*"]`, `"replica_count":{"number_of_replicas":0}`} {
		if !strings.Contains(string(b), s) {
			t.Fatalf("ISM policy lacks %s: %s", s, b)
		}
	}
}
