//go:build !lucidfuzz

package search

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// auditEvent is what a Lucid service writes to mongostore's audit_logs
// and to search's audit-logs indices: one type, the same names in both
// tags.
type auditEvent struct {
	EventID      string         `bson:"event_id" json:"event_id"`
	Timestamp    time.Time      `bson:"timestamp" json:"timestamp"`
	ActorID      string         `bson:"actor_id" json:"actor_id"`
	ActorType    string         `bson:"actor_type" json:"actor_type"`
	Action       string         `bson:"action" json:"action"`
	ResourceType string         `bson:"resource_type" json:"resource_type"`
	ResourceID   string         `bson:"resource_id" json:"resource_id"`
	Outcome      string         `bson:"outcome" json:"outcome"`
	Severity     string         `bson:"severity" json:"severity"`
	IPAddress    string         `bson:"ip_address" json:"ip_address"`
	Message      string         `bson:"message" json:"message"`
	Details      map[string]any `bson:"details" json:"details"`
}

// mappedProps reads the properties of index's mapping from the engine.
func mappedProps(t *testing.T, c *Client, index string) map[string]map[string]any {
	t.Helper()
	var got map[string]struct {
		Mappings struct {
			Properties map[string]map[string]any `json:"properties"`
		} `json:"mappings"`
	}
	if err := c.call(ctxT(t), "get mapping", index, esapi.IndicesGetMappingRequest{Index: []string{seg(index)}}, &got); err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		return m.Mappings.Properties
	}
	t.Fatalf("no mapping for %s", index)
	return nil
}

// TestAuditLogsOneTypeBothStores: the audit-logs mapping has exactly the
// fields of mongostore's audit_logs validator, and one Go value passes
// that validator and is indexed and searched by those fields.
func TestAuditLogsOneTypeBothStores(t *testing.T) {
	spec, ok := mongostore.LucidSchema().Collection(lucidkeys.CollAuditLogs)
	if !ok || spec.Validator == nil {
		t.Fatal("mongostore has no audit_logs validator")
	}
	m, _ := Mapping(lucidkeys.EntityAuditLogs)
	props := m["properties"].(map[string]any)
	mongoFields := slices.Sorted(maps.Keys(spec.Validator.Properties))
	searchFields := slices.Sorted(maps.Keys(props))
	if !slices.Equal(mongoFields, searchFields) {
		t.Fatalf("audit-logs fields differ:\nmongostore %v\nsearch     %v", mongoFields, searchFields)
	}
	// The Go type's tags name exactly those fields, identically for bson
	// and json.
	var tagged []string
	rt := reflect.TypeFor[auditEvent]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		b, j := f.Tag.Get("bson"), f.Tag.Get("json")
		if b != j {
			t.Fatalf("%s: bson %q, json %q", f.Name, b, j)
		}
		tagged = append(tagged, j)
	}
	if slices.Sort(tagged); !slices.Equal(tagged, mongoFields) {
		t.Fatalf("auditEvent fields %v, schema %v", tagged, mongoFields)
	}

	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	at := time.Now().UTC().Truncate(time.Millisecond)
	events := []auditEvent{
		{EventID: "evt-1", Timestamp: at, ActorID: "u42", ActorType: "user", Action: "auth.login", ResourceType: "session",
			ResourceID: "s1", Outcome: "denied", Severity: "warning", IPAddress: "203.0.113.7", Message: "wrong password",
			Details: map[string]any{"attempt": 3, "method": "password"}},
		// details keys of another type, an address mongostore accepts
		// but that is no IP: the event is still indexed.
		{EventID: "evt-2", Timestamp: at, ActorID: "svc-backup", ActorType: "service", Action: "backup.run", ResourceType: "volume",
			ResourceID: "chunks", Outcome: "success", Severity: "info", IPAddress: "unknown", Message: "nightly backup",
			Details: map[string]any{"attempt": "first", "nested": map[string]any{"x": []any{1, "a"}}}},
	}
	for _, ev := range events {
		if err := mongostore.LucidSchema().ValidateDocument(lucidkeys.CollAuditLogs, ev); err != nil {
			t.Fatalf("mongostore refuses %s: %v", ev.EventID, err)
		}
		if _, err := c.IndexEntity(ctx, lucidkeys.EntityAuditLogs, ev.EventID, ev, ev.Timestamp, nil); err != nil {
			t.Fatalf("search refuses %s: %v", ev.EventID, err)
		}
	}
	read, _ := c.ReadAlias(lucidkeys.EntityAuditLogs)
	if err := c.Refresh(ctx, read); err != nil {
		t.Fatal(err)
	}
	idx, _ := c.MonthlyIndex(lucidkeys.EntityAuditLogs, at)
	got := mappedProps(t, c, idx)
	for field, typ := range map[string]string{"event_id": "keyword", "timestamp": "date", "actor_id": "keyword", "actor_type": "keyword",
		"action": "keyword", "resource_type": "keyword", "resource_id": "keyword", "outcome": "keyword", "severity": "keyword",
		"ip_address": "ip", "message": "text"} {
		if got[field]["type"] != typ {
			t.Errorf("%s mapped as %v, want %s", field, got[field]["type"], typ)
		}
	}
	if got["details"]["enabled"] != false || len(got) != len(mongoFields) {
		t.Errorf("details %v; %d fields mapped, want %d (no dynamic additions): %v", got["details"], len(got), len(mongoFields), slices.Sorted(maps.Keys(got)))
	}
	res, err := c.Search(ctx, read, SearchRequest{Query: Bool{Filter: []Query{
		Term{Field: "actor_id", Value: "u42"}, Term{Field: "outcome", Value: "denied"}, Term{Field: "severity", Value: "warning"},
		Term{Field: "ip_address", Value: "203.0.113.0/24"},
	}, Must: []Query{Match{Field: "message", Text: "password"}}}})
	if err != nil || res.Total != 1 {
		t.Fatalf("search by the shared fields: %+v %v", res, err)
	}
	var back auditEvent
	if err := res.Hits[0].Decode(&back); err != nil || !back.Timestamp.Equal(at) || back.Details["method"] != "password" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

