// Package lucid is lucid-data, the Go SDK Lucid services import to reach
// their data tier. The root package holds no code; the work is in independent
// packages with small interfaces, each usable on its own:
//
//   - lucidkeys: the naming conventions as pure functions — Redis keys
//     lucid:{service}:{entity}:{id} (with Cluster hash tags), search index
//     names lucid-{entity}-{YYYY.MM}, the 15 collection names, index names
//     {collection}_{field}_{type}, the 9 volume types, TTLs and lifecycle ages.
//   - mongostore: MongoDB through driver v2 — CRUD with client-side
//     validation, typed collections, the Lucid schema registry (validators and
//     indexes), stats, health, replica set and sharding helpers.
//     mongostore/embedded runs an in-process MongoDB-wire server (FerretDB on
//     SQLite) for hosts without MongoDB.
//   - cache: Redis through go-redis v9 (single node, Sentinel, Cluster) —
//     cache with TTLs, sessions, rate limiting, locks with fencing tokens,
//     pub/sub and health, plus an in-memory implementation for unit tests.
//   - search: Elasticsearch 8 and OpenSearch 2/3 through go-elasticsearch/v8 —
//     indices, monthly rollover and lifecycle, bulk, full-text, aggregations.
//   - volume: directories on the host as data volumes — usage and quotas,
//     monitor, health, performance, safe archive/restore/migrate, integrity.
//   - backup: streaming backups (zstd or gzip, age encryption) to local disk
//     or S3 with manifests, verify and restore; one subpackage per part kind
//     (volumepart, mongopart, redispart, searchpart) and for the S3 sink, each
//     in the format its own tools read (tar, mongodump archive, RDB, _bulk
//     NDJSON).
//   - errkind: the one error vocabulary; every package's sentinels belong to
//     a kind, and errkind.Of(err) answers for any of them.
//   - health: the one health Report every client's Check(ctx) returns, and an
//     aggregator serving liveness and readiness.
//
// Every call that does I/O takes a context first; a caller's cancellation or
// deadline comes back as context.Canceled or context.DeadlineExceeded. Errors
// are package sentinels (ErrNotFound, ErrValidation, ...) wrapped once with
// the cause kept, so errors.Is and errors.As reach both. Every network client
// has Connect(ctx, Config), FromEnv, Ping, Check and an idempotent Close.
// Options are Config structs whose zero value means documented defaults;
// logging goes to an optional *slog.Logger. The README shows each package in
// a few lines and how the tests reach real servers (internal/testenv).
package lucid
