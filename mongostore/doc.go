// Package mongostore is the MongoDB store of the Lucid data tier, built on
// go.mongodb.org/mongo-driver/v2:
//
//	cfg, err := mongostore.FromEnv() // LUCID_MONGO_URI, LUCID_MONGO_DATABASE, ...
//	if err != nil { ... }
//	db, err := mongostore.Connect(ctx, cfg)
//	if err != nil { ... } // errkind.Of(err) == errkind.Unavailable: no server
//	defer db.Close(ctx)
//	users, err := mongostore.NewCollection[User](db, lucidkeys.CollUsers)
//	f := mongostore.NewFilter().Eq("email", form.Email) // refuses {"$gt": ""}
//	u, err := users.FindOne(ctx, f, nil)
//	if errors.Is(err, mongostore.ErrNotFound) { ... }
//
// It offers connection, health, stats, CRUD with client-side validation,
// typed collections, the schema registry of the 15 Lucid collections with
// their validators and indexes, an operator-injection guard for untrusted
// filters, retries of transient errors and sharding helpers.
//
// "Sessions" here (lucidkeys.CollSessions, the sessions collection) are
// Lucid's upload and RDP sessions: a user's recorded session with its
// chunks, manifest and blockchain anchor, as in search's sessions indexes.
// Login sessions (bearer tokens) are cache's SessionStore, not this.
//
// # Connecting
//
// Connect takes a Config whose zero value means documented defaults
// (DefaultURI, DefaultDatabase, the driver's pool, retryable reads and
// writes, primary reads); FromEnv fills one from LUCID_MONGO_* variables,
// with the MONGODB_* names as fallbacks. Connect pings before returning, so
// an unreachable server is an ErrUnavailable at start-up rather than on the
// first write. Passwords, whether in the URI or in Config.Password, never
// appear in logs or error messages (RedactURI). Ping checks the server
// answers; Check returns a health.Report (up, degraded, down) for a
// health.Aggregator. DB.Client, DB.Database and DB.Collection return the
// driver's handles for anything this package does not wrap. Close is
// idempotent, and every call after it fails with ErrClosed.
//
// DB.WithDatabase returns a DB for another database on the same client (a
// scratch database for a selective restore, say) with the same Config,
// schema registry, retries, tracing and metrics, like the driver's
// Client.Database; only the DB Connect returned owns the client, so closing
// it closes every DB derived from it, while closing a derived DB leaves the
// client to the others.
//
// # Store and Collection[T]
//
// Store is the interface services program against; *DB implements it, and
// its method set uses the SDK's own types (WriteOp for BulkWrite, FindOptions,
// UpdateResult), so another implementation needs no driver types.
// Collection[T] is a typed view of any Store that encodes and decodes T.
// Stream and Collection.All are iter.Seq2 iterators that decode one
// document at a time from the server's batches, so memory stays bounded
// whatever the result size.
//
// A nil or empty filter is refused with ErrInvalid by every call that takes
// one, reads included; All is the explicit "every document":
//
//	db.DeleteMany(ctx, coll, nil)            // ErrInvalid
//	db.DeleteMany(ctx, coll, mongostore.All) // empties coll
//
// Documents over MaxDocumentSize (16 MiB) and empty collection names are
// ErrInvalid before anything is sent.
//
// # Errors
//
// Every error starts with "mongostore:" and matches at most one sentinel
// with errors.Is, while the driver's error stays reachable with errors.As:
// ErrNotFound, ErrDuplicate (a *DuplicateError naming the unique index, read
// from the server's E11000 message or, where the server does not name it,
// found by looking up the collection's unique indexes), ErrValidation (a
// *ValidationError naming the field and the JSON-schema rule), ErrUnavailable
// (network, server selection, Config.Timeout, not primary), ErrUnsupported
// (the server lacks a feature), ErrInvalid (bad input), ErrInjection (an
// operator in untrusted input; it also matches ErrInvalid) and ErrClosed.
// Each has the errkind kind the SDK's other packages use (NotFound,
// AlreadyExists, InvalidArgument, Unavailable, Unimplemented, Closed), so
// errkind.Of(err) answers the same question for every package. A caller's
// cancelled or expired ctx is always that ctx's error (context.Canceled,
// context.DeadlineExceeded), never ErrUnavailable. The mapping is in one
// place.
//
// # Schema registry: Lucid's schema and the SDK's
//
// LucidSchema returns the 15 collections of lucidkeys.Collections with
// $jsonSchema validators and 65 indexes. Five of them are Lucid's: users,
// sessions, blocks, transactions and trust_policies are defined exactly as
// the schema files of Lucid's repository (database/schemas/*_schema.js) say
// — required fields, bsonType unions such as ["string", "null"], "long"
// versus "int", enums, patterns, nested objects, descriptions — with the
// indexes of its scripts/database/create_indexes.js (same keys, unique,
// sparse), so the documents Lucid's Python services store are accepted and
// the validators its scripts install are found unchanged. Nothing there is
// tighter than Lucid's files. The other ten are the SDK's own (Lucid has no
// schema file for them); where they refer to the five (user_id,
// session_id, tx ids, merkle roots, chunk_count, total_size) they use the
// five's names and types.
//
// Lucid's "long" fields (sessions.duration and total_size, blocks.
// block_height, nonce and size, transactions.block_height, ...) take BSON
// int64 only, as mongod's validator does: give them Go int64 fields. A Go
// int (or a Python int) of a small value is encoded as a 32-bit int, which
// the validator refuses.
//
// EnsureSchema creates what is missing and changes nothing else; it
// identifies an index by its key pattern and options, never by its name, so
// on a database Lucid's scripts set up it adopts email_1 and the others
// (ActionAdopted) instead of creating a second index on the same keys. An
// index on the same keys with other options is a conflict: reported with
// both definitions (ActionConflict, DriftDifferent) and left alone unless
// EnsureSchemaWith is asked to replace it. SchemaDrift reports what differs
// without changing anything, by the same rule; ListIndexes lists a
// collection's indexes. Config.ValidationLevel "moderate" keeps documents
// that predate a validator readable and updatable on servers with
// validators.
//
// The same JSONSchema values validate documents and update operators ($set
// and $setOnInsert with dotted paths, $unset of a required field, $inc,
// $push, ...) client-side before every write, so bad input gets the same
// clear ErrValidation on servers without validators (FerretDB).
//
// A service with its own rules extends or replaces a collection's schema
// without forking: ParseJSONSchema reads a $jsonSchema document (JSON, for
// example a .json file it ships, or bson.D), Schema.Extend adds its fields,
// required fields and indexes to a collection, Schema.With replaces a
// collection's spec, and the result goes into Config.Schema.
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
// Filter builds filters from untrusted field names and values: Filter.Eq
// and its siblings refuse operator documents in values, so a login form's
// {"$gt": ""} is ErrInjection. AllowListedFilter is a query language for
// query endpoints: it checks a whole filter document (for example from a
// search endpoint's body) against a fixed list of operators and lets
// comparisons such as $ne and $gt through by design. $where, $function,
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
