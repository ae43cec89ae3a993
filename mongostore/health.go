package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Features says what the server supports, found by trying each feature
// once on a scratch collection (never from the version string: FerretDB
// reports a MongoDB version it does not fully implement).
type Features struct {
	// Validators: create/collMod with a $jsonSchema validator.
	Validators bool
	// TTLIndexes: indexes with expireAfterSeconds.
	TTLIndexes bool
	// TextIndexes: "text" indexes.
	TextIndexes bool
	// Transactions: multi-document transactions (replica set or mongos).
	Transactions bool
	// ChangeStreams: watch (replica set or mongos).
	ChangeStreams bool
	// Sharding: the server is a mongos (hello reports msg "isdbgrid").
	Sharding bool
	// SparseIndexes: a unique sparse index admits several documents
	// without the field (FerretDB v1 accepts the option but ignores it).
	SparseIndexes bool

	// sparseListed: listIndexes reports the sparse option back (FerretDB v1
	// enforces sparse but does not list it, so drift cannot see it).
	sparseListed bool
}

// Health is the result of a health check.
type Health struct {
	// Latency is the round trip of one ping.
	Latency time.Duration
	// WritablePrimary and Secondary come from hello.
	WritablePrimary bool
	Secondary       bool
	// SetName is the replica set name ("" when not a replica set member).
	SetName string
	// Mongos is set when the server is a mongos router.
	Mongos bool
	// MaxWireVersion and MinWireVersion are the wire protocol range.
	MaxWireVersion int32
	MinWireVersion int32
	// Version is buildInfo's version (FerretDB reports a MongoDB version).
	Version string
	// Product is "MongoDB", or "FerretDB" when buildInfo says so.
	Product string
	// Features is what the server supports, probed once per DB.
	Features Features
}

type helloReply struct {
	IsWritablePrimary bool   `bson:"isWritablePrimary"`
	Secondary         bool   `bson:"secondary"`
	SetName           string `bson:"setName"`
	Primary           string `bson:"primary"`
	Msg               string `bson:"msg"`
	MaxWireVersion    int32  `bson:"maxWireVersion"`
	MinWireVersion    int32  `bson:"minWireVersion"`
}

func (d *DB) hello(ctx context.Context) (helloReply, error) {
	var h helloReply
	err := d.do(ctx, true, "hello", func(ctx context.Context) error {
		return d.client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&h)
	})
	return h, d.mapErr(ctx, "hello", "", err)
}

// Ping checks that the server answers, within ctx. An unreachable server
// is ErrUnavailable, a closed DB ErrClosed.
func (d *DB) Ping(ctx context.Context) error {
	err := d.do(ctx, false, "ping", func(ctx context.Context) error {
		return d.client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	})
	return d.mapErr(ctx, "ping", "", err)
}

// Check reports the server's health in the SDK's shape, for a
// health.Aggregator. It runs hello and buildInfo on the nearest member
// (two round trips, nothing written; Features are not probed):
//
//   - Up: the member is a writable primary, a standalone or a mongos, or a
//     secondary of a set that has a primary.
//   - Degraded: a replica set member answers but the set has no writable
//     primary (or the DB is connected directly to a secondary): reads with
//     a non-primary ReadPreference work, writes fail.
//   - Down: unreachable, ctx ended, or the DB is closed (Err says which).
//
// Version is "FerretDB v1.24.2" (with "mongodb_version" in Details, the
// version it emulates) or "MongoDB 7.0.14". Details: "role"
// (primary, secondary, standalone, mongos, other), "set_name" (replica set
// members only), "writable_primary", "min_wire_version",
// "max_wire_version". No address or credential appears in a Report.
func (d *DB) Check(ctx context.Context) health.Report {
	start := time.Now()
	if err := d.live(ctx, "check"); err != nil {
		return health.DownReport(err, 0)
	}
	nearest := options.RunCmd().SetReadPreference(readpref.Nearest())
	admin := d.client.Database("admin")
	var hr helloReply
	if err := admin.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}, nearest).Decode(&hr); err != nil {
		return health.DownReport(d.mapErr(ctx, "check", "", err), time.Since(start))
	}
	lat := time.Since(start)
	var bi bson.M
	if err := admin.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}, nearest).Decode(&bi); err != nil {
		return health.DownReport(d.mapErr(ctx, "check", "", err), time.Since(start))
	}
	r := health.Report{Status: health.Up, Latency: lat, Version: versionOf(bi), Details: map[string]any{
		"role": roleOf(hr), "writable_primary": hr.IsWritablePrimary,
		"min_wire_version": hr.MinWireVersion, "max_wire_version": hr.MaxWireVersion,
	}}
	if _, ferret := bi["ferretdbVersion"]; ferret {
		r.Details["mongodb_version"], _ = bi["version"].(string) // the version FerretDB emulates
	}
	if hr.SetName != "" {
		r.Details["set_name"] = hr.SetName
	}
	if hr.SetName != "" && !hr.IsWritablePrimary && (hr.Primary == "" || d.cfg.Direct) {
		r.Status = health.Degraded
		r.Err = &Error{Kind: ErrUnavailable, Op: "check", Msg: "no writable primary reachable: reads only"}
	}
	return r
}

