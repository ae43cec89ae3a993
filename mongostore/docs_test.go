package mongostore_test

// Documents for the tests, valid under the Lucid schema. Kept apart from the
// server harness so the fuzz build (-tags lucidfuzz) can use them too.

import (
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// t0 is the fixed time of the test documents.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func hex64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = "0123456789abcdef"[(int(c)+i)%16]
	}
	return string(b)
}

// goodDocs returns one valid document per Lucid collection; n makes unique
// fields unique.
func goodDocs(n int) map[lucidkeys.Collection]bson.D {
	id := func(p string) string { return p + "_" + itoa(n) }
	h := hex64(byte(n))
	if n > 0 {
		h = h[:56] + pad8(n)
	}
	return map[lucidkeys.Collection]bson.D{
		// The five Lucid collections: shaped like the example documents of
		// Lucid's schema files (testdata/lucid), required fields first.
		lucidkeys.CollUsers: {{Key: "user_id", Value: id("u")}, {Key: "email", Value: id("user") + "@example.com"},
			{Key: "username", Value: id("name")}, {Key: "roles", Value: bson.A{"User"}}, {Key: "status", Value: "active"},
			{Key: "created_at", Value: t0}, {Key: "updated_at", Value: t0}},
		lucidkeys.CollSessions: {{Key: "session_id", Value: id("sess_0123456789abcdef")}, {Key: "user_id", Value: id("u")},
			{Key: "created_at", Value: t0}, {Key: "status", Value: "active"}, {Key: "chunk_count", Value: int32(3)},
			{Key: "duration", Value: int64(900)}},
		lucidkeys.CollBlocks: {{Key: "block_height", Value: int64(n)}, {Key: "block_hash", Value: h}, {Key: "previous_hash", Value: hex64(1)},
			{Key: "timestamp", Value: t0}, {Key: "transactions", Value: bson.A{"tx_" + h[:8]}}, {Key: "merkle_root", Value: hex64(2)}},
		lucidkeys.CollTransactions: {{Key: "tx_id", Value: h}, {Key: "tx_type", Value: "session_anchor"}, {Key: "sender", Value: "alice"},
			{Key: "timestamp", Value: t0}, {Key: "status", Value: "confirmed"}, {Key: "block_height", Value: int64(7)},
			{Key: "fee", Value: 0.001}},
		lucidkeys.CollTrustPolicies: {{Key: "policy_id", Value: id("p")}, {Key: "creator_id", Value: id("u")}, {Key: "name", Value: "default"},
			{Key: "created_at", Value: t0}, {Key: "status", Value: "active"}, {Key: "version", Value: "1.0.0"},
			{Key: "rules", Value: bson.A{bson.D{{Key: "rule_type", Value: "access"}, {Key: "condition", Value: "true"}, {Key: "action", Value: "allow"}}}}},
		lucidkeys.CollManifests: {{Key: "manifest_id", Value: id("m")}, {Key: "session_id", Value: id("s")}, {Key: "user_id", Value: id("u")},
			{Key: "chunk_count", Value: int32(1)}, {Key: "total_size", Value: int64(1024)}, {Key: "merkle_root", Value: h}, {Key: "created_at", Value: t0}},
		lucidkeys.CollChunks: {{Key: "chunk_id", Value: id("c")}, {Key: "manifest_id", Value: id("m")}, {Key: "index", Value: int32(0)},
			{Key: "size", Value: int32(512)}, {Key: "hash", Value: h}, {Key: "created_at", Value: t0}},
		lucidkeys.CollMerkleTrees: {{Key: "tree_id", Value: id("t")}, {Key: "manifest_id", Value: id("m")}, {Key: "root", Value: h},
			{Key: "leaf_count", Value: int32(4)}, {Key: "created_at", Value: t0}},
		lucidkeys.CollHardwareWallets: {{Key: "wallet_id", Value: id("w")}, {Key: "user_id", Value: id("u")}, {Key: "device_type", Value: "Ledger"},
			{Key: "public_key", Value: "02" + h}, {Key: "wallet_address", Value: "0x" + h[:40]}, {Key: "status", Value: "active"},
			{Key: "registered_at", Value: t0}},
		lucidkeys.CollAPIKeys: {{Key: "key_id", Value: id("k")}, {Key: "key_hash", Value: h}, {Key: "user_id", Value: id("u")},
			{Key: "name", Value: "ci"}, {Key: "scopes", Value: bson.A{"read:sessions"}}, {Key: "status", Value: "active"}, {Key: "created_at", Value: t0}},
		lucidkeys.CollRateLimits: {{Key: "key", Value: "lucid:ratelimit:user:" + id("u")}, {Key: "window_start", Value: t0},
			{Key: "count", Value: int32(1)}, {Key: "expires_at", Value: t0.Add(time.Minute)}},
		lucidkeys.CollAuditLogs: {{Key: "event_id", Value: id("e")}, {Key: "timestamp", Value: t0}, {Key: "actor_id", Value: id("u")},
			{Key: "action", Value: "user.login"}, {Key: "resource_type", Value: "session"}, {Key: "outcome", Value: "success"}},
		lucidkeys.CollNotifications: {{Key: "notification_id", Value: id("n")}, {Key: "user_id", Value: id("u")}, {Key: "type", Value: "info"},
			{Key: "title", Value: "hello"}, {Key: "read", Value: false}, {Key: "created_at", Value: t0}},
		lucidkeys.CollAnalytics: {{Key: "metric", Value: "sessions.active"}, {Key: "value", Value: int32(n)}, {Key: "timestamp", Value: t0}},
		lucidkeys.CollSystemConfig: {{Key: "key", Value: id("cfg")}, {Key: "value", Value: bson.D{{Key: "any", Value: "thing"}}},
			{Key: "updated_at", Value: t0}},
	}
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

func pad8(n int) string {
	s := "00000000" + hexInt(n)
	return s[len(s)-8:]
}

func hexInt(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string("0123456789abcdef"[n%16]) + s
		n /= 16
	}
	return s
}

// set returns a copy of d with key set to v (added when absent).
func set(d bson.D, key string, v any) bson.D {
	out := append(bson.D(nil), d...)
	for i := range out {
		if out[i].Key == key {
			out[i].Value = v
			return out
		}
	}
	return append(out, bson.E{Key: key, Value: v})
}

// without returns a copy of d without key.
func without(d bson.D, key string) bson.D {
	var out bson.D
	for _, e := range d {
		if e.Key != key {
			out = append(out, e)
		}
	}
	return out
}
