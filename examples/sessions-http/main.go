// Command sessions-http is an HTTP server of login sessions on package cache:
// POST /login issues a bearer token (a cache.SessionStore session, stored
// only as its SHA-256), GET /me reads the session behind it, POST /logout
// ends it. Requests are rate-limited per client IP (every route but the
// probes) and per user (login attempts per user name, and the authenticated
// routes per user id) through cache.Middleware and a cache.Limiter, with the
// IETF RateLimit headers; /livez and /readyz come from a health.Aggregator;
// SIGINT or SIGTERM shut it down gracefully, letting requests in flight
// finish.
//
//	go run ./examples/sessions-http -addr 127.0.0.1:8080
//	curl -s -d '{"user":"ada","password":"lovelace"}' localhost:8080/login
//	curl -s -H "Authorization: Bearer $TOKEN" localhost:8080/me
//	curl -s -X POST -H "Authorization: Bearer $TOKEN" localhost:8080/logout
//
// With LUCID_REDIS_URL (or REDIS_URL) set it keeps sessions and limits in
// that Redis, so several replicas share them; otherwise in memory
// (cache.NewMemory). The demo account is ada / lovelace; -users replaces it
// with name:password pairs, comma-separated.
package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], os.Getenv, log, nil); err != nil {
		log.Error("sessions-http stopped", "err", err)
		os.Exit(1)
	}
}

// Limits is the rate-limit policy of a server.
type Limits struct {
	PerIP        int64         // requests per IP per Window, every route but the probes
	LoginPerUser int64         // login attempts per user name per Window
	PerUser      int64         // authenticated requests per user id per Window
	Window       time.Duration // the sliding window of every limit
}

// defaultLimits is the policy of the command.
var defaultLimits = Limits{PerIP: 120, LoginPerUser: 5, PerUser: 60, Window: time.Minute}

// Options configures a server.
type Options struct {
	// Users maps a user name to its password hash (see hashPassword).
	Users map[string]string
	// Limits is the rate-limit policy; zero fields take defaultLimits'.
	Limits Limits
	// LimitEntity is the limiter keys' entity segment, so programs sharing
	// a Redis keep apart; default "http".
	LimitEntity string
	// SessionTTL is a session's lifetime; default 15 minutes.
	SessionTTL time.Duration
	// Log receives one line per request (never a token or a password).
	Log *slog.Logger
}

// maxBody bounds a request body: a login is two short strings.
const maxBody = 4 << 10

// server holds the routes' dependencies.
type server struct {
	sessions cache.SessionStore
	limiter  cache.Limiter
	opts     Options
	dummy    string // a hash checked for unknown users, so timing does not tell them apart
}

