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
// bsonType names. Index names, and index key patterns, must be unique
// within a collection.
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
		keys := map[string]string{}
		for _, ix := range c.Indexes {
			if ix.Name == "" || ix.Name == "_id_" || seen[ix.Name] || len(ix.Keys) == 0 {
				return nil, invalidf("schema", "collection %q: index %q: empty, reserved or duplicate name, or no keys", c.Name, ix.Name)
			}
			seen[ix.Name] = true
			// EnsureSchema finds an index by its keys: two on the same keys
			// would both be taken for the one the server has.
			kp := keyString(ix.Keys)
			if ix.Text() {
				kp = "text:" + kp
			}
			if other, dup := keys[kp]; dup {
				return nil, invalidf("schema", "collection %q: indexes %q and %q have the same keys %s", c.Name, other, ix.Name, kp)
			}
			keys[kp] = ix.Name
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

func arrS(items *JSONSchema, minItems int) *JSONSchema {
	return &JSONSchema{BSONType: []string{"array"}, Items: items, MinItems: ptr(minItems)}
}

func docS(required []string, props map[string]*JSONSchema) *JSONSchema {
	return &JSONSchema{BSONType: []string{"object"}, Required: required, Properties: props}
}

// Patterns shared by several collections.
const (
	idPattern    = `^[A-Za-z0-9_-]{1,128}$`
	hex64Pattern = `^[0-9a-f]{64}$`
	// emailPattern is users.email's pattern in Lucid's users_schema.js
	// (the embedded schema carries it; a test holds the two equal).
	emailPattern  = `^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`
	walletPattern = `^(0x[0-9a-fA-F]{40}|T[1-9A-HJ-NP-Za-km-z]{33})$`
)

func idS() *JSONSchema { return patS(idPattern, 128) }

// refS is a reference to an identifier of one of Lucid's five collections
// (users.user_id, sessions.session_id, transactions.tx_id, ...), which
// Lucid's schemas type as a plain string.
func refS() *JSONSchema   { return &JSONSchema{BSONType: []string{"string"}} }
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
// Two kinds of schema live in it. Lucid's: users, sessions, blocks,
// transactions and trust_policies are defined exactly as Lucid's own schema
// files (database/schemas/*_schema.js of HamiGames/Lucid) say — required
// fields, bsonType unions such as ["string", "null"], long versus int,
// enums, patterns, nested objects, descriptions — so every document the
// Python services write is accepted, and their indexes are exactly those of
// Lucid's scripts/database/create_indexes.js (same keys, unique, sparse).
// The SDK's own: the other ten collections, for which Lucid has no schema
// file; they use the five's field names and types for what refers to them
// (user_id, session_id, ... are plain strings).
//
// Index summary (65 indexes): Lucid's 29 (unique users.user_id, email,
// tron_address (sparse); sessions.session_id, merkle_root (sparse);
// blocks.block_height, block_hash; transactions.tx_id;
// trust_policies.policy_id; and single-field indexes on status, dates and
// references), named {collection}_{field}_{type} where the SDK creates
// them but recognised on the server by keys and options whatever their
// name; and the SDK's 36: unique on identities (api_keys.key_hash,
// hardware_wallets.public_key, chunks (manifest_id, index), ...), compound
// for listing queries, text on audit_logs (action, message), TTL on
// api_keys.expires_at, rate_limits.expires_at, notifications.expires_at
// (expire at the stored date) and on audit_logs.timestamp and
// analytics.timestamp (retention lucidkeys.DeleteAfter, 90 days).
//
// A service replaces or extends a collection's schema with Schema.With and
// Schema.Extend (ParseJSONSchema reads a $jsonSchema document) and passes
// the result as Config.Schema.
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
		// The five collections with a schema file in Lucid's repository:
		// validators exactly as database/schemas/*_schema.js say (embedded
		// in lucidschema/), indexes exactly as
		// scripts/database/create_indexes.js creates them (same keys, unique
		// and sparse; the SDK's names, but an index on the same keys under
		// Lucid's default name such as email_1 is adopted).
		{
			Name:      users,
			Validator: lucidValidator("users"),
			Indexes: []IndexSpec{
				ix(users, "user_id", uq, k("user_id", 1)),
				ix(users, "email", uq, k("email", 1)),
				sparse(ix(users, "tron_address", uq, k("tron_address", 1))),
				ix(users, "roles", asc, k("roles", 1)),
				ix(users, "status", asc, k("status", 1)),
				ix(users, "created_at", desc, k("created_at", -1)),
			},
		},
		{
			Name:      sess,
			Validator: lucidValidator("sessions"),
			Indexes: []IndexSpec{
				ix(sess, "session_id", uq, k("session_id", 1)),
				ix(sess, "user_id", asc, k("user_id", 1)),
				ix(sess, "status", asc, k("status", 1)),
				ix(sess, "created_at", desc, k("created_at", -1)),
				sparse(ix(sess, "ended_at", desc, k("ended_at", -1))),
				sparse(ix(sess, "merkle_root", uq, k("merkle_root", 1))),
				sparse(ix(sess, "blockchain_anchor.block_height", asc, k("blockchain_anchor.block_height", 1))),
			},
		},
		{
			Name:      blocks,
			Validator: lucidValidator("blocks"),
			Indexes: []IndexSpec{
				ix(blocks, "block_height", uq, k("block_height", 1)),
				ix(blocks, "block_hash", uq, k("block_hash", 1)),
				ix(blocks, "previous_hash", asc, k("previous_hash", 1)),
				ix(blocks, "timestamp", desc, k("timestamp", -1)),
				sparse(ix(blocks, "miner_id", asc, k("miner_id", 1))),
			},
		},
		{
			Name:      txs,
			Validator: lucidValidator("transactions"),
			Indexes: []IndexSpec{
				ix(txs, "tx_id", uq, k("tx_id", 1)),
				ix(txs, "tx_type", asc, k("tx_type", 1)),
				ix(txs, "sender", asc, k("sender", 1)),
				ix(txs, "status", asc, k("status", 1)),
				ix(txs, "timestamp", desc, k("timestamp", -1)),
				sparse(ix(txs, "block_height", asc, k("block_height", 1))),
				sparse(ix(txs, "payload.session_id", asc, k("payload.session_id", 1))),
			},
		},
		{
			Name:      trust,
			Validator: lucidValidator("trust_policies"),
			Indexes: []IndexSpec{
				ix(trust, "policy_id", uq, k("policy_id", 1)),
				ix(trust, "creator_id", asc, k("creator_id", 1)),
				ix(trust, "status", asc, k("status", 1)),
				ix(trust, "created_at", desc, k("created_at", -1)),
			},
		},
		// The SDK's own collections (no schema file in Lucid's repository).
		// Fields that refer to the five (user_id, session_id, tx ids, merkle
		// roots) are plain strings, as the five define them, so no id Lucid
		// accepts is refused here.
		{
			Name: mans,
			Validator: docS([]string{"manifest_id", "session_id", "user_id", "chunk_count", "total_size", "merkle_root", "created_at"}, map[string]*JSONSchema{
				"manifest_id":  idS(),
				"session_id":   refS(),
				"user_id":      refS(),                                          // the owner, users.user_id
				"chunk_count":  {BSONType: []string{"int"}, Minimum: ptr(0.0)},  // as sessions.chunk_count
				"total_size":   {BSONType: []string{"long"}, Minimum: ptr(0.0)}, // as sessions.total_size
				"merkle_root":  refS(),
				"status":       enumS("building", "sealed", "anchored"),
				"anchor_tx_id": refS(),
				"encryption":   objS(),
				"created_at":   dateS(),
			}),
			Indexes: []IndexSpec{
				ix(mans, "manifest_id", uq, k("manifest_id", 1)),
				ix(mans, "session_id", asc, k("session_id", 1)),
				ix(mans, "user_id_created_at", cp, k("user_id", 1, "created_at", -1)),
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
				"user_id":          refS(),
				"device_type":      enumS("Ledger", "Trezor", "KeepKey", "Other"), // users.hardware_wallet.type's values
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
				"user_id":      refS(),
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
				"actor_id":      refS(),
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
				"user_id":         refS(),
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
				"updated_by":  refS(),
				"updated_at":  dateS(),
			}),
			Indexes: []IndexSpec{
				ix(sysconf, "key", uq, k("key", 1)),
				ix(sysconf, "updated_at", desc, k("updated_at", -1)),
			},
		},
	}
}

