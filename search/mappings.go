package search

import (
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Field helpers for the mappings below.
var (
	fKeyword = map[string]any{"type": "keyword", "ignore_above": 256}
	fLong    = map[string]any{"type": "long"}
	fInt     = map[string]any{"type": "integer"}
	fDouble  = map[string]any{"type": "double"}
	fDate    = map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"}
	fBool    = map[string]any{"type": "boolean"}
	fIP      = map[string]any{"type": "ip"}
	// fIPLax is an ip that keeps a document whose value is no address
	// ("unknown", a hostname): the value stays in _source, unindexed.
	fIPLax = map[string]any{"type": "ip", "ignore_malformed": true}
	fText  = map[string]any{"type": "text"}
	// fTextKW is full text with an exact "keyword" sub-field for sorting
	// and aggregations.
	fTextKW  = map[string]any{"type": "text", "fields": map[string]any{"keyword": fKeyword}}
	fSuggest = map[string]any{"type": "completion"}
	// fObject is a free-form object kept in _source but not indexed (see
	// Mapping).
	fObject = map[string]any{"type": "object", "enabled": false}
)

func fProps(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}

// Mapping returns the mappings of a well-known entity's indices
// (lucidkeys.EntitySessions, EntityBlocks, EntityTransactions,
// EntityManifests, EntityAuditLogs) as the JSON-ready "mappings" object,
// and false for any other entity, whose fields are mapped dynamically. The
// map is new on every call.
//
// Field names are Lucid's: sessions, blocks and transactions use the
// fields of Lucid's MongoDB schemas (sessions_schema.js, blocks_schema.js,
// transactions_schema.js), and audit logs exactly the fields of
// mongostore's audit_logs validator, so one Go type with matching bson and
// json tags writes a document to both stores. "sessions" are Lucid's
// upload/RDP sessions (mongostore's sessions collection), not the login
// sessions of package cache. A few search-only fields sit beside Lucid's,
// for the SDK's typed searches: sessions' title, description, tags,
// node_id, client_ip and encrypted (SessionFilter), blocks' tx_count,
// session_ids, status and summary (BlockFilter).
//
// Each mapping is dynamic (unknown fields are added); all but audit logs'
// (which hold exactly mongostore's fields) have a "suggest" completion
// field for suggestions and a free-form "metadata". Free-form objects
// ("metadata", blocks' extra_data, audit logs' details) as unindexed
// objects: kept in _source and returned with hits, but not searchable.
// Their keys differ per writer, so dynamic mapping would fix each key's
// type with the first document of the month and reject later documents
// that disagree (an audit event lost for a type clash) and let the field
// count grow without bound; "flattened" would index them, but it exists
// only on Elasticsearch (OpenSearch's flat_object differs), and a string
// would no longer be the object mongostore stores. Promote a detail that
// needs searching to a field of its own.
func Mapping(entity string) (map[string]any, bool) {
	var props map[string]any
	switch entity {
	case lucidkeys.EntitySessions:
		props = map[string]any{
			// Lucid's sessions_schema.js.
			"session_id": fKeyword, "user_id": fKeyword, "status": fKeyword,
			"created_at": fDate, "updated_at": fDate, "ended_at": fDate,
			"duration": fLong, "chunk_count": fInt, "total_size": fLong, "merkle_root": fKeyword,
			"blockchain_anchor": fProps(map[string]any{"block_height": fLong, "block_hash": fKeyword, "timestamp": fDate}),
			"rdp_details":       fProps(map[string]any{"server_ip": fIPLax, "port": fInt, "connection_id": fKeyword}),
			// Search-only.
			"node_id": fKeyword, "title": fTextKW, "description": fText, "tags": fKeyword,
			"client_ip": fIP, "encrypted": fBool,
		}
	case lucidkeys.EntityBlocks:
		props = map[string]any{
			// Lucid's blocks_schema.js.
			"block_height": fLong, "block_hash": fKeyword, "previous_hash": fKeyword,
			"timestamp": fDate, "transactions": fKeyword, "merkle_root": fKeyword,
			"miner_id": fKeyword, "difficulty": fDouble, "nonce": fLong, "size": fLong,
			"version": fKeyword, "extra_data": fObject,
			// Search-only.
			"tx_count": fLong, "session_ids": fKeyword, "status": fKeyword, "summary": fText,
		}
	case lucidkeys.EntityTransactions:
		props = map[string]any{
			// Lucid's transactions_schema.js.
			"tx_id": fKeyword, "tx_type": fKeyword, "sender": fKeyword, "timestamp": fDate,
			"status": fKeyword, "block_height": fLong, "block_hash": fKeyword,
			"payload": fProps(map[string]any{
				"session_id": fKeyword, "merkle_root": fKeyword, "node_id": fKeyword,
				"payout_amount": fDouble, "vote_type": fKeyword,
			}),
			"signature": fKeyword, "fee": fDouble, "confirmations": fInt,
		}
	case lucidkeys.EntityManifests:
		props = map[string]any{
			// mongostore's manifests fields, with the same types ...
			"manifest_id": fKeyword, "session_id": fKeyword, "user_id": fKeyword,
			"created_at": fDate, "chunk_count": fInt, "total_size": fLong,
			"merkle_root": fKeyword, "status": fKeyword, "anchor_tx_id": fKeyword,
			"encryption": fObject,
			// ... and two for searching that only the index holds.
			"file_name": fTextKW, "content_type": fKeyword,
		}
	case lucidkeys.EntityAuditLogs:
		// Exactly mongostore's audit_logs fields.
		props = map[string]any{
			"event_id": fKeyword, "timestamp": fDate, "actor_id": fKeyword,
			"actor_type": fKeyword, // user | service | system
			"action":     fKeyword, "resource_type": fKeyword, "resource_id": fKeyword,
			"outcome":  fKeyword, // success | failure | denied
			"severity": fKeyword, // info | warning | critical
			// mongostore accepts any 2-45 character string here.
			"ip_address": fIPLax,
			"message":    fTextKW, "details": fObject,
		}
	default:
		return nil, false
	}
	if entity != lucidkeys.EntityAuditLogs {
		props["suggest"] = fSuggest
		props["metadata"] = fObject
	}
	return map[string]any{"dynamic": true, "properties": props}, true
}

// timeField is the field holding the time that routes a document of a
// well-known entity to its monthly index.
func timeField(entity string) string {
	switch entity {
	case lucidkeys.EntitySessions, lucidkeys.EntityManifests:
		return "created_at"
	}
	return "timestamp"
}