// newHandler returns the server's routes on b, and the aggregator behind its
// probes.
func newHandler(b cache.Backend, o Options) (http.Handler, error) {
	if o.Limits.PerIP == 0 {
		o.Limits.PerIP = defaultLimits.PerIP
	}
	if o.Limits.LoginPerUser == 0 {
		o.Limits.LoginPerUser = defaultLimits.LoginPerUser
	}
	if o.Limits.PerUser == 0 {
		o.Limits.PerUser = defaultLimits.PerUser
	}
	if o.Limits.Window == 0 {
		o.Limits.Window = defaultLimits.Window
	}
	if o.LimitEntity == "" {
		o.LimitEntity = "http"
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 15 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sessions, err := b.Sessions(cache.SessionOptions{DefaultTTL: o.SessionTTL})
	if err != nil {
		return nil, err
	}
	// Sessions and limits hold state: refuse requests rather than admit
	// them unlimited when Redis is down.
	limiter, err := b.Limiter(cache.LimiterOptions{Entity: o.LimitEntity, FailurePolicy: cache.FailClosed, Logger: o.Log})
	if err != nil {
		return nil, err
	}
	dummy, err := hashPassword("not a password", nil)
	if err != nil {
		return nil, err
	}
	s := &server{sessions: sessions, limiter: limiter, opts: o, dummy: dummy}

	perIP, err := cache.Middleware(limiter, cache.MiddlewareOptions{
		Limit: o.Limits.PerIP, Window: o.Limits.Window, Logger: o.Log,
		Key: func(r *http.Request) (string, error) {
			k, err := cache.RemoteIPKey(r)
			return "ip:" + k, err
		},
	})
	if err != nil {
		return nil, err
	}
	perUser, err := cache.Middleware(limiter, cache.MiddlewareOptions{
		Limit: o.Limits.PerUser, Window: o.Limits.Window, Logger: o.Log,
		Key: func(r *http.Request) (string, error) {
			return "user:" + cache.UserKey(sessionOf(r).UserID), nil
		},
	})
	if err != nil {
		return nil, err
	}

	agg := health.NewAggregator(health.Options{Logger: o.Log})
	if err := agg.Register("sessions", b, health.CheckOptions{}); err != nil {
		return nil, err
	}

	api := http.NewServeMux()
	api.HandleFunc("POST /login", s.login)
	api.Handle("POST /logout", s.auth(perUser(http.HandlerFunc(s.logout))))
	api.Handle("GET /me", s.auth(perUser(http.HandlerFunc(s.me))))

	mux := http.NewServeMux()
	mux.Handle("GET /livez", agg.LiveHandler())
	mux.Handle("GET /readyz", agg.ReadyHandler())
	mux.Handle("/", perIP(api))
	return s.logRequests(jsonErrors(mux)), nil
}

// jsonErrors turns the plain-text errors of the standard library and of
// cache.Middleware (404, 405, 429, 503) into this server's JSON errors, so
// every error a client sees has one shape.
func jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&jsonErrorWriter{ResponseWriter: w}, r)
	})
}

type jsonErrorWriter struct {
	http.ResponseWriter
	swallow bool
}

