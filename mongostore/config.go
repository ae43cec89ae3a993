package mongostore

import (
	"crypto/tls"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Defaults used for zero Config fields.
const (
	DefaultURI                    = "mongodb://127.0.0.1:27017/"
	DefaultDatabase               = "lucid"
	DefaultAppName                = "lucid-data"
	DefaultConnectTimeout         = 10 * time.Second
	DefaultServerSelectionTimeout = 10 * time.Second
	DefaultRetryAttempts          = 3
	DefaultRetryBaseDelay         = 50 * time.Millisecond
	DefaultRetryMaxDelay          = 2 * time.Second
)

// Config configures Connect. The zero value connects to DefaultURI, database
// DefaultDatabase, with the driver's pool (max 100), retryable reads and
// writes on, primary read preference, the server's default write concern and
// client-side validation against the Lucid schema.
type Config struct {
	// URI is a MongoDB connection string. Credentials may be given here or
	// in Username/Password; either way they never appear in logs or errors.
	URI string
	// Database is the database name. Empty: the URI's path, else DefaultDatabase.
	Database string
	// AppName is sent to the server in the handshake (visible in its logs
	// and currentOp). Empty: DefaultAppName.
	AppName string

	// MaxPoolSize and MinPoolSize bound connections per server. 0: the
	// driver's defaults (100 and 0).
	MaxPoolSize uint64
	MinPoolSize uint64
	// MaxConnIdleTime closes idle pooled connections after this long. 0: never.
	MaxConnIdleTime time.Duration

	// ConnectTimeout bounds establishing one connection (DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// ServerSelectionTimeout bounds finding a suitable server for an
	// operation; when it passes the operation fails with ErrUnavailable
	// (DefaultServerSelectionTimeout).
	ServerSelectionTimeout time.Duration
	// Timeout, when set, bounds every operation (the driver's client-side
	// operation timeout) in addition to the ctx deadline.
	Timeout time.Duration

	// DisableRetryReads and DisableRetryWrites turn off the driver's single
	// built-in retry (on by default; retryable writes need a replica set or
	// mongos and are ignored by standalone servers).
	DisableRetryReads  bool
	DisableRetryWrites bool

	// TLS, when non-nil, enables TLS with this configuration.
	TLS *tls.Config
	// Username and Password authenticate (overriding the URI's). AuthSource
	// defaults to "admin"; AuthMechanism to the server's negotiation
	// (SCRAM-SHA-256 / SCRAM-SHA-1).
	Username      string
	Password      string
	AuthSource    string
	AuthMechanism string

	// ReadPreference is "primary" (default), "primaryPreferred",
	// "secondary", "secondaryPreferred" or "nearest".
	ReadPreference string
	// WriteConcern is "" (server default), "majority", or a number of
	// members ("1", "2", ...). Journal adds j:true.
	WriteConcern string
	Journal      bool

	// ReplicaSet names the replica set to require; Direct connects to the
	// single host of the URI without discovering the topology.
	ReplicaSet string
	Direct     bool

	// Retry is the SDK's retry of transient errors for idempotent
	// operations (reads, and writes whose ctx is marked with Idempotent).
	Retry RetryPolicy

	// Schema validates documents client-side before writes; nil means
	// LucidSchema(). Set SkipValidation to write without client-side checks.
	Schema         *Schema
	SkipValidation bool

	// ValidationLevel is the server validators' level EnsureSchema sets:
	// "strict" (every insert and update is checked) or "moderate" (updates
	// of documents that already fail the validator are not checked, so
	// documents written before the validator existed stay readable and
	// updatable). Empty means strict for collections EnsureSchema creates
	// and the existing level, whatever it is, for collections it adopts;
	// a value set here is applied to every registry collection (collMod).
	// Client-side validation is the same at either level: it checks what
	// the SDK writes, not what is stored.
	ValidationLevel string

	// Logger receives connection and schema events. Nil discards them.
	Logger *slog.Logger
	// TracerProvider, when set, traces every command the driver sends
	// (through its event.CommandMonitor) as a client span named
	// "<command> <collection>" with db.system=mongodb, db.name,
	// db.operation, db.mongodb.collection, server.address and server.port;
	// a failure carries the SDK's error kind (lucid.error.kind, error.type,
	// the status description). Documents, filters, replies and server
	// messages are never recorded. Nil, or OpenTelemetry's
	// noop.TracerProvider (which never records a span): no monitor, no cost.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, measures the driver's commands and pools:
	// lucid.mongo.command.duration (histogram, seconds, by db.operation),
	// lucid.mongo.command.errors (by db.operation and lucid.error.kind),
	// lucid.mongo.pool.connections and lucid.mongo.pool.connections.in_use
	// (up-down counters by server.address; idle = the difference) and
	// lucid.mongo.pool.checkouts (by server.address and result: ok,
	// timeout, pool_closed, connection_error). Nil, or OpenTelemetry's
	// metric noop.MeterProvider: no monitor, no cost.
	MeterProvider metric.MeterProvider
}

func (d *DB) clientOptions() (*options.ClientOptions, string, error) {
	cfg := d.cfg
	u, err := url.Parse(cfg.URI)
	if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
		return nil, "", invalidf("connect", "URI %q is not a mongodb:// or mongodb+srv:// URL", RedactURI(cfg.URI))
	}
	dbName := cfg.Database
	if dbName == "" {
		dbName = strings.TrimPrefix(u.Path, "/")
	}
	if dbName == "" {
		dbName = DefaultDatabase
	}
	if err := checkDatabaseName("connect", dbName); err != nil {
		return nil, "", err
	}
	o := options.Client().ApplyURI(cfg.URI)
	app := cfg.AppName
	if app == "" {
		app = DefaultAppName
	}
	o.SetAppName(app)
	if cfg.MaxPoolSize > 0 {
		o.SetMaxPoolSize(cfg.MaxPoolSize)
	}
	if cfg.MinPoolSize > 0 {
		o.SetMinPoolSize(cfg.MinPoolSize)
	}
	if cfg.MaxConnIdleTime > 0 {
		o.SetMaxConnIdleTime(cfg.MaxConnIdleTime)
	}
	o.SetConnectTimeout(orDur(cfg.ConnectTimeout, DefaultConnectTimeout))
	o.SetServerSelectionTimeout(orDur(cfg.ServerSelectionTimeout, DefaultServerSelectionTimeout))
	if cfg.Timeout > 0 {
		o.SetTimeout(cfg.Timeout)
	}
	o.SetRetryReads(!cfg.DisableRetryReads)
	o.SetRetryWrites(!cfg.DisableRetryWrites)
	if cfg.TLS != nil {
		o.SetTLSConfig(cfg.TLS)
	}
	if cfg.Username != "" || cfg.AuthMechanism != "" {
		cred := options.Credential{
			Username:      cfg.Username,
			Password:      cfg.Password,
			PasswordSet:   cfg.Password != "",
			AuthSource:    cfg.AuthSource,
			AuthMechanism: cfg.AuthMechanism,
		}
		if cred.AuthSource == "" {
			cred.AuthSource = "admin"
		}
		o.SetAuth(cred)
	}
	if cfg.ReadPreference != "" {
		mode, err := readpref.ModeFromString(cfg.ReadPreference)
		if err != nil {
			return nil, "", invalidf("connect", "read preference %q: want primary, primaryPreferred, secondary, secondaryPreferred or nearest", cfg.ReadPreference)
		}
		rp, err := readpref.New(mode)
		if err != nil {
			return nil, "", invalidf("connect", "read preference %q: %v", cfg.ReadPreference, err)
		}
		o.SetReadPreference(rp)
	}
	if cfg.WriteConcern != "" || cfg.Journal {
		wc := &writeconcern.WriteConcern{}
		switch {
		case cfg.WriteConcern == "majority":
			wc.W = "majority"
		case cfg.WriteConcern != "":
			n, err := strconv.Atoi(cfg.WriteConcern)
			if err != nil || n < 0 {
				return nil, "", invalidf("connect", "write concern %q: want \"majority\" or a member count", cfg.WriteConcern)
			}
			wc.W = n
		}
		if cfg.Journal {
			j := true
			wc.Journal = &j
		}
		o.SetWriteConcern(wc)
	}
	if cfg.ReplicaSet != "" {
		o.SetReplicaSet(cfg.ReplicaSet)
	}
	if cfg.Direct {
		o.SetDirect(true)
	}
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if _, ok := tp.(noop.TracerProvider); ok {
		tp = nil // never records a span: no monitor needed
	}
	if _, ok := mp.(metricnoop.MeterProvider); ok {
		mp = nil // never measures: no monitor needed
	}
	if tp != nil || mp != nil {
		var m *mongoMeters
		if mp != nil {
			var err error
			if m, err = newMongoMeters(mp); err != nil {
				return nil, "", err
			}
			o.SetPoolMonitor(m.poolMonitor())
		}
		o.SetMonitor(newCommandTracer(d, tp, m).monitor())
	}
	if err := o.Validate(); err != nil {
		return nil, "", &Error{Kind: ErrInvalid, Op: "connect", Err: d.redactErr(err)}
	}
	return o, dbName, nil
}

