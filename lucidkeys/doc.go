// Package lucidkeys holds the naming conventions of the Lucid data tier as pure
// functions without I/O: Redis keys, search index names, MongoDB collection and
// index names, volume types, TTLs and lifecycle ages.
//
// Every service of the tier names things the same way, so a key written by one
// service can be found, scanned, expired and backed up by another. Putting the
// rules in one place, with builders that refuse bad input, means a malformed
// name is caught where it is made rather than discovered in production.
//
// # Redis keys
//
// Keys have the form lucid:{service}:{entity}:{id}, e.g.
// "lucid:session:token:abc123". NewKey builds one, ParseKey takes one apart,
// KeyPrefix and Pattern give the prefix and SCAN pattern of an entity. Keys
// that must share a Redis Cluster slot carry a hash tag
// ("lucid:session:token:{user42}:abc123", built by NewTaggedKey); Slot
// computes the slot exactly as Redis does.
//
// # Search indices
//
// Search documents go into monthly indices lucid-{entity}-{YYYY.MM}, e.g.
// "lucid-audit-logs-2025.10" (MonthlyIndex, ParseMonthlyIndex), written
// through the alias lucid-{entity}-write and read through lucid-{entity} or
// the pattern lucid-{entity}-*. Every name is checked against the
// Elasticsearch naming rules (ValidateIndexName), which also refuse '%': a
// valid name is always exactly one index or alias, never an escape the
// engine would decode into a pattern or another name. Search targets that
// may be patterns or lists are checked by ValidateIndexPattern. Indices age through the
// phases hot (7 days), warm (30 days) and cold (90 days) and are deleted
// after 90 days (PhaseForAge).
//
// # MongoDB
//
// The 15 collections are typed constants (Collections). Index names follow
// {collection}_{field}_{type}, e.g. "users_email_unique" (IndexName,
// ParseIndexName).
//
// # Volumes
//
// The nine volume types, their default paths under /data and the size limits
// are constants (VolumeTypes, VolumeType.DefaultPath, ValidateVolumeName).
//
// # Errors
//
// Every function that rejects input returns an error wrapping ErrInvalid that
// names the segment and the rule it broke. No builder ever returns a malformed
// name.
package lucidkeys
