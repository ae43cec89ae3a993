//go:build !lucidfuzz

package search

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

func TestIndexManagement(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	name := c.cfg.IndexPrefix + "plain"
	if ok, err := c.IndexExists(ctx, name); err != nil || ok {
		t.Fatalf("exists before create: %v %v", ok, err)
	}
	m, _ := Mapping(lucidkeys.EntityAuditLogs)
	if err := c.CreateIndex(ctx, name, IndexSpec{Mappings: m, Settings: map[string]any{"number_of_replicas": 0}}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, name, IndexSpec{}); !errors.Is(err, ErrExists) || errors.Is(err, ErrConflict) {
		t.Fatalf("create twice: %v", err)
	}
	if ok, err := c.IndexExists(ctx, name); err != nil || !ok {
		t.Fatalf("exists after create: %v %v", ok, err)
	}
	if err := c.DeleteIndex(ctx, name); err != nil {
		t.Fatal(err)
	}
	err := c.DeleteIndex(ctx, name)
	var e *Error
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Type != "index_not_found_exception" {
		t.Fatalf("delete missing: %v", err)
	}
	for _, bad := range []string{"", "UPPER", "a*", "a,b", "_x", "../x", "a b", "a/b", "a?b", string(make([]byte, 300))} {
		if err := c.CreateIndex(ctx, bad, IndexSpec{}); !errors.Is(err, ErrInvalid) || !errors.Is(err, lucidkeys.ErrInvalid) {
			t.Errorf("create %q: %v", bad, err)
		}
		if err := c.DeleteIndex(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("delete %q: %v", bad, err)
		}
		if _, err := c.IndexExists(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("exists %q: %v", bad, err)
		}
	}
}

func TestMappingsAndTemplates(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	if err := c.EnsureTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureTemplates(ctx); err != nil {
		t.Fatalf("idempotent: %v", err)
	}
	for _, e := range lucidkeys.SearchEntities() {
		if _, ok := Mapping(e); !ok {
			t.Fatalf("no mapping for %s", e)
		}
		// An index created by someone else, without the SDK's body, gets
		// the template's mapping and read alias.
		idx, _ := c.MonthlyIndex(e, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC))
		if err := c.call(ctx, "create", idx, esapi.IndicesCreateRequest{Index: idx}, nil); err != nil {
			t.Fatal(err)
		}
		var got map[string]struct {
			Mappings struct {
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
			} `json:"mappings"`
			Aliases map[string]any `json:"aliases"`
		}
		if err := c.call(ctx, "get", idx, esapi.IndicesGetRequest{Index: []string{idx}}, &got); err != nil {
			t.Fatal(err)
		}
		read, _ := c.ReadAlias(e)
		probe, want := "suggest", "completion"
		if e == lucidkeys.EntityAuditLogs {
			probe, want = "ip_address", "ip"
		}
		if got[idx].Mappings.Properties[probe].Type != want || got[idx].Aliases[read] == nil {
			t.Fatalf("%s: template not applied: %+v", idx, got[idx])
		}
	}
	if _, ok := Mapping("custom"); ok {
		t.Fatal("mapping for unknown entity")
	}
	if err := c.DeleteTemplates(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMonthlyRollover moves an injected clock across a month boundary:
// the new month's index is created on demand and the write alias moves to
// it atomically, while the read alias spans both months.
func TestMonthlyRollover(t *testing.T) {
	var now atomic.Pointer[time.Time]
	set := func(tm time.Time) { now.Store(&tm) }
	set(time.Date(2026, 10, 31, 23, 59, 0, 0, time.UTC))
	c := newTestClient(t, Config{Clock: func() time.Time { return *now.Load() }})
	ctx := ctxT(t)
	e := lucidkeys.EntitySessions
	write, _ := c.WriteAlias(e)
	read, _ := c.ReadAlias(e)

	r1, err := c.IndexEntity(ctx, e, "s1", map[string]any{"user_id": "u1", "created_at": now.Load()}, *now.Load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	oct := c.cfg.IndexPrefix + "lucid-sessions-2026.10"
	if r1.Index != oct {
		t.Fatalf("october doc went to %s", r1.Index)
	}
	set(time.Date(2026, 11, 1, 0, 0, 1, 0, time.UTC))
	r2, err := c.IndexEntity(ctx, e, "s2", map[string]any{"user_id": "u1", "created_at": now.Load()}, *now.Load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	nov := c.cfg.IndexPrefix + "lucid-sessions-2026.11"
	if r2.Index != nov {
		t.Fatalf("november doc went to %s", r2.Index)
	}
	// A late document for October goes to October's index directly.
	r3, err := c.IndexEntity(ctx, e, "s3", map[string]any{"user_id": "u1"}, time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), nil)
	if err != nil || r3.Index != oct {
		t.Fatalf("late october doc: %v %v", r3, err)
	}
	// A document for a past month without an index creates it on demand.
	r4, err := c.IndexEntity(ctx, e, "s4", map[string]any{"user_id": "u1"}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil || r4.Index != c.cfg.IndexPrefix+"lucid-sessions-2026.06" {
		t.Fatalf("june doc: %v %v", r4, err)
	}
	var aliases map[string]struct {
		Aliases map[string]struct {
			IsWriteIndex *bool `json:"is_write_index"`
		} `json:"aliases"`
	}
	if err := c.call(ctx, "aliases", "", esapi.IndicesGetAliasRequest{Index: []string{c.cfg.IndexPrefix + "lucid-sessions-*"}}, &aliases); err != nil {
		t.Fatal(err)
	}
	if w := aliases[nov].Aliases[write].IsWriteIndex; w == nil || !*w {
		t.Fatalf("write alias not on november: %+v", aliases)
	}
	if _, ok := aliases[oct].Aliases[write]; ok {
		t.Fatalf("write alias still on october: %+v", aliases)
	}
	for _, idx := range []string{oct, nov} {
		if _, ok := aliases[idx].Aliases[read]; !ok {
			t.Fatalf("%s not in read alias: %+v", idx, aliases)
		}
	}
	if err := c.Refresh(ctx, read); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ctx, read, SearchRequest{})
	if err != nil || res.Total != 4 {
		t.Fatalf("read alias sees %v docs: %v", res, err)
	}
	// A second client (another process) agrees and does not fight.
	c2, err := Connect(ctx, Config{Addresses: c.cfg.Addresses, IndexPrefix: c.cfg.IndexPrefix, Clock: c.cfg.Clock})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if idx, err := c2.Rollover(ctx, e); err != nil || idx != nov {
		t.Fatalf("second client rollover: %s %v", idx, err)
	}
	if _, err := c.IndexEntity(ctx, "Bad", "x", map[string]any{}, time.Now(), nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad entity: %v", err)
	}
}