// checkDatabaseName applies MongoDB's rules for database names (the
// characters no platform's mongod accepts, and its 64-byte limit less the
// terminator), so a bad name is ErrInvalid before anything is sent.
func checkDatabaseName(op, name string) error {
	if strings.ContainsAny(name, "/\\. \"$\x00") || len(name) > 63 {
		return invalidf(op, "database name %q: must not contain /\\. \"$ or NUL and must be at most 63 bytes", name)
	}
	return nil
}

func orDur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// secretsOf lists the credentials in cfg that errors must not show.
func secretsOf(cfg Config) []string {
	var s []string
	if cfg.Password != "" {
		s = append(s, cfg.Password, url.QueryEscape(cfg.Password), url.PathEscape(cfg.Password))
	}
	if u, err := url.Parse(cfg.URI); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			s = append(s, p, url.QueryEscape(p), url.PathEscape(p))
		}
		s = append(s, u.User.String())
	}
	return s
}

// redactErr returns err with any credential removed from its message; the
// original stays reachable through Unwrap.
func (d *DB) redactErr(err error) error {
	if err == nil || len(d.secret) == 0 {
		return err
	}
	msg := err.Error()
	red := msg
	for _, s := range d.secret {
		if s != "" {
			red = strings.ReplaceAll(red, s, "***")
		}
	}
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

// RedactURI returns uri with its password replaced by "***", for logs.
func RedactURI(uri string) string {
	i := strings.Index(uri, "://")
	if i < 0 {
		return uri
	}
	rest := uri[i+3:]
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return uri
	}
	user := rest[:at]
	if c := strings.Index(user, ":"); c >= 0 {
		user = user[:c] + ":***"
	}
	return uri[:i+3] + user + rest[at:]
}
