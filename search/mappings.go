package search

import (
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Field helpers for the mappings below.
var (
	fKeyword = map[string]any{"type": "keyword", "ignore_above": 256}
	fLong    = map[string]any{"type": "long"}
	fDouble  = map[string]any{"type": "double"}
	fDate    = map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"}
	fBool    = map[string]any{"type": "boolean"}
	fIP      = map[string]any{"type": "ip"}
	fText    = map[string]any{"type": "text"}
	// fTextKW is full text with an exact "keyword" sub-field for sorting
	// and aggregations.
	fTextKW  = map[string]any{"type": "text", "fields": map[string]any{"keyword": fKeyword}}
	fSuggest = map[string]any{"type": "completion"}
	fObject  = map[string]any{"type": "object", "enabled": false}
)

// Mapping returns the mappings of a well-known entity's indices
// (lucidkeys.EntitySessions, EntityBlocks, EntityTransactions,
// EntityManifests, EntityAuditLogs) as the JSON-ready "mappings" object,
// and false for any other entity, whose fields are mapped dynamically. The
// map is new on every call.
//
// Each mapping is dynamic (unknown fields are added), has a "suggest"
// completion field for suggestions, and maps free-form "metadata" as an
// unindexed object.
func Mapping(entity string) (map[string]any, bool) {
	var props map[string]any
	switch entity {
	case lucidkeys.EntitySessions:
		props = map[string]any{
			"session_id": fKeyword, "user_id": fKeyword, "node_id": fKeyword, "status": fKeyword,
			"title": fTextKW, "description": fText, "tags": fKeyword,
			"created_at": fDate, "updated_at": fDate, "ended_at": fDate,
			"chunk_count": fLong, "total_size": fLong, "duration_ms": fLong,
			"client_ip": fIP, "encrypted": fBool, "merkle_root": fKeyword,
		}
	case lucidkeys.EntityBlocks:
		props = map[string]any{
			"block_height": fLong, "block_hash": fKeyword, "previous_hash": fKeyword,
			"merkle_root": fKeyword, "timestamp": fDate, "tx_count": fLong, "size": fLong,
			"producer": fKeyword, "session_ids": fKeyword, "status": fKeyword, "summary": fText,
		}
	case lucidkeys.EntityTransactions:
		props = map[string]any{
			"tx_id": fKeyword, "block_height": fLong, "block_hash": fKeyword,
			"from": fKeyword, "to": fKeyword, "amount": fDouble, "fee": fDouble,
			"type": fKeyword, "status": fKeyword, "timestamp": fDate, "memo": fText,
			"session_id": fKeyword,
		}
	case lucidkeys.EntityManifests:
		props = map[string]any{
			"manifest_id": fKeyword, "session_id": fKeyword, "user_id": fKeyword,
			"file_name": fTextKW, "content_type": fKeyword, "created_at": fDate,
			"chunk_count": fLong, "total_size": fLong, "merkle_root": fKeyword, "anchored": fBool,
		}
	case lucidkeys.EntityAuditLogs:
		props = map[string]any{
			"timestamp": fDate, "user_id": fKeyword, "service": fKeyword, "action": fKeyword,
			"resource": fKeyword, "level": fKeyword, "ip": fIP, "success": fBool,
			"message": fTextKW, "details": fText,
		}
	default:
		return nil, false
	}
	props["suggest"] = fSuggest
	props["metadata"] = fObject
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
