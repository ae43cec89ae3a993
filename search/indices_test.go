//go:build !lucidfuzz

package search

import (
	"encoding/json"
	"errors"
	"fmt"
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

// TestIndexSpecs reads index definitions back by name, alias and pattern,
// and creates a copy from one: the copy's definition equals the original's
// (engine-managed settings left out, numbers exact).
func TestIndexSpecs(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	p := c.cfg.IndexPrefix
	orig := p + "specs-a"
	spec := IndexSpec{
		Settings: map[string]any{"number_of_shards": 2, "number_of_replicas": 0, "refresh_interval": "7s",
			"analysis": map[string]any{"analyzer": map[string]any{"lower_kw": map[string]any{
				"type": "custom", "tokenizer": "keyword", "filter": []any{"lowercase"}}}}},
		Mappings: map[string]any{"dynamic": "strict", "properties": map[string]any{
			"name":  map[string]any{"type": "text", "analyzer": "lower_kw"},
			"tag":   map[string]any{"type": "keyword", "ignore_above": 256},
			"big":   map[string]any{"type": "long", "null_value": int64(9007199254740993)}, // not exact as a float64
			"ratio": map[string]any{"type": "scaled_float", "scaling_factor": 100}}},
		Aliases: map[string]any{p + "specs": map[string]any{},
			p + "specs-tagged": map[string]any{"filter": map[string]any{"term": map[string]any{"tag": "x"}}, "routing": "r1"}},
	}
	if err := c.CreateIndex(ctx, orig, spec); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, p+"specs-b", IndexSpec{Settings: map[string]any{"number_of_replicas": 0}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.IndexSpecs(ctx, orig)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := got[orig]
	if len(got) != 1 || !ok {
		t.Fatalf("specs of %s: %v", orig, got)
	}
	ix, _ := a.Settings["index"].(map[string]any)
	for _, k := range []string{"uuid", "creation_date", "version", "provided_name"} {
		if _, ok := ix[k]; ok {
			t.Errorf("managed setting index.%s kept", k)
		}
	}
	if ix["number_of_shards"] != "2" || ix["refresh_interval"] != "7s" || ix["analysis"] == nil {
		t.Errorf("settings %v", a.Settings)
	}
	props, _ := a.Mappings["properties"].(map[string]any)
	big, _ := props["big"].(map[string]any)
	if a.Mappings["dynamic"] != "strict" || len(props) != 4 || fmt.Sprint(big["null_value"]) != "9007199254740993" {
		t.Errorf("mappings %v", a.Mappings)
	}
	tagged, _ := a.Aliases[p+"specs-tagged"].(map[string]any)
	if len(a.Aliases) != 2 || tagged["index_routing"] != "r1" || tagged["filter"] == nil {
		t.Errorf("aliases %v", a.Aliases)
	}

	// A copy made from the spec reads back the same.
	aliases := map[string]any{}
	for name, v := range a.Aliases {
		aliases[name+"-copy"] = v
	}
	cp := p + "specs-dup"
	if err := c.CreateIndex(ctx, cp, IndexSpec{Settings: a.Settings, Mappings: a.Mappings, Aliases: aliases}); err != nil {
		t.Fatal(err)
	}
	back, err := c.IndexSpecs(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(IndexSpec{Settings: a.Settings, Mappings: a.Mappings, Aliases: aliases})
	have, _ := json.Marshal(back[cp])
	if string(want) != string(have) {
		t.Errorf("copy's spec\n%s\nwant\n%s", have, want)
	}

	// By alias: the indices behind it; by pattern and list: each index.
	for target, names := range map[string][]string{
		p + "specs":                 {orig},
		p + "specs-*":               {orig, p + "specs-b", cp},
		orig + "," + p + "specs-b":  {orig, p + "specs-b"},
		p + "nothing-*":             nil,
		p + "specs-b," + p + "no-*": {p + "specs-b"},
	} {
		got, err := c.IndexSpecs(ctx, target)
		if err != nil {
			t.Errorf("%s: %v", target, err)
			continue
		}
		if len(got) != len(names) {
			t.Errorf("%s: %d indices, want %v", target, len(got), names)
		}
		for _, n := range names {
			if _, ok := got[n]; !ok {
				t.Errorf("%s: %s missing", target, n)
			}
		}
	}
	// A closed index is left out of a pattern.
	if err := c.call(ctx, "close", "", esapi.IndicesCloseRequest{Index: []string{seg(p + "specs-b")}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.IndexSpecs(ctx, p+"specs-*"); err != nil || len(got) != 2 {
		t.Errorf("with a closed index: %d %v", len(got), err)
	}
	// Named, it is returned, without the setting closing added, and its
	// spec creates an index.
	closed, err := c.IndexSpecs(ctx, p+"specs-b")
	if err != nil || len(closed) != 1 {
		t.Fatalf("closed index by name: %v %v", closed, err)
	}
	if err := c.CreateIndex(ctx, p+"specs-reopened", closed[p+"specs-b"]); err != nil {
		t.Errorf("create from a closed index's spec: %v", err)
	}
	if _, err := c.IndexSpecs(ctx, p+"missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing index: %v", err)
	}
	for _, bad := range []string{"", "_all", "%5fall", "-x", p + "a,,b", "a/b", "UPPER"} {
		if _, err := c.IndexSpecs(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("IndexSpecs(%q): %v", bad, err)
		}
	}
}