func roleOf(hr helloReply) string {
	switch {
	case hr.Msg == "isdbgrid":
		return "mongos"
	case hr.SetName == "" && hr.IsWritablePrimary:
		return "standalone"
	case hr.IsWritablePrimary:
		return "primary"
	case hr.Secondary:
		return "secondary"
	}
	return "other"
}

// versionOf names the product and version from buildInfo: FerretDB
// reports the MongoDB version it emulates in "version" and its own in
// "ferretdbVersion" ("unknown" when FerretDB runs as a library, as
// mongostore/embedded runs it, since its version is stamped at build time
// of its own binary).
func versionOf(bi bson.M) string {
	if v, ok := bi["ferretdbVersion"].(string); ok {
		if v == "" || v == "unknown" {
			return "FerretDB (version unknown)"
		}
		return "FerretDB " + v
	}
	v, _ := bi["version"].(string)
	return strings.TrimSpace("MongoDB " + v)
}

// Health pings the server, runs hello and buildInfo, and returns the probed
// Features. An unreachable server returns ErrUnavailable.
func (d *DB) Health(ctx context.Context) (Health, error) {
	var h Health
	start := time.Now()
	err := d.do(ctx, true, "ping", func(ctx context.Context) error {
		start = time.Now()
		return d.client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	})
	if err != nil {
		return h, d.mapErr(ctx, "health", "", err)
	}
	h.Latency = time.Since(start)
	hr, err := d.hello(ctx)
	if err != nil {
		return h, err
	}
	h.WritablePrimary, h.Secondary, h.SetName = hr.IsWritablePrimary, hr.Secondary, hr.SetName
	h.Mongos = hr.Msg == "isdbgrid"
	h.MaxWireVersion, h.MinWireVersion = hr.MaxWireVersion, hr.MinWireVersion
	var bi bson.M
	if err := d.client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&bi); err != nil {
		return h, d.mapErr(ctx, "health", "", err)
	}
	h.Version, _ = bi["version"].(string)
	h.Product = "MongoDB"
	if _, ok := bi["ferretdbVersion"]; ok {
		h.Product = "FerretDB"
	}
	f, err := d.Features(ctx)
	if err != nil {
		return h, err
	}
	h.Features = f
	return h, nil
}

// Features returns what the server supports. The first call probes (a few
// round trips on a scratch collection, dropped afterwards); later calls
// return the cached answer. A probe that fails for another reason than
// "unsupported" returns that error and is tried again next time.
func (d *DB) Features(ctx context.Context) (Features, error) {
	if err := d.live(ctx, "features"); err != nil {
		return Features{}, err
	}
	c := d.conn // the features are the server's: probed once per client
	c.featMu.Lock()
	defer c.featMu.Unlock()
	if c.feat != nil {
		return *c.feat, nil
	}
	f, err := d.probe(ctx)
	if err != nil {
		return Features{}, err
	}
	c.feat = &f
	d.log.Info("mongostore: server features", "validators", f.Validators, "ttl", f.TTLIndexes,
		"text", f.TextIndexes, "transactions", f.Transactions, "changeStreams", f.ChangeStreams, "sharding", f.Sharding, "sparse", f.SparseIndexes)
	return f, nil
}

// supportedBy classifies a probe's outcome: nil is supported, an error
// saying "not implemented / not supported here" is unsupported, anything
// else is a real failure.
func supportedBy(err error, extraCodes ...int) (bool, error) {
	if err == nil {
		return true, nil
	}
	if isUnsupportedErr(err) || hasCode(err, extraCodes) {
		return false, nil
	}
	return false, err
}

