// Package mongopart backs up and restores MongoDB databases and collections
// as parts of a backup, in the mongodump archive format, so the standard
// tools restore a part without this package:
//
//	age -d -i key.txt mongodb.archive.zst.age | zstd -d | mongorestore --archive
//	mongorestore --archive=mongodb.archive.gz --gzip    (gzip, no encryption)
//
// Source streams the selected collections from the server's cursors as raw
// BSON (no decoding, memory bounded by one cursor batch) after a prelude
// holding each collection's options and index specs; each namespace ends
// with the CRC-64/ECMA of its documents, as mongodump writes it.
//
// Restorer reads this package's parts and what mongodump writes
// (`mongodump --archive`, plain or --gzip, its collections interleaved or
// not, and `mongodump --out DIR` directories): collections created with
// their options, documents inserted in unordered batches bounded by count
// and bytes, on a worker while the archive is read on, indexes
// recreated after the data, drop-or-merge, a selection of databases and
// collections (Include, Exclude) restored into the original place or
// renamed (lucid.users → scratch.users). Lucid collections restored into
// a mongostore.DB's database get mongostore's registry validator and
// indexes (EnsureSchemaWith) instead of the archive's: see Restorer. For a
// scratch database, DB.WithDatabase derives that DB on the same client.
// Checker parses a part for backup.Manager.Verify: structure, CRCs,
// document counts by namespace.
//
// Against FerretDB v1 (the test server): it refuses arrays directly inside
// arrays, TTL indexes (expireAfterSeconds) and decimal128, minKey, maxKey,
// JavaScript, symbol, undefined and DBPointer values, so archives holding
// them restore only into MongoDB; the format code handles every type.
// mongorestore's index step fails on FerretDB v1 (it sends "ns"): use
// --noIndexRestore there; this package's Restorer does not send it.
//
// The package takes the driver's *mongo.Client (mongostore's DB.Client
// returns it), so importing backup alone links no MongoDB driver.
package mongopart