// TestLucidFieldNames: the sessions, blocks and transactions mappings use
// the field names of Lucid's schema files for every field Lucid defines.
func TestLucidFieldNames(t *testing.T) {
	for entity, fields := range map[string][]string{
		// sessions_schema.js
		lucidkeys.EntitySessions: {"session_id", "user_id", "created_at", "updated_at", "ended_at", "status", "duration",
			"chunk_count", "total_size", "merkle_root", "blockchain_anchor", "rdp_details", "metadata"},
		// blocks_schema.js
		lucidkeys.EntityBlocks: {"block_height", "block_hash", "previous_hash", "timestamp", "transactions", "merkle_root",
			"miner_id", "difficulty", "nonce", "size", "version", "extra_data"},
		// transactions_schema.js
		lucidkeys.EntityTransactions: {"tx_id", "tx_type", "sender", "timestamp", "status", "block_height", "block_hash",
			"payload", "signature", "fee", "confirmations"},
		// mongostore's manifests validator (the SDK's own collection)
		lucidkeys.EntityManifests: {"manifest_id", "session_id", "user_id", "chunk_count", "total_size", "merkle_root",
			"status", "anchor_tx_id", "encryption", "created_at"},
	} {
		m, _ := Mapping(entity)
		props := m["properties"].(map[string]any)
		for _, f := range fields {
			if props[f] == nil {
				t.Errorf("%s: Lucid's %s is not mapped", entity, f)
			}
		}
		for _, old := range []string{"producer", "duration_ms", "from", "to", "amount", "type", "memo", "anchored", "owner_id"} {
			if props[old] != nil {
				t.Errorf("%s still maps %s", entity, old)
			}
		}
	}
}

// TestIndexEntityNeedsID: an empty id is ErrInvalid before any request,
// as godoc says, and creates no index.
func TestIndexEntityNeedsID(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	at := time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)
	_, err := c.IndexEntity(ctx, lucidkeys.EntitySessions, "", map[string]any{"user_id": "u1"}, at, nil)
	if !errors.Is(err, ErrInvalid) || errkind.Of(err) != errkind.InvalidArgument {
		t.Fatalf("empty id: %v", err)
	}
	idx, _ := c.MonthlyIndex(lucidkeys.EntitySessions, at)
	if ok, err := c.IndexExists(ctx, idx); err != nil || ok {
		t.Fatalf("index created for a refused document: %v %v", ok, err)
	}
	if _, err := c.IndexEntity(ctx, lucidkeys.EntitySessions, strings.Repeat("x", 513), map[string]any{}, at, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("long id: %v", err)
	}
}

// TestRetryFullJitter: Config's RetryBackoff/MaxBackoff are the policy's
// Min/Max, and waits are drawn from (0, cap] — the old draw never went
// below cap/2.
func TestRetryFullJitter(t *testing.T) {
	c := newTestClient(t, Config{RetryBackoff: 8 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	b := c.NewBulkIndexer(BulkConfig{RetryBackoff: 8 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	defer b.Close(ctxT(t))
	for _, p := range []struct {
		name     string
		min, max time.Duration
		delay    func(int) time.Duration
	}{{"client", c.retry.Min, c.retry.Max, c.retry.Delay}, {"bulk", b.retry.Min, b.retry.Max, b.retry.Delay}} {
		if p.min != 8*time.Millisecond || p.max != 20*time.Millisecond {
			t.Fatalf("%s policy %v..%v", p.name, p.min, p.max)
		}
		low := 0
		for range 1000 {
			d := p.delay(1)
			if d <= 0 || d > 8*time.Millisecond {
				t.Fatalf("%s: delay %v outside (0, 8ms]", p.name, d)
			}
			if d < 4*time.Millisecond {
				low++
			}
			if d3 := p.delay(3); d3 > 20*time.Millisecond {
				t.Fatalf("%s: retry 3 waits %v, cap 20ms", p.name, d3)
			}
		}
		if low < 300 {
			t.Fatalf("%s: %d of 1000 first waits below cap/2: not full jitter", p.name, low)
		}
	}
}
