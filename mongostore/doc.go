// Package mongostore is the MongoDB store of the Lucid data tier, built on
// go.mongodb.org/mongo-driver/v2: connection, health, stats, CRUD with
// client-side validation, typed collections, the schema registry of the 15
// Lucid collections with their validators and indexes, an operator-injection
// guard for untrusted filters, retries of transient errors and sharding
// helpers.
//
// # Connecting
//
// Connect takes a Config whose zero value means documented defaults
// (DefaultURI, DefaultDatabase, the driver's pool, retryable reads and
// writes, primary reads). It pings before returning, so an unreachable server
// is an ErrUnavailable at start-up rather than on the first write. Passwords,
// whether in the URI or in Config.Password, never appear in logs or error
// messages (RedactURI). DB.Client, DB.Database and DB.Collection return the
// driver's handles for anything this package does not wrap. Close is
// idempotent.
//
// # Store and Collection[T]
//
// Store is the interface services program against; *DB implements it.
// Collection[T] is a typed view that encodes and decodes T. Stream and
// Collection.All are iter.Seq2 iterators that decode one document at a time
// from the server's batches, so memory stays bounded whatever the result
// size.
//
// # Errors
//
// Every error starts with "mongostore:" and matches at most one sentinel
// with errors.Is, while the driver's error stays reachable with errors.As:
// ErrNotFound, ErrDuplicate (a *DuplicateError naming the unique index, read
// from the server's E11000 message or, where the server does not name it,
// found by looking up the collection's unique indexes), ErrValidation (a
// *ValidationError naming the field and the JSON-schema rule), ErrUnavailable
// (network, server selection, timeouts, not primary), ErrUnsupported (the
// server lacks a feature), ErrInvalid (bad input) and ErrInjection (an
// operator in untrusted input; it also matches ErrInvalid). The mapping is in
// one place.
//
// # Schema registry
//
// LucidSchema returns the 15 collections of lucidkeys.Collections with
// $jsonSchema validators and 63 indexes named {collection}_{field}_{type}
// through lucidkeys.IndexName: unique, compound, text and TTL. EnsureSchema
// applies them idempotently and reports each item (created, unchanged,
// updated, unsupported, failed); SchemaDrift reports what differs without
// changing anything. The same JSONSchema values validate documents and
// update operators ($set and $setOnInsert with dotted paths, $unset of a
// required field, $inc, $push, ...) client-side before every write, so bad
// input gets the same clear ErrValidation on servers without validators.
//
// # Feature probing
//
// What the server supports (validators, TTL, text and sparse indexes,
// transactions, change streams, sharding) is found by trying each feature on
// a scratch collection (DB.Features), never from the version string:
// FerretDB, the MongoDB-wire server used on hosts without MongoDB
// (mongostore/embedded), reports MongoDB 7.0 but has no validators, TTL or
// text indexes, transactions or change streams. Items the server cannot hold
// are reported with ErrUnsupported and everything else is applied.
//
// # Untrusted input
//
// Filter builds filters from untrusted field names and values;
// SanitizeFilter checks a whole filter document (for example from a request
// body) against a fixed list of safe operators. $where, $function,
// $accumulator, $expr, $regex, values that are documents with $-keys, and
// regular-expression or JavaScript values (bson.Regex, bson.JavaScript,
// bson.CodeWithScope, or their extended-JSON forms $regularExpression and
// $code) are rejected with ErrInjection; the deprecated and internal BSON
// types (Symbol, Undefined, DBPointer, MinKey, MaxKey) with ErrInvalid. A
// caller who wants a pattern asks for it with Filter.Regex, which limits
// its length, refuses PCRE-only syntax and nested unbounded repetition, and
// can quote (Literal) and anchor it.
//
// # Retries and scale-out
//
// Reads, and writes whose ctx is marked with Idempotent, are retried on
// transient errors with exponential backoff and full jitter (RetryPolicy),
// never after ctx is done. Config has the replica-set options (ReplicaSet,
// ReadPreference, WriteConcern, Direct); EnableSharding and ShardCollection
// shard the Lucid collections by the keys of ShardKeys on a mongos and return
// ErrUnsupported elsewhere.
//
// Importing mongostore does not pull in FerretDB: the embedded server lives
// in mongostore/embedded.
package mongostore
