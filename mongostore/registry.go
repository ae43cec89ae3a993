package mongostore

import (
	"fmt"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// IndexSpec is one wanted index. Name follows lucidkeys.IndexName
// ({collection}_{field}_{type}).
type IndexSpec struct {
	Name string
	Kind lucidkeys.IndexKind
	// Keys is the key document, e.g. {email: 1} or {title: "text"}.
	Keys   bson.D
	Unique bool
	Sparse bool
	// ExpireAfter is the TTL of a TTL index (Kind IndexTTL): documents
	// expire this long after the date in the indexed field (0: at that date).
	ExpireAfter time.Duration
}

// TTL reports whether the index is a TTL index.
func (ix IndexSpec) TTL() bool { return ix.Kind == lucidkeys.IndexTTL }

// Text reports whether the index is a text index.
func (ix IndexSpec) Text() bool { return ix.Kind == lucidkeys.IndexText }

// CollectionSpec is one collection of a Schema: its validator and indexes.
type CollectionSpec struct {
	Name      lucidkeys.Collection
	Validator *JSONSchema
	Indexes   []IndexSpec
}

// ValidatorDocument returns the {$jsonSchema: ...} document sent to the
// server as the collection's validator.
func (c *CollectionSpec) ValidatorDocument() bson.D {
	return bson.D{{Key: "$jsonSchema", Value: c.Validator.Document()}}
}

// Schema is a registry of collections with validators and indexes, used by
// EnsureSchema, SchemaDrift and client-side validation. It is immutable once
// built and safe for concurrent use.
type Schema struct {
	colls  []*CollectionSpec
	byName map[lucidkeys.Collection]*CollectionSpec
}

// NewSchema builds a registry from specs, checking names, patterns and
// bsonType names. Index names must be unique within a collection.
func NewSchema(specs ...CollectionSpec) (*Schema, error) {
	s := &Schema{byName: map[lucidkeys.Collection]*CollectionSpec{}}
	for i := range specs {
		c := specs[i]
		if c.Name == "" {
			return nil, invalidf("schema", "collection %d has no name", i)
		}
		if _, dup := s.byName[c.Name]; dup {
			return nil, invalidf("schema", "collection %q listed twice", c.Name)
		}
		if c.Validator != nil {
			if err := c.Validator.compile(string(c.Name)); err != nil {
				return nil, &Error{Kind: ErrInvalid, Op: "schema", Err: err}
			}
		}
		seen := map[string]bool{}
		for _, ix := range c.Indexes {
			if ix.Name == "" || ix.Name == "_id_" || seen[ix.Name] || len(ix.Keys) == 0 {
				return nil, invalidf("schema", "collection %q: index %q: empty, reserved or duplicate name, or no keys", c.Name, ix.Name)
			}
			seen[ix.Name] = true
		}
		s.colls = append(s.colls, &c)
		s.byName[c.Name] = &c
	}
	return s, nil
}

// Collections returns the specs in registry order.
func (s *Schema) Collections() []*CollectionSpec { return append([]*CollectionSpec(nil), s.colls...) }

// Collection returns the spec of name.
func (s *Schema) Collection(name lucidkeys.Collection) (*CollectionSpec, bool) {
	c, ok := s.byName[name]
	return c, ok
}

// IndexCount returns the number of indexes in the registry.
func (s *Schema) IndexCount() int {
	n := 0
	for _, c := range s.colls {
		n += len(c.Indexes)
	}
	return n
}

// Schema-building helpers. They return fresh values on each call.
func ptr[T any](v T) *T { return &v }

func strS(minLen, maxLen int) *JSONSchema {
	return &JSONSchema{BSONType: []string{"string"}, MinLength: ptr(minLen), MaxLength: ptr(maxLen)}
}

func patS(pattern string, maxLen int) *JSONSchema {
	return &JSONSchema{BSONType: []string{"string"}, Pattern: pattern, MaxLength: ptr(maxLen)}
}

func enumS(vals ...string) *JSONSchema {
	e := make([]any, len(vals))
	for i, v := range vals {
		e[i] = v
	}
	return &JSONSchema{BSONType: []string{"string"}, Enum: e}
}

func dateS() *JSONSchema { return &JSONSchema{BSONType: []string{"date"}} }
func boolS() *JSONSchema { return &JSONSchema{BSONType: []string{"bool"}} }
func objS() *JSONSchema  { return &JSONSchema{BSONType: []string{"object"}} }

func intS(minV float64, maxV *float64) *JSONSchema {
	return &JSONSchema{BSONType: []string{"int", "long"}, Minimum: ptr(minV), Maximum: maxV}
}

func numS(minV float64) *JSONSchema {
	return &JSONSchema{BSONType: []string{"number"}, Minimum: ptr(minV)}
}

func arrS(items *JSONSchema, minItems int) *JSONSchema {
	return &JSONSchema{BSONType: []string{"array"}, Items: items, MinItems: ptr(minItems)}
}

func docS(required []string, props map[string]*JSONSchema) *JSONSchema {
	return &JSONSchema{BSONType: []string{"object"}, Required: required, Properties: props}
}

// Patterns shared by several collections.
const (
	idPattern     = `^[A-Za-z0-9_-]{1,128}$`
	hex64Pattern  = `^[0-9a-f]{64}$`
	emailPattern  = `^[^@\s]+@[^@\s]+\.[^@\s]+$`
	walletPattern = `^(0x[0-9a-fA-F]{40}|T[1-9A-HJ-NP-Za-km-z]{33})$`
)

func idS() *JSONSchema    { return patS(idPattern, 128) }
func hex64S() *JSONSchema { return patS(hex64Pattern, 64) }

// ix builds an IndexSpec named through lucidkeys.IndexName; it panics on a
// name lucidkeys rejects, which is a programming error in this file that
// the tests catch.
func ix(coll lucidkeys.Collection, field string, kind lucidkeys.IndexKind, keys bson.D) IndexSpec {
	name, err := lucidkeys.IndexName(coll, field, kind)
	if err != nil {
		panic(fmt.Sprintf("mongostore: registry index %s/%s: %v", coll, field, err))
	}
	spec := IndexSpec{Name: name, Kind: kind, Keys: keys}
	if kind == lucidkeys.IndexUnique {
		spec.Unique = true
	}
	return spec
}

func sparse(s IndexSpec) IndexSpec { s.Sparse = true; return s }

func ttl(s IndexSpec, after time.Duration) IndexSpec { s.ExpireAfter = after; return s }

func k(pairs ...any) bson.D {
	d := make(bson.D, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		d = append(d, bson.E{Key: pairs[i].(string), Value: pairs[i+1]})
	}
	return d
}

// LucidSchema returns the registry of the 15 Lucid collections
// (lucidkeys.Collections) with their $jsonSchema validators and indexes.
// Each call builds a new value.
//
// Index summary (63 indexes): unique on identities (users.email,
// users.wallet_address, sessions.session_id, blocks.height, blocks.hash,
// transactions.tx_id, api_keys.key_hash, ...); compound for the listing
// queries (a user's sessions by recency, an address's transactions by
// time, unread notifications); text on users (username, display_name),
// trust_policies (name, description) and audit_logs (action, message);
// TTL on sessions.expires_at, api_keys.expires_at, rate_limits.expires_at,
// notifications.expires_at (expire at the stored date) and on
// audit_logs.timestamp and analytics.timestamp (retention
// lucidkeys.DeleteAfter, 90 days).
func LucidSchema() *Schema {
	s, err := NewSchema(lucidSpecs()...)
	if err != nil {
		panic(err) // the built-in registry is fixed and tested
	}
	return s
}

func lucidSpecs() []CollectionSpec {
	const (
		users   = lucidkeys.CollUsers
		sess    = lucidkeys.CollSessions
		blocks  = lucidkeys.CollBlocks
		txs     = lucidkeys.CollTransactions
		trust   = lucidkeys.CollTrustPolicies
		mans    = lucidkeys.CollManifests
		chunks  = lucidkeys.CollChunks
		merkle  = lucidkeys.CollMerkleTrees
		hw      = lucidkeys.CollHardwareWallets
		apik    = lucidkeys.CollAPIKeys
		rl      = lucidkeys.CollRateLimits
		audit   = lucidkeys.CollAuditLogs
		notif   = lucidkeys.CollNotifications
		analyt  = lucidkeys.CollAnalytics
		sysconf = lucidkeys.CollSystemConfig
	)
	const (
		uq   = lucidkeys.IndexUnique
		cp   = lucidkeys.IndexCompound
		tx   = lucidkeys.IndexText
		tl   = lucidkeys.IndexTTL
		asc  = lucidkeys.IndexAsc
		desc = lucidkeys.IndexDesc
	)
	retention := lucidkeys.DeleteAfter
	return []CollectionSpec{
		{
			Name: users,
			Validator: docS([]string{"user_id", "email", "role", "status", "created_at"}, map[string]*JSONSchema{
				"user_id":        idS(),
				"email":          patS(emailPattern, 254),
				"wallet_address": patS(walletPattern, 64),
				"username":       {BSONType: []string{"string"}, Pattern: `^[A-Za-z0-9_.-]+$`, MinLength: ptr(3), MaxLength: ptr(64)},
				"display_name":   strS(1, 128),
				"role":           enumS("user", "admin", "node_operator", "auditor"),
				"status":         enumS("pending", "active", "suspended", "deleted"),
				"password_hash":  strS(1, 512),
				"mfa_enabled":    boolS(),
				"created_at":     dateS(),
				"updated_at":     dateS(),
				"last_login_at":  dateS(),
				"profile":        objS(),
			}),
			Indexes: []IndexSpec{
				ix(users, "user_id", uq, k("user_id", 1)),
				ix(users, "email", uq, k("email", 1)),
				sparse(ix(users, "wallet_address", uq, k("wallet_address", 1))),
				sparse(ix(users, "username", uq, k("username", 1))),
				ix(users, "role_status", cp, k("role", 1, "status", 1)),
				ix(users, "created_at", desc, k("created_at", -1)),
				ix(users, "username_display_name", tx, k("username", "text", "display_name", "text")),
			},
		},
		{
			Name: sess,
			Validator: docS([]string{"session_id", "user_id", "status", "created_at", "expires_at"}, map[string]*JSONSchema{
				"session_id":       patS(`^[A-Za-z0-9_-]{16,128}$`, 128),
				"user_id":          idS(),
				"status":           enumS("active", "paused", "completed", "expired", "revoked"),
				"created_at":       dateS(),
				"expires_at":       dateS(),
				"last_activity_at": dateS(),
				"ip_address":       strS(2, 45),
				"user_agent":       strS(0, 512),
				"device_id":        idS(),
				"manifest_id":      idS(),
				"chunk_count":      intS(0, nil),
				"metadata":         objS(),
			}),
			Indexes: []IndexSpec{
				ix(sess, "session_id", uq, k("session_id", 1)),
				ix(sess, "user_id_created_at", cp, k("user_id", 1, "created_at", -1)),
				ix(sess, "status_expires_at", cp, k("status", 1, "expires_at", 1)),
				ttl(ix(sess, "expires_at", tl, k("expires_at", 1)), 0),
				ix(sess, "created_at", desc, k("created_at", -1)),
			},
		},
		{
			Name: blocks,
			Validator: docS([]string{"height", "hash", "prev_hash", "timestamp", "merkle_root", "tx_count"}, map[string]*JSONSchema{
				"height":          intS(0, nil),
				"hash":            hex64S(),
				"prev_hash":       hex64S(),
				"merkle_root":     hex64S(),
				"timestamp":       dateS(),
				"tx_count":        intS(0, nil),
				"size_bytes":      intS(0, nil),
				"producer":        idS(),
				"nonce":           intS(0, nil),
				"version":         intS(1, nil),
				"signature":       strS(1, 1024),
				"session_anchors": arrS(idS(), 0),
			}),
			Indexes: []IndexSpec{
				ix(blocks, "height", uq, k("height", 1)),
				ix(blocks, "hash", uq, k("hash", 1)),
				ix(blocks, "prev_hash", asc, k("prev_hash", 1)),
				ix(blocks, "timestamp", desc, k("timestamp", -1)),
				ix(blocks, "producer_timestamp", cp, k("producer", 1, "timestamp", -1)),
			},
		},
		{
			Name: txs,
			Validator: docS([]string{"tx_id", "from", "to", "amount", "timestamp", "status"}, map[string]*JSONSchema{
				"tx_id":        hex64S(),
				"block_height": intS(0, nil),
				"from":         strS(1, 128),
				"to":           strS(1, 128),
				"amount":       numS(0),
				"fee":          numS(0),
				"currency":     patS(`^[A-Z0-9]{2,16}$`, 16),
				"timestamp":    dateS(),
				"status":       enumS("pending", "confirmed", "failed"),
				"type":         enumS("transfer", "payout", "anchor", "stake"),
				"memo":         strS(0, 256),
			}),
			Indexes: []IndexSpec{
				ix(txs, "tx_id", uq, k("tx_id", 1)),
				ix(txs, "block_height", asc, k("block_height", 1)),
				ix(txs, "from_timestamp", cp, k("from", 1, "timestamp", -1)),
				ix(txs, "to_timestamp", cp, k("to", 1, "timestamp", -1)),
				ix(txs, "status_timestamp", cp, k("status", 1, "timestamp", -1)),
				ix(txs, "timestamp", desc, k("timestamp", -1)),
			},
		},
		{
			Name: trust,
			Validator: docS([]string{"policy_id", "name", "rules", "version", "active", "created_at"}, map[string]*JSONSchema{
				"policy_id":   idS(),
				"name":        strS(1, 128),
				"description": strS(0, 1024),
				"version":     intS(1, nil),
				"active":      boolS(),
				"scope":       enumS("global", "user", "session", "node"),
				"owner_id":    idS(),
				"rules": arrS(docS([]string{"rule_id", "effect", "action"}, map[string]*JSONSchema{
					"rule_id":    idS(),
					"effect":     enumS("allow", "deny"),
					"action":     strS(1, 128),
					"resource":   strS(1, 256),
					"conditions": objS(),
					"priority":   intS(0, ptr(1000.0)),
				}), 1),
				"created_at": dateS(),
				"updated_at": dateS(),
			}),
			Indexes: []IndexSpec{
				ix(trust, "policy_id_version", uq, k("policy_id", 1, "version", 1)),
				ix(trust, "active_scope", cp, k("active", 1, "scope", 1)),
				ix(trust, "owner_id", asc, k("owner_id", 1)),
				ix(trust, "name_description", tx, k("name", "text", "description", "text")),
			},
		},
		{
			Name: mans,
			Validator: docS([]string{"manifest_id", "session_id", "owner_id", "chunk_count", "total_size", "merkle_root", "created_at"}, map[string]*JSONSchema{
				"manifest_id":  idS(),
				"session_id":   idS(),
				"owner_id":     idS(),
				"chunk_count":  intS(0, nil),
				"total_size":   intS(0, nil),
				"merkle_root":  hex64S(),
				"status":       enumS("building", "sealed", "anchored"),
				"anchor_tx_id": hex64S(),
				"encryption":   objS(),
				"created_at":   dateS(),
			}),
			Indexes: []IndexSpec{
				ix(mans, "manifest_id", uq, k("manifest_id", 1)),
				ix(mans, "session_id", asc, k("session_id", 1)),
				ix(mans, "owner_id_created_at", cp, k("owner_id", 1, "created_at", -1)),
				ix(mans, "merkle_root", asc, k("merkle_root", 1)),
			},
		},
		{
			Name: chunks,
			Validator: docS([]string{"chunk_id", "manifest_id", "index", "size", "hash", "created_at"}, map[string]*JSONSchema{
				"chunk_id":       idS(),
				"manifest_id":    idS(),
				"index":          intS(0, nil),
				"size":           intS(0, ptr(float64(64<<20))),
				"hash":           hex64S(),
				"storage_path":   strS(1, 1024),
				"storage_volume": idS(),
				"compression":    enumS("none", "zstd", "gzip"),
				"encrypted":      boolS(),
				"created_at":     dateS(),
			}),
			Indexes: []IndexSpec{
				ix(chunks, "chunk_id", uq, k("chunk_id", 1)),
				ix(chunks, "manifest_id_index", uq, k("manifest_id", 1, "index", 1)),
				ix(chunks, "hash", asc, k("hash", 1)),
				ix(chunks, "created_at", desc, k("created_at", -1)),
			},
		},
		{
			Name: merkle,
			Validator: docS([]string{"tree_id", "manifest_id", "root", "leaf_count", "created_at"}, map[string]*JSONSchema{
				"tree_id":     idS(),
				"manifest_id": idS(),
				"root":        hex64S(),
				"leaf_count":  intS(0, nil),
				"algorithm":   enumS("sha256", "blake3"),
				"levels":      arrS(arrS(hex64S(), 1), 0),
				"created_at":  dateS(),
			}),
			Indexes: []IndexSpec{
				ix(merkle, "tree_id", uq, k("tree_id", 1)),
				ix(merkle, "manifest_id", uq, k("manifest_id", 1)),
				ix(merkle, "root", asc, k("root", 1)),
			},
		},
		{
			Name: hw,
			Validator: docS([]string{"wallet_id", "user_id", "device_type", "public_key", "wallet_address", "status", "registered_at"}, map[string]*JSONSchema{
				"wallet_id":        idS(),
				"user_id":          idS(),
				"device_type":      enumS("ledger", "trezor", "keepkey", "other"),
				"public_key":       patS(`^[0-9a-fA-F]{66,130}$`, 130),
				"wallet_address":   patS(walletPattern, 64),
				"serial":           strS(1, 128),
				"firmware_version": strS(1, 32),
				"status":           enumS("active", "revoked", "lost"),
				"registered_at":    dateS(),
				"last_used_at":     dateS(),
			}),
			Indexes: []IndexSpec{
				ix(hw, "wallet_id", uq, k("wallet_id", 1)),
				ix(hw, "public_key", uq, k("public_key", 1)),
				ix(hw, "wallet_address", uq, k("wallet_address", 1)),
				ix(hw, "user_id", asc, k("user_id", 1)),
				ix(hw, "device_type_status", cp, k("device_type", 1, "status", 1)),
			},
		},
		{
			Name: apik,
			Validator: docS([]string{"key_id", "key_hash", "user_id", "name", "scopes", "status", "created_at"}, map[string]*JSONSchema{
				"key_id":       idS(),
				"key_hash":     hex64S(),
				"prefix":       strS(4, 16),
				"user_id":      idS(),
				"name":         strS(1, 128),
				"scopes":       arrS(patS(`^[a-z_]+(:[a-z_*]+)*$`, 64), 1),
				"status":       enumS("active", "revoked"),
				"created_at":   dateS(),
				"expires_at":   dateS(),
				"last_used_at": dateS(),
			}),
			Indexes: []IndexSpec{
				ix(apik, "key_id", uq, k("key_id", 1)),
				ix(apik, "key_hash", uq, k("key_hash", 1)),
				ix(apik, "user_id_status", cp, k("user_id", 1, "status", 1)),
				ttl(ix(apik, "expires_at", tl, k("expires_at", 1)), 0),
			},
		},
		{
			Name: rl,
			Validator: docS([]string{"key", "window_start", "count", "expires_at"}, map[string]*JSONSchema{
				"key":            strS(1, 512),
				"subject_type":   enumS("user", "ip", "api_key"),
				"window_start":   dateS(),
				"window_seconds": intS(1, nil),
				"count":          intS(0, nil),
				"limit":          intS(0, nil),
				"expires_at":     dateS(),
			}),
			Indexes: []IndexSpec{
				ix(rl, "key_window_start", uq, k("key", 1, "window_start", 1)),
				ttl(ix(rl, "expires_at", tl, k("expires_at", 1)), 0),
			},
		},
		{
			Name: audit,
			Validator: docS([]string{"event_id", "timestamp", "actor_id", "action", "resource_type", "outcome"}, map[string]*JSONSchema{
				"event_id":      idS(),
				"timestamp":     dateS(),
				"actor_id":      idS(),
				"actor_type":    enumS("user", "service", "system"),
				"action":        patS(`^[a-z0-9_.:-]{1,128}$`, 128),
				"resource_type": strS(1, 64),
				"resource_id":   strS(1, 256),
				"outcome":       enumS("success", "failure", "denied"),
				"severity":      enumS("info", "warning", "critical"),
				"ip_address":    strS(2, 45),
				"message":       strS(0, 4096),
				"details":       objS(),
			}),
			Indexes: []IndexSpec{
				ix(audit, "event_id", uq, k("event_id", 1)),
				ix(audit, "actor_id_timestamp", cp, k("actor_id", 1, "timestamp", -1)),
				ix(audit, "resource_type_resource_id", cp, k("resource_type", 1, "resource_id", 1)),
				ix(audit, "action_timestamp", cp, k("action", 1, "timestamp", -1)),
				ttl(ix(audit, "timestamp", tl, k("timestamp", 1)), retention),
				ix(audit, "action_message", tx, k("action", "text", "message", "text")),
			},
		},
		{
			Name: notif,
			Validator: docS([]string{"notification_id", "user_id", "type", "title", "read", "created_at"}, map[string]*JSONSchema{
				"notification_id": idS(),
				"user_id":         idS(),
				"type":            enumS("info", "warning", "alert", "system"),
				"title":           strS(1, 200),
				"body":            strS(0, 4000),
				"read":            boolS(),
				"read_at":         dateS(),
				"created_at":      dateS(),
				"expires_at":      dateS(),
			}),
			Indexes: []IndexSpec{
				ix(notif, "notification_id", uq, k("notification_id", 1)),
				ix(notif, "user_id_read_created_at", cp, k("user_id", 1, "read", 1, "created_at", -1)),
				ttl(ix(notif, "expires_at", tl, k("expires_at", 1)), 0),
			},
		},
		{
			Name: analyt,
			Validator: docS([]string{"metric", "value", "timestamp"}, map[string]*JSONSchema{
				"metric":    patS(`^[a-z0-9_.]{1,128}$`, 128),
				"value":     {BSONType: []string{"number"}},
				"timestamp": dateS(),
				"period":    enumS("minute", "hour", "day"),
				"source":    idS(),
				"tags":      objS(),
			}),
			Indexes: []IndexSpec{
				ix(analyt, "metric_timestamp", cp, k("metric", 1, "timestamp", -1)),
				ix(analyt, "source", asc, k("source", 1)),
				ttl(ix(analyt, "timestamp", tl, k("timestamp", 1)), retention),
			},
		},
		{
			Name: sysconf,
			Validator: docS([]string{"key", "value", "updated_at"}, map[string]*JSONSchema{
				"key":         patS(`^[a-z0-9_.-]{1,128}$`, 128),
				"value":       {},
				"version":     intS(1, nil),
				"description": strS(0, 1024),
				"updated_by":  idS(),
				"updated_at":  dateS(),
			}),
			Indexes: []IndexSpec{
				ix(sysconf, "key", uq, k("key", 1)),
				ix(sysconf, "updated_at", desc, k("updated_at", -1)),
			},
		},
	}
}
