// Package search is the search layer of the Lucid data tier, for
// Elasticsearch 8 and OpenSearch 2/3: Lucid's entities in monthly indices
// with their lifecycle, single-document writes with optimistic
// concurrency, a long-lived bulk indexer, typed queries, aggregations,
// suggestions and point-in-time paging.
//
// A service connects from the environment, writes an entity's document
// and searches it back:
//
//	cfg, err := search.FromEnv() // LUCID_SEARCH_URL, LUCID_SEARCH_USERNAME, ...
//	if err != nil { ... }
//	c, err := search.Connect(ctx, cfg)
//	if err != nil { ... }
//	defer c.Close()
//
//	// Into lucid-sessions-2026.11 (through the write alias), created on demand.
//	_, err = c.IndexEntity(ctx, lucidkeys.EntitySessions, "s1",
//		map[string]any{"session_id": "s1", "user_id": "u42", "status": "active", "created_at": now}, now, nil)
//
//	// Every kept month, newest first.
//	res, err := c.SearchSessions(ctx, "u42", search.SessionFilter{Status: []string{"active"}})
//	if err != nil { ... } // errkind.Of(err): Unavailable, InvalidArgument, Canceled, ...
//	for _, h := range res.Hits {
//		var s Session
//		_ = h.Decode(&s)
//	}
//
//	report := c.Check(ctx) // health.Report: up (green), degraded (yellow), down
//
// "Sessions" here are Lucid's upload/RDP sessions (mongostore's sessions
// collection, Lucid's sessions_schema.js), not the login sessions of
// package cache.
//
// # Entities and their indices
//
// Lucid entities (lucidkeys.EntitySessions, EntityBlocks, EntityTransactions,
// EntityManifests, EntityAuditLogs) live in monthly indices
// "{prefix}lucid-{entity}-{YYYY.MM}" (UTC months) created on demand with their
// Mapping, whose field names are Lucid's (audit logs: exactly mongostore's
// audit_logs fields, so one Go type writes both stores). Each index joins
// the read alias "{prefix}lucid-{entity}"; the write alias
// "{prefix}lucid-{entity}-write" points at the current month's index and is
// moved atomically by Rollover when Config.Clock enters a new month.
// IndexEntity and IndexFor route a document by its date. EnsureTemplates
// installs composable index templates so indices created by anyone get the
// same mapping. Config.IndexPrefix isolates tenants and tests.
//
// # Writing
//
// Index, Get, Update and Delete work on one document; WriteOptions make a
// write conditional on the version read (ErrConflict when it moved on).
// BulkIndexer is one long-lived concurrent writer: batches flushed by size
// and interval and sent by concurrent workers, per-item OnSuccess/OnFailure
// callbacks, retries of items rejected with 429 or 503 (and of failed
// requests) with backoff, Flush, and a Close that settles every item in
// exactly one callback.
//
// # Searching
//
// Bool, Term, Terms, Range, Match, MultiMatch (with fuzziness), Prefix,
// MatchAll, SimpleQueryString, QueryString and RawQuery render to the query
// DSL. User text is only ever a match-style value; QueryString escapes it
// with EscapeQueryString. Aggregations (TermsAgg, DateHistogramAgg, StatsAgg,
// CardinalityAgg) and suggestions (TermSuggest, CompletionSuggest) come back
// typed. Scan pages through any number of hits with search_after over a point
// in time. SearchSessions, SearchBlocks and FullTextSearch are the typed
// searches of Lucid's entities.
//
// # Lifecycle
//
// An index's age counts from the end of its month: hot below 7 days, warm
// below 30 (replicas 0, writes blocked), cold below 90 (also force-merged to
// one segment), deleted from 90 days (lucidkeys.PhaseForAge). PlanLifecycle
// is the dry run; ApplyLifecycle does it (with ILM or ISM when the engine
// has them and EnsureLifecyclePolicy installed the policy).
//
// # Errors
//
// Every error wraps one sentinel — ErrNotFound, ErrConflict, ErrExists,
// ErrInvalid, ErrUnavailable, ErrUnsupported, ErrRejected, ErrClosed — each
// of an errkind.Kind (NotFound, Aborted, AlreadyExists, InvalidArgument,
// Unavailable, Unimplemented, ResourceExhausted, Closed), and, when the
// engine answered, is an *Error carrying its HTTP status, error type and
// reason. A caller's cancelled or expired ctx is reported as
// context.Canceled or context.DeadlineExceeded and nothing else (never
// ErrUnavailable); a request cut by Config.RequestTimeout is ErrUnavailable.
// Bad input (invalid index names, non-object documents, empty ids) is
// ErrInvalid before any request is sent. Every call after Close is
// ErrClosed. Credentials never appear in errors or logs.
//
// # Connecting, retries and health
//
// FromEnv reads the LUCID_SEARCH_* variables (EnvURL and the other Env
// constants); Connect asks GET / which engine answers and probes the
// lifecycle plugins; Ping is the cheapest round trip; Check reports
// green as health.Up, yellow as health.Degraded and red or unreachable as
// health.Down; Health returns the cluster's figures and per-index
// statistics. Close (io.Closer) is idempotent. Every request is retried on
// 429, 502, 503, 504 and connection errors with exponential backoff and
// full jitter (internal/backoff: each wait drawn from (0, cap]), never
// after its ctx is done, and is bounded by Config.RequestTimeout.
// Transport is the escape hatch to the native transport.
//
// # Observability
//
// Config.TracerProvider traces each request as one OpenTelemetry client
// span ("search lucid-sessions-*": db.system, db.operation, the index,
// server.address and server.port, the SDK's error kind on failure; never a
// query, a document or a URL); Config.MeterProvider measures
// lucid.search.request.duration and lucid.search.request.errors by
// operation (and kind) and the BulkIndexers' lucid.search.bulk.queued,
// .indexed, .retried and .failed items. Either nil (or a
// noop.TracerProvider) costs nothing. Config.Logger receives every line
// the transport logs (a failed round trip at WARN), credentials redacted;
// nothing is written to stderr.
//
// # Engine differences handled here
//
// Both engines are reached with go-elasticsearch's esapi request structs
// over one elastictransport client, without Elasticsearch's compatibility
// media type (OpenSearch rejects it). For Elasticsearch, Connect keeps the
// official client's product check: the answer must carry
// X-Elastic-Product: Elasticsearch, or Connect fails with ErrUnsupported.
// The package does not import the official *elasticsearch.Client itself,
// because that would compile its ~800 typedapi packages into every program
// that imports search (minutes per build on a Raspberry Pi); build one from
// the same addresses if you want the typed API.
//
//   - point in time: POST /{index}/_pit and DELETE /_pit on Elasticsearch,
//     POST /{index}/_search/point_in_time and DELETE /_search/point_in_time on
//     OpenSearch (2.4+); the _shard_doc tiebreaker exists only on
//     Elasticsearch, so Scan sorts by _id on OpenSearch;
//   - lifecycle: ILM on Elasticsearch, ISM on OpenSearch when its plugin is
//     installed (both probed at connect time), otherwise the SDK's own
//     runner (PlanLifecycle, ApplyLifecycle);
//   - the product check (X-Elastic-Product, Elasticsearch only).
//
// Every index, alias, template and policy name and every document id in a
// URL is percent-escaped as one path segment, and names are validated
// (lucidkeys.ValidateIndexName) before any request, so a call reaches
// exactly the index it names, never a pattern. EscapePathSegment is that
// escaper, for requests built with esapi and sent through Transport.
package search