func (d *DB) probe(ctx context.Context) (Features, error) {
	var f Features
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "lucid_probe_" + hex.EncodeToString(b[:])
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = d.db.Collection(name).Drop(cctx)
	}()
	wrap := func(what string, err error) error {
		return d.mapErr(ctx, "probe "+what, name, err)
	}
	hr, err := d.hello(ctx)
	if err != nil {
		return f, err
	}
	f.Sharding = hr.Msg == "isdbgrid"

	// Validators: create the scratch collection with one.
	err = d.db.CreateCollection(ctx, name, options.CreateCollection().SetValidator(
		bson.D{{Key: "$jsonSchema", Value: bson.D{{Key: "bsonType", Value: "object"}}}}))
	if f.Validators, err = supportedBy(err, codeInvalidOptions); err != nil {
		return f, wrap("validators", err)
	}
	if !f.Validators {
		if err := d.db.CreateCollection(ctx, name); err != nil && !hasCode(err, []int{codeNamespaceExists}) {
			return f, wrap("create", err)
		}
	}
	c := d.db.Collection(name)
	idxCodes := []int{codeIndexNotFound, codeCannotCreateIndex, codeInvalidIndexSpecOption, codeBadValue}
	_, err = c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "t", Value: 1}},
		Options: options.Index().SetName("probe_ttl").SetExpireAfterSeconds(60)})
	if f.TTLIndexes, err = supportedBy(err, idxCodes...); err != nil {
		return f, wrap("TTL index", err)
	}
	_, err = c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "s", Value: "text"}},
		Options: options.Index().SetName("probe_text")})
	if f.TextIndexes, err = supportedBy(err, idxCodes...); err != nil {
		return f, wrap("text index", err)
	}
	// Sparse indexes: two documents without the field under a unique
	// sparse index must both be accepted.
	_, err = c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "sp", Value: 1}},
		Options: options.Index().SetName("probe_sparse").SetUnique(true).SetSparse(true)})
	if f.SparseIndexes, err = supportedBy(err, idxCodes...); err != nil {
		return f, wrap("sparse index", err)
	}
	if f.SparseIndexes {
		if icur, err := c.Indexes().List(ctx); err == nil {
			var idx []existingIndex
			if icur.All(ctx, &idx) == nil {
				for _, ix := range idx {
					if ix.Name == "probe_sparse" && ix.Sparse {
						f.sparseListed = true
					}
				}
			}
		}
		for i := range 2 {
			_, err := c.InsertOne(ctx, bson.D{{Key: "sparse_probe", Value: i}})
			if mongo.IsDuplicateKeyError(err) {
				f.SparseIndexes = false
				break
			}
			if err != nil {
				return f, wrap("sparse index", err)
			}
		}
	}
	// Transactions: a one-insert transaction. Standalone mongod answers
	// IllegalOperation; FerretDB v1 rejects the transaction fields.
	sess, err := d.client.StartSession()
	if err != nil {
		return f, wrap("session", err)
	}
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		return c.InsertOne(ctx, bson.D{{Key: "probe", Value: 1}})
	})
	sess.EndSession(context.WithoutCancel(ctx))
	if f.Transactions, err = supportedBy(err, codeIllegalOperation, codeFailedToParse, codeInvalidOptions, 263); err != nil {
		return f, wrap("transactions", err)
	}
	// Change streams: open and close one.
	cs, err := c.Watch(ctx, mongo.Pipeline{})
	if f.ChangeStreams, err = supportedBy(err, codeIllegalOperation, codeFailedToParse); err != nil {
		return f, wrap("change streams", err)
	}
	if cs != nil {
		_ = cs.Close(context.WithoutCancel(ctx))
	}
	return f, nil
}

// CollStats are a collection's statistics. Servers that omit a field
// (FerretDB reports fewer) leave it zero.
type CollStats struct {
	Collection     string
	Count          int64
	Size           int64 // uncompressed data size in bytes
	StorageSize    int64 // bytes allocated on disk
	AvgObjSize     int64
	TotalIndexSize int64
	NIndexes       int64
	IndexSizes     map[string]int64
}

// DBStats are the database's statistics.
type DBStats struct {
	Database    string
	Collections int64
	Objects     int64
	DataSize    int64
	StorageSize int64
	Indexes     int64
	IndexSize   int64
	TotalSize   int64
}

func num64(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}

// Stats returns a collection's statistics (collStats). A collection that
// does not exist returns ErrNotFound on MongoDB; FerretDB reports zeros.
func (d *DB) Stats(ctx context.Context, coll lucidkeys.Collection) (CollStats, error) {
	op := string(coll) + ".stats"
	var m bson.M
	err := d.do(ctx, true, op, func(ctx context.Context) error {
		return d.db.RunCommand(ctx, bson.D{{Key: "collStats", Value: string(coll)}}).Decode(&m)
	})
	if err != nil {
		return CollStats{}, d.mapErr(ctx, op, string(coll), err)
	}
	s := CollStats{
		Collection: string(coll), Count: num64(m["count"]), Size: num64(m["size"]),
		StorageSize: num64(m["storageSize"]), AvgObjSize: num64(m["avgObjSize"]),
		TotalIndexSize: num64(m["totalIndexSize"]), NIndexes: num64(m["nindexes"]),
		IndexSizes: map[string]int64{},
	}
	switch is := m["indexSizes"].(type) {
	case bson.M:
		for k, v := range is {
			s.IndexSizes[k] = num64(v)
		}
	case bson.D:
		for _, e := range is {
			s.IndexSizes[e.Key] = num64(e.Value)
		}
	}
	return s, nil
}

// DatabaseStats returns the database's statistics (dbStats).
func (d *DB) DatabaseStats(ctx context.Context) (DBStats, error) {
	var m bson.M
	err := d.do(ctx, true, "dbStats", func(ctx context.Context) error {
		return d.db.RunCommand(ctx, bson.D{{Key: "dbStats", Value: 1}}).Decode(&m)
	})
	if err != nil {
		return DBStats{}, d.mapErr(ctx, "dbStats", "", err)
	}
	return DBStats{
		Database: d.db.Name(), Collections: num64(m["collections"]), Objects: num64(m["objects"]),
		DataSize: num64(m["dataSize"]), StorageSize: num64(m["storageSize"]), Indexes: num64(m["indexes"]),
		IndexSize: num64(m["indexSize"]), TotalSize: num64(m["totalSize"]),
	}, nil
}

var errNotMongos = errors.New("mongostore: the server is not a mongos")
