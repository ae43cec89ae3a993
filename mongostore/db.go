package mongostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// DB is the MongoDB store: a connected client, one database, the schema
// registry and the probed server features. It implements Store. Create one
// with Connect and share it; it is safe for concurrent use.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
	cfg    Config
	schema *Schema
	log    *slog.Logger
	secret []string // strings that must never appear in errors

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool // set when Close starts: every later call is ErrClosed

	featMu sync.Mutex
	feat   *Features

	colls sync.Map // name -> *mongo.Collection, built once per name
}

// coll returns the driver's handle of the named collection. Handles are
// safe for concurrent use and cost a dozen allocations to build, so the
// schema's collections get theirs once; other names (bounded by nothing
// the SDK controls) get a fresh one each time.
func (d *DB) coll(name string) *mongo.Collection {
	if c, ok := d.colls.Load(name); ok {
		return c.(*mongo.Collection)
	}
	c := d.db.Collection(name)
	if _, known := d.schema.Collection(lucidkeys.Collection(name)); known {
		d.colls.Store(name, c)
	}
	return c
}

var _ Store = (*DB)(nil)

// Connect builds a client from cfg and verifies the server answers a ping
// within ctx; on failure the client is disconnected again and the error
// wraps ErrUnavailable (server not reachable) or ErrInvalid (bad Config).
func Connect(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.URI == "" {
		cfg.URI = DefaultURI
	}
	d := &DB{cfg: cfg, log: cfg.Logger, schema: cfg.Schema}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.schema == nil {
		d.schema = LucidSchema()
	}
	switch cfg.ValidationLevel {
	case "", "strict", "moderate":
	default:
		return nil, invalidf("connect", "validation level %q: want strict or moderate", cfg.ValidationLevel)
	}
	d.secret = secretsOf(cfg)
	opts, dbName, err := d.clientOptions()
	if err != nil {
		return nil, err
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, d.mapErr(ctx, "connect", "", err)
	}
	d.client = client
	d.db = client.Database(dbName)
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		err = d.mapErr(ctx, "connect", "", err)
		if ctx.Err() == nil && !errors.Is(err, ErrUnavailable) {
			err = &Error{Kind: ErrUnavailable, Op: "connect", Err: err}
		}
		return nil, err
	}
	d.log.Info("mongostore: connected", "uri", RedactURI(cfg.URI), "database", dbName)
	return d, nil
}

// Close disconnects the client, waiting within ctx for operations in
// flight to return their connections (then closing them anyway). It is
// idempotent: later calls return the first call's result. Every other call
// after Close fails with ErrClosed (kind errkind.Closed), Check reports
// Down. Close takes a ctx, unlike io.Closer, because the driver's
// disconnect waits for connections in use and only ctx bounds that wait.
func (d *DB) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		d.closed.Store(true)
		if err := d.client.Disconnect(ctx); err != nil {
			d.closeErr = d.mapErr(ctx, "close", "", err)
		}
	})
	return d.closeErr
}

// Client returns the driver's client: the escape hatch for anything this
// package does not wrap.
func (d *DB) Client() *mongo.Client { return d.client }

// Database returns the driver's handle of the configured database.
func (d *DB) Database() *mongo.Database { return d.db }

// Collection returns the driver's handle of a collection of the database.
func (d *DB) Collection(name lucidkeys.Collection) *mongo.Collection {
	return d.coll(string(name))
}

// Schema returns the schema registry used for validation and EnsureSchema.
func (d *DB) Schema() *Schema { return d.schema }

func (d *DB) String() string {
	return fmt.Sprintf("mongostore.DB(%s/%s)", RedactURI(d.cfg.URI), d.db.Name())
}
