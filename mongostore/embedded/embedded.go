package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ErrClosed is returned by Start when ctx is done before the server listens.
var ErrClosed = errors.New("embedded: server closed")

// Config configures an embedded server. The zero value is valid: a private
// temporary data directory (removed on Close) and a free loopback port.
type Config struct {
	// Dir is the SQLite data directory. Data persists there across restarts.
	// Empty means a new temporary directory that Close removes.
	Dir string
	// Addr is the TCP listen address. Empty means "127.0.0.1:0" (a free port).
	// Reusing an earlier server's Addr and Dir restarts "the same" server,
	// which is what fault tests need.
	Addr string
	// Logger receives FerretDB's logs. Nil discards them; nothing is
	// written to stderr. FerretDB's per-connection wire logging, which
	// reports every error reply (a feature probe of mongostore, the
	// driver's endSessions) at WARN, comes at DEBUG, without the message
	// dumps: they hold document bodies. SQL statements come without their
	// arguments, for the same reason. Listener, connection and backend
	// records keep FerretDB's level.
	Logger *slog.Logger
	// FullSync makes every write wait for its fsync (SQLite
	// synchronous=FULL). By default SQLite runs in WAL mode with
	// synchronous=NORMAL: a crash of the process loses nothing and the data
	// never corrupts, but a power cut may lose the writes since the last
	// checkpoint — the bargain mongod makes by default too (its journal is
	// flushed every 100 ms). NORMAL writes about 1.5x faster here and
	// spares an SD card an fsync per write; set FullSync when a write
	// acknowledged must survive a power cut.
	FullSync bool
}

// Server is a running in-process MongoDB-wire server backed by FerretDB v1
// and SQLite. It speaks the MongoDB wire protocol on a loopback TCP port, so
// any MongoDB driver (mongostore included) connects to URI().
//
// FerretDB lacks some MongoDB features (validators, TTL and text indexes,
// transactions, change streams); mongostore probes for them rather than
// assuming.
type Server struct {
	uri     string
	addr    string
	dir     string
	tempDir bool
	cancel  context.CancelFunc
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Start starts a server and returns once it accepts connections. The server
// runs until Close; ctx only bounds the start-up.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClosed, err)
	}
	logger := slog.New(slog.DiscardHandler)
	if cfg.Logger != nil {
		logger = slog.New(&ferretHandler{next: cfg.Logger.Handler()})
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s := &Server{dir: cfg.Dir, done: make(chan struct{})}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "lucid-ferretdb-")
		if err != nil {
			return nil, fmt.Errorf("embedded: data directory: %w", err)
		}
		s.dir, s.tempDir = d, true
	} else if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded: data directory: %w", err)
	}
	// FerretDB v1.24.2 leaks its backend when its listener cannot bind (New
	// returns without closing it, and in race/debug builds the backend's
	// finalizer then panics the process). So a fixed address is bound once
	// here first, and a busy one fails before FerretDB is involved.
	if addr != "127.0.0.1:0" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.removeTemp()
			return nil, fmt.Errorf("embedded: listen on %s: %w", addr, err)
		}
		_ = ln.Close()
	}
	// FerretDB's SQLite backend wants a file: URL naming a directory with a
	// trailing slash; each database becomes one SQLite file inside it.
	dirURL := "file:" + filepath.ToSlash(s.dir) + "/?_pragma=synchronous(normal)"
	if cfg.FullSync {
		dirURL = "file:" + filepath.ToSlash(s.dir) + "/?_pragma=synchronous(full)"
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: dirURL,
	})
	if err != nil {
		s.removeTemp()
		return nil, fmt.Errorf("embedded: start FerretDB on %s: %w", addr, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		_ = f.Run(runCtx)
	}()
	s.uri = f.MongoDBURI()
	s.addr = hostFromURI(s.uri)

	// Wait until the listener accepts connections, bounded by ctx.
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", s.addr)
		if err == nil {
			_ = c.Close()
			return s, nil
		}
		if ctx.Err() != nil {
			_ = s.Close()
			return nil, fmt.Errorf("%w: %w", ErrClosed, ctx.Err())
		}
	}
}

func hostFromURI(uri string) string {
	// uri is mongodb://host:port/
	const p = "mongodb://"
	h := uri[len(p):]
	for i := 0; i < len(h); i++ {
		if h[i] == '/' {
			return h[:i]
		}
	}
	return h
}

// URI returns the MongoDB connection string, e.g. "mongodb://127.0.0.1:40123/".
func (s *Server) URI() string { return s.uri }

// Addr returns the host:port the server listens on. Pass it as Config.Addr
// (with the same Dir) to start the server again after Close.
func (s *Server) Addr() string { return s.addr }

// Dir returns the SQLite data directory.
func (s *Server) Dir() string { return s.dir }

// Close stops the server, closing client connections, and waits for it to
// exit. A temporary data directory is removed. Close is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.done
		s.closeErr = s.removeTemp()
	})
	return s.closeErr
}

func (s *Server) removeTemp() error {
	if !s.tempDir {
		return nil
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("embedded: remove data directory: %w", err)
	}
	return nil
}

var _ io.Closer = (*Server)(nil)

// FerretDBVersion returns the version of the FerretDB module linked into this
// binary (e.g. "v1.24.2"), read from the build info because embedded builds
// carry no version stamp of their own.
func FerretDBVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/FerretDB/FerretDB" {
			return d.Version
		}
	}
	return "unknown"
}