// With returns a copy of s in which each of specs replaces the collection
// of its name, or is added when s has none: a service's own schema for a
// collection, for example parsed with ParseJSONSchema from the $jsonSchema
// file it ships, in place of the SDK's. s itself is unchanged.
func (s *Schema) With(specs ...CollectionSpec) (*Schema, error) {
	out := make([]CollectionSpec, 0, len(s.colls)+len(specs))
	replaced := map[lucidkeys.Collection]bool{}
	for _, c := range s.colls {
		cur := *c
		for _, r := range specs {
			if r.Name == c.Name {
				cur = r
				replaced[r.Name] = true
			}
		}
		out = append(out, cur)
	}
	for _, r := range specs {
		if !replaced[r.Name] {
			out = append(out, r)
		}
	}
	return NewSchema(out...)
}

// Extend returns a copy of s in which the collection coll's validator is
// extended by ext — ext's properties added (a property of the same name is
// replaced by ext's), its required fields added to the required list, and
// any other keyword ext sets taking the place of the collection's — and
// indexes are added. With ext nil only indexes are added. A collection s
// does not hold is added with ext as its validator. s is unchanged.
//
// On Lucid's five collections, extend only with fields Lucid's schema does
// not define, and require none Lucid leaves optional, or a Go service will
// refuse documents the Python services write.
func (s *Schema) Extend(coll lucidkeys.Collection, ext *JSONSchema, indexes ...IndexSpec) (*Schema, error) {
	var spec CollectionSpec
	if c, ok := s.byName[coll]; ok {
		spec = *c
		spec.Indexes = append([]IndexSpec(nil), c.Indexes...)
	} else {
		spec = CollectionSpec{Name: coll}
	}
	if ext != nil {
		spec.Validator = mergeSchema(spec.Validator, ext)
	}
	spec.Indexes = append(spec.Indexes, indexes...)
	return s.With(spec)
}

