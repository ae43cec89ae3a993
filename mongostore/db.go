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
// with Connect and share it; it is safe for concurrent use. WithDatabase
// derives a DB for another database of the same client.
type DB struct {
	client *mongo.Client
	conn   *clientConn // shared by the DBs of one client
	owner  bool        // Connect returned this DB: its Close disconnects the client
	db     *mongo.Database
	cfg    Config
	schema *Schema
	log    *slog.Logger
	secret []string // strings that must never appear in errors

	closed atomic.Bool // a derived DB's Close: every later call on it is ErrClosed

	colls sync.Map // name -> *mongo.Collection, built once per name
}

// clientConn is what every DB of one client shares: the client's close
// state and the probed features, which are the server's, not a database's.
type clientConn struct {
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool // set when the owner's Close starts: every later call is ErrClosed

	featMu sync.Mutex
	feat   *Features
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
	d := &DB{cfg: cfg, log: cfg.Logger, schema: cfg.Schema, conn: &clientConn{}, owner: true}
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
	d.cfg.Database = dbName
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
//
// Only the DB that Connect returned owns the client. Closing it closes the
// client for the DBs WithDatabase derived from it too: their calls fail
// with ErrClosed from then on. Close on a derived DB leaves the client
// connected and the other DBs working; it marks that DB closed (its later
// calls are ErrClosed) and returns nil.
func (d *DB) Close(ctx context.Context) error {
	if !d.owner {
		d.closed.Store(true)
		return nil
	}
	c := d.conn
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if err := d.client.Disconnect(ctx); err != nil {
			c.closeErr = d.mapErr(ctx, "close", "", err)
		}
	})
	return c.closeErr
}

// WithDatabase returns a DB for the named database on d's client: no second
// connection pool, handshake or monitor. It has d's Config (but Database),
// logger, schema registry, retry policy, client-side validation, tracing
// and metrics (the client's monitors, so spans and measurements carry the
// new database's db.name), and shares d's probed Features, which are the
// server's. Nothing is sent to the server: the database springs into
// existence on its first write, as with the driver's Client.Database.
//
// It is how a service reaches a second database without a second Connect:
// a selective restore into a scratch database, a tenant's database, an
// archive. name follows MongoDB's rules for database names, as
// Config.Database does: not empty, at most 63 bytes, none of / \ . space "
// $ or NUL; otherwise the error wraps ErrInvalid. On a closed DB it is
// ErrClosed.
//
// The derived DB does not own the client (see Close): close it, or not,
// whenever convenient; closing the DB Connect returned ends both.
func (d *DB) WithDatabase(name string) (*DB, error) {
	if d.closed.Load() || d.conn.closed.Load() {
		return nil, &Error{Kind: ErrClosed, Op: "with database"}
	}
	if name == "" {
		return nil, invalidf("with database", "database name is empty")
	}
	if err := checkDatabaseName("with database", name); err != nil {
		return nil, err
	}
	cfg := d.cfg
	cfg.Database = name
	return &DB{client: d.client, conn: d.conn, db: d.client.Database(name), cfg: cfg,
		schema: d.schema, log: d.log, secret: d.secret}, nil
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