func (w *jsonErrorWriter) WriteHeader(code int) {
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.swallow = true
		writeError(w.ResponseWriter, code, strings.ToLower(http.StatusText(code)))
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

type ctxKey struct{}

func sessionOf(r *http.Request) cache.Session {
	s, _ := r.Context().Value(ctxKey{}).(cache.Session)
	return s
}

// auth admits requests bearing a live session's token and puts the session
// in their context.
func (s *server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lucid"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		sess, err := s.sessions.Get(r.Context(), tok)
		if k := errkind.Of(err); k == errkind.NotFound || k == errkind.InvalidArgument {
			// A malformed token is as unknown as an expired one.
			writeError(w, http.StatusUnauthorized, "invalid or expired token")
			return
		}
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)))
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Token     string    `json:"token,omitempty"`
	SessionID string    `json:"session_id"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		writeError(w, http.StatusBadRequest, "body must be a JSON object {\"user\", \"password\"}")
		return
	}
	if req.User == "" || req.Password == "" || len(req.User) > 64 || strings.ContainsAny(req.User, " \t\r\n{}") {
		writeError(w, http.StatusBadRequest, "user and password are required; a user name is at most 64 characters without spaces or braces")
		return
	}
	// Per-user limit of attempts, whoever makes them: guessing one
	// account's password from many addresses stays slow.
	res, err := s.limiter.Allow(r.Context(), "login:"+cache.UserKey(req.User), s.opts.Limits.LoginPerUser, s.opts.Limits.Window)
	if err != nil || !res.Allowed {
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		w.Header().Set("Retry-After", fmt.Sprint(int64((res.RetryAfter+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, "too many login attempts for this user")
		return
	}
	hash, known := s.opts.Users[req.User]
	if !known {
		hash = s.dummy
	}
	if !checkPassword(hash, req.Password) || !known {
		writeError(w, http.StatusUnauthorized, "wrong user or password")
		return
	}
	sess, err := s.sessions.Create(r.Context(), req.User, map[string]string{"ua": truncate(r.UserAgent(), 128)}, 0)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, sessionResponse{Token: sess.Token, SessionID: sess.ID, UserID: sess.UserID, CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt})
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	tok, _ := bearer(r)
	if err := s.sessions.Delete(r.Context(), tok); err != nil {
		s.fail(w, r, err, "invalid or expired token")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) me(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	writeJSON(w, http.StatusOK, sessionResponse{SessionID: sess.ID, UserID: sess.UserID, CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt})
}

// fail answers an error of the cache by its kind: a missing session is 401
// (notFound is the message), Redis down 503, bad input 400.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error, notFound string) {
	switch errkind.Of(err) {
	case errkind.NotFound:
		if notFound != "" {
			writeError(w, http.StatusUnauthorized, notFound)
			return
		}
	case errkind.InvalidArgument:
		writeError(w, http.StatusBadRequest, "invalid request")
		return
	case errkind.Canceled, errkind.DeadlineExceeded:
		return // the client is gone
	case errkind.Unavailable, errkind.Closed:
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "session store unavailable")
		s.opts.Log.Warn("session store unavailable", "path", r.URL.Path, "err", err)
		return
	}
	writeError(w, http.StatusInternalServerError, "internal error")
	s.opts.Log.Error("request failed", "path", r.URL.Path, "err", err)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logRequests logs method, path, status and duration: never headers or
// bodies, which hold tokens and passwords.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		s.opts.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(t), "remote", r.RemoteAddr)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// pbkdfIter is the PBKDF2-SHA256 cost (OWASP's 2023 figure is 600,000;
// lower here so a Raspberry Pi answers a login quickly; use argon2id or the
// full cost in a service).
const pbkdfIter = 100_000

// hashPassword returns "pbkdf2-sha256$iter$salt$key"; a nil salt is drawn
// at random.
func hashPassword(password string, salt []byte) (string, error) {
	if salt == nil {
		salt = make([]byte, 16)
		rand.Read(salt)
	}
	k, err := pbkdf2.Key(sha256.New, password, salt, pbkdfIter, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pbkdf2-sha256$%d$%x$%x", pbkdfIter, salt, k), nil
}

func checkPassword(stored, password string) bool {
	f := strings.Split(stored, "$")
	if len(f) != 4 {
		return false
	}
	var salt []byte
	if _, err := fmt.Sscanf(f[2], "%x", &salt); err != nil {
		return false
	}
	h, err := hashPassword(password, salt)
	return err == nil && subtle.ConstantTimeCompare([]byte(h), []byte(stored)) == 1
}

// parseUsers reads "name:password,name:password" into hashed entries.
func parseUsers(s string) (map[string]string, error) {
	users := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		name, pw, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || name == "" || pw == "" {
			return nil, errors.New("-users wants name:password pairs separated by commas")
		}
		h, err := hashPassword(pw, nil)
		if err != nil {
			return nil, err
		}
		users[name] = h
	}
	return users, nil
}

// run serves until ctx is done or the process gets SIGINT or SIGTERM, then
// shuts down gracefully. ready, if set, is told the listening address.
func run(ctx context.Context, args []string, getenv func(string) string, log *slog.Logger, ready func(addr string)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("sessions-http", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	usersFlag := fs.String("users", "ada:lovelace", "accounts as name:password pairs, comma-separated")
	grace := fs.Duration("shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish on shutdown")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return err
	}
	users, err := parseUsers(*usersFlag)
	if err != nil {
		return err
	}

	var b cache.Backend
	url := getenv(cache.EnvURL)
	if url == "" {
		url = getenv(cache.EnvURLFallback)
	}
	if url != "" {
		c, err := cache.Connect(ctx, cache.Config{URL: url, Logger: log})
		if err != nil {
			return err
		}
		b = c
		log.Info("sessions in Redis", "from", cache.EnvURL)
	} else {
		b = cache.NewMemory()
		log.Info("sessions in memory; set " + cache.EnvURL + " to keep them in Redis")
	}
	defer b.Close()

	h, err := newHandler(b, Options{Users: users, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", *grace)
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