// mergeSchema returns base extended by ext (see Schema.Extend); neither
// is modified.
func mergeSchema(base, ext *JSONSchema) *JSONSchema {
	if base == nil {
		c := *ext
		return &c
	}
	m := *base
	m.re = nil
	if len(ext.Properties) > 0 {
		m.Properties = make(map[string]*JSONSchema, len(base.Properties)+len(ext.Properties))
		for k, v := range base.Properties {
			m.Properties[k] = v
		}
		for k, v := range ext.Properties {
			m.Properties[k] = v
		}
	}
	m.Required = append([]string(nil), base.Required...)
	for _, r := range ext.Required {
		if !base.requires(r) {
			m.Required = append(m.Required, r)
		}
	}
	if len(ext.BSONType) > 0 {
		m.BSONType = ext.BSONType
	}
	if ext.AdditionalProperties != nil {
		m.AdditionalProperties = ext.AdditionalProperties
	}
	if len(ext.Enum) > 0 {
		m.Enum = ext.Enum
	}
	if ext.Pattern != "" {
		m.Pattern = ext.Pattern
	}
	if ext.MinLength != nil {
		m.MinLength = ext.MinLength
	}
	if ext.MaxLength != nil {
		m.MaxLength = ext.MaxLength
	}
	if ext.Minimum != nil {
		m.Minimum = ext.Minimum
	}
	if ext.Maximum != nil {
		m.Maximum = ext.Maximum
	}
	if ext.Items != nil {
		m.Items = ext.Items
	}
	if ext.MinItems != nil {
		m.MinItems = ext.MinItems
	}
	if ext.MaxItems != nil {
		m.MaxItems = ext.MaxItems
	}
	if ext.Title != "" {
		m.Title = ext.Title
	}
	if ext.Description != "" {
		m.Description = ext.Description
	}
	return &m
}
