package search

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HamiGames/lucid-data/internal/backoff"
	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Product is the search engine behind a Client.
type Product string

// Engines the SDK speaks to.
const (
	ProductElasticsearch Product = "elasticsearch"
	ProductOpenSearch    Product = "opensearch"
)

// Defaults used when the corresponding Config field is zero.
const (
	DefaultAddress        = "http://127.0.0.1:9200"
	DefaultMaxRetries     = 3
	DefaultRequestTimeout = 30 * time.Second
	DefaultRetryBackoff   = 100 * time.Millisecond
	DefaultMaxBackoff     = 5 * time.Second
)

// Config configures Connect; FromEnv fills one from the environment. The
// zero value connects to DefaultAddress without authentication, retries
// 429/502/503/504 and connection errors DefaultMaxRetries times with
// exponential backoff and full jitter, and bounds each request by
// DefaultRequestTimeout.
type Config struct {
	// Addresses are the node URLs, e.g. "https://es1:9200".
	Addresses []string
	// Username and Password for HTTP basic authentication. Never logged.
	Username string
	Password string
	// APIKey is a base64 "id:key" API key; it takes precedence over basic
	// authentication. Never logged.
	APIKey string
	// TLS configures HTTPS (client certificates, roots, ServerName).
	TLS *tls.Config
	// CACert is a PEM bundle of the roots to trust, an alternative to
	// TLS.RootCAs (it replaces them and the system's, as elastictransport
	// does).
	CACert []byte
	// MaxRetries is the number of retries of a request after a retryable
	// status or a connection error; negative disables retries.
	MaxRetries int
	// RetryOnStatus lists the retried HTTP statuses; nil means 429, 502,
	// 503 and 504.
	RetryOnStatus []int
	// RetryBackoff and MaxBackoff are the retry policy's first and largest
	// wait (internal/backoff's Policy Min and Max): the wait before retry n
	// is drawn uniformly from (0, min(MaxBackoff, RetryBackoff·2ⁿ⁻¹)] (full
	// jitter), and never outlasts the caller's ctx. Defaults
	// DefaultRetryBackoff and DefaultMaxBackoff.
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// RequestTimeout bounds each request (including its retries) unless
	// the caller's ctx is shorter; negative means no SDK timeout. A request
	// cut by it is ErrUnavailable; one cut by the caller's ctx is the ctx
	// error.
	RequestTimeout time.Duration
	// IndexPrefix is prepended to every index, alias, template and policy
	// name the SDK builds ("tenant1-" gives "tenant1-lucid-sessions-2026.11"),
	// so several tenants or tests share one cluster. It must itself be a
	// valid start of an index name; empty means none.
	IndexPrefix string
	// Clock returns the current time for monthly rollover and lifecycle
	// ages; nil means time.Now.
	Clock func() time.Time
	// Shards and Replicas of the monthly indices; zero means 1 shard and 0
	// replicas (right for a single node such as a Raspberry Pi).
	Shards   int
	Replicas int
	// SDKLifecycle makes ApplyLifecycle run the SDK's own lifecycle runner
	// even when the engine has ILM or ISM (whose ages count from index
	// creation rather than from the end of the index's month).
	SDKLifecycle bool
	// Transport replaces the HTTP round tripper (proxies, tests); TLS is
	// then ignored, and with MeterProvider its connections are seen only
	// through each round trip (no idle count: see MeterProvider). With
	// CACert it must be an *http.Transport, which is cloned.
	Transport http.RoundTripper
	// Logger receives every line the transport logs: one record per round
	// trip (method, path, status, duration and the transport error; never
	// credentials, headers, query strings or bodies), at WARN for a round
	// trip that got no answer or a 429 or 5xx, at DEBUG otherwise, plus the
	// SDK's own DEBUG lines. Nothing is written to stderr. Nil discards.
	Logger *slog.Logger
	// TracerProvider, when set, traces every request the SDK sends as one
	// client span (its retries included) named "<operation> <index>", e.g.
	// "search lucid-sessions-*", "bulk lucid-blocks-2026.11": db.system
	// (elasticsearch or opensearch), db.operation (the SDK operation the
	// errors name: "search", "bulk", "index", "get", "create index", ...),
	// db.elasticsearch.path_parts.index (the index, alias, pattern or
	// comma list of the call; db.elasticsearch.path_parts.name for a
	// template or policy), server.address and server.port of the node the
	// last attempt went to. A failure carries the SDK's error kind
	// (lucid.error.kind, error.type, the status description); Connect's
	// capability probes and IndexExists's 404 are answers, not failures. Query
	// bodies, documents, URLs with their query strings and the engine's
	// messages are never recorded. Requests sent through Transport() are
	// not traced. Nil, or OpenTelemetry's noop.TracerProvider (which never
	// records a span): no span, no cost.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, measures the requests the SDK sends:
	// lucid.search.request.duration (histogram, seconds, by db.operation,
	// retries included) and lucid.search.request.errors (by db.operation
	// and lucid.error.kind of the error the call returns; Connect's
	// capability probes and IndexExists's 404 are answers, not errors);
	// and its BulkIndexers' items:
	// lucid.search.bulk.queued (accepted by Add), lucid.search.bulk.indexed,
	// lucid.search.bulk.retried (re-sends) and lucid.search.bulk.failed
	// (settled with OnFailure), summed over the Client's indexers.
	//
	// It also measures the HTTP transport's connection pool, which
	// elastictransport does not expose, per node under OpenTelemetry's
	// database client names: db.client.connection.count (by
	// db.client.connection.state: used, the round trips holding a
	// connection; idle, open connections no round trip holds),
	// db.client.connection.wait_time (histogram, seconds from asking the
	// transport for a connection to getting one, a dial included),
	// db.client.connection.timeouts (round trips whose wait for a
	// connection ended by a timeout: the dial's, or the request's deadline;
	// not a caller's cancellation) and lucid.search.pool.waits (round trips
	// that found no idle connection and got a newly dialled one), each with
	// db.client.connection.pool.name ("host:port" of the node),
	// server.address and server.port. Every round trip counts, retries and
	// Transport()'s requests included. The idle count needs the dialer
	// Connect installs in its own transport: with Config.Transport only the
	// used count, the wait time, the waits and the timeouts are reported.
	// Over HTTP/2 (which neither engine speaks by default) used counts
	// round trips, not connections. After Close the counts are no longer
	// reported.
	//
	// Nil, or OpenTelemetry's metric noop.MeterProvider: no instrument, no
	// hook in the transport, no cost.
	MeterProvider metric.MeterProvider
}

// Client talks to one Elasticsearch 8 or OpenSearch 2/3 cluster. It is safe
// for concurrent use. Create it with Connect and release it with Close;
// every call after Close fails with ErrClosed.
type Client struct {
	cfg     Config
	retry   backoff.Policy
	closed  atomic.Bool
	tr      esapi.Transport // plain behind the closed guard
	plain   *elastictransport.Client
	ownRT   *http.Transport // created by Connect, closed by Close
	product Product
	version string
	major   int
	minor   int
	ilm     bool
	ism     bool
	log     *slog.Logger
	now     func() time.Time
	obs     *observer // nil without Config.TracerProvider and MeterProvider
	secrets []string  // credentials never to be logged

	mu      sync.Mutex
	known   map[string]bool   // monthly indices known to exist
	writeTo map[string]string // entity -> index the write alias points at
}

var (
	_ Searcher      = (*Client)(nil)
	_ DocumentStore = (*Client)(nil)
)

// Searcher is the read side of the search layer.
type Searcher interface {
	Search(ctx context.Context, index string, req SearchRequest) (*SearchResult, error)
	FullTextSearch(ctx context.Context, index, text string, fields []string) (*SearchResult, error)
	SearchSessions(ctx context.Context, userID string, f SessionFilter) (*SearchResult, error)
	SearchBlocks(ctx context.Context, r TimeRange, f BlockFilter) (*SearchResult, error)
}

// DocumentStore is the single-document side of the search layer.
type DocumentStore interface {
	Index(ctx context.Context, index, id string, doc any, o *WriteOptions) (*WriteResult, error)
	Get(ctx context.Context, index, id string, dst any) (*Document, error)
	Update(ctx context.Context, index, id string, partial any, o *WriteOptions) (*WriteResult, error)
	Delete(ctx context.Context, index, id string, o *WriteOptions) (*WriteResult, error)
}

// Connect builds a client, asks GET / which product and version answer and
// probes the lifecycle plugins:
//
//	cfg, err := search.FromEnv() // LUCID_SEARCH_URL, ...
//	if err != nil { ... }
//	c, err := search.Connect(ctx, cfg)
//	if err != nil { ... }
//	defer c.Close()
//
// Both engines are spoken to with esapi Both engines are spoken to with esapi
// requests over one elastictransport client, without Elasticsearch's
// compatibility media type (which OpenSearch rejects). For Elasticsearch the
// product check of go-elasticsearch is kept: a server that does not send
// X-Elastic-Product: Elasticsearch is refused with ErrUnsupported.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	if len(cfg.Addresses) == 0 {
		cfg.Addresses = []string{DefaultAddress}
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryOnStatus == nil {
		cfg.RetryOnStatus = []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.Replicas < 0 {
		cfg.Replicas = 0
	}
	if cfg.IndexPrefix != "" {
		if err := validateName("connect", cfg.IndexPrefix+"x"); err != nil {
			return nil, err
		}
	}
	c := &Client{cfg: cfg, log: cfg.Logger, now: cfg.Clock, known: map[string]bool{}, writeTo: map[string]string{}}
	c.retry = backoff.Policy{Min: cfg.RetryBackoff, Max: cfg.MaxBackoff, Attempts: cfg.MaxRetries + 1}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, secret := range []string{cfg.Password, cfg.APIKey} {
		if secret != "" {
			c.secrets = append(c.secrets, secret)
		}
	}
	obs, err := newObserver(cfg.TracerProvider, cfg.MeterProvider)
	if err != nil {
		return nil, err
	}
	c.obs = obs
	urls := make([]*url.URL, 0, len(cfg.Addresses))
	for _, a := range cfg.Addresses {
		u, err := url.Parse(strings.TrimRight(a, "/"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			// Never echo the address: it may hold credentials.
			return nil, invalidf("connect", "address #%d is not an http(s) URL", len(urls)+1)
		}
		urls = append(urls, u)
		if p, ok := u.User.Password(); ok && p != "" {
			c.secrets = append(c.secrets, p)
		}
	}
	rt := cfg.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		if cfg.TLS != nil {
			t.TLSClientConfig = cfg.TLS.Clone()
		}
		rt, c.ownRT = t, t
	}
	built := c.ownRT != nil
	if cfg.CACert != nil {
		// What elastictransport does with CACert, done here so that Close
		// releases the connections of the transport actually used (the
		// clone) and the pool metrics can sit on top of it.
		t, err := withCACert(rt, cfg.CACert)
		if err != nil {
			return nil, err
		}
		rt, c.ownRT = t, t
	}
	if m := c.meters(); m != nil {
		// Connection pool metrics: Connect's own transport dials through
		// the meters; a Config.Transport is only traced per round trip.
		pm, err := newPoolMeters(cfg.MeterProvider, built, urls)
		if err != nil {
			return nil, err
		}
		if built {
			c.ownRT.DialContext = pm.dialContext
		}
		m.pool = pm
		rt = &poolRT{next: rt, pm: pm}
	}
	retryOnError := func(r *http.Request, err error) bool { return r.Context().Err() == nil }
	plain, err := elastictransport.New(elastictransport.Config{
		URLs:          urls,
		Username:      cfg.Username,
		Password:      cfg.Password,
		APIKey:        cfg.APIKey,
		RetryOnStatus: cfg.RetryOnStatus,
		RetryOnError:  retryOnError,
		MaxRetries:    cfg.MaxRetries,
		DisableRetry:  cfg.MaxRetries == 0,
		RetryBackoff:  c.retry.Delay,
		Transport:     rt,
		Logger:        slogLogger{l: c.log, c: c},
	})
	if err != nil {
		c.Close()
		return nil, &Error{Op: "connect", kind: ErrInvalid, cause: err, Reason: "transport configuration rejected"}
	}
	c.plain, c.tr = plain, closedGuard{c}

	var root struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
		Tagline string `json:"tagline"`
	}
	if err := c.call(ctx, "connect", "", raw("GET", "/", nil, nil), &root); err != nil {
		c.Close()
		return nil, err
	}
	c.version = root.Version.Number
	c.major, c.minor = parseVersion(c.version)
	switch {
	case root.Version.Distribution == "opensearch":
		c.product = ProductOpenSearch
	default:
		c.product = ProductElasticsearch
		// go-elasticsearch's product check, done here: a genuine
		// Elasticsearch 8 names itself in the X-Elastic-Product header of
		// every answer; a server that only pretends to be Elasticsearch is
		// refused. (The official *elasticsearch.Client would do the same, but
		// importing it compiles its ~800 typedapi packages into every
		// program that imports search: minutes per build on a Raspberry Pi.)
		if err := c.checkElasticProduct(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	c.ilm = c.probe(ctx, "/_ilm/status")
	c.ism = c.product == ProductOpenSearch && c.probe(ctx, "/_plugins/_ism/policies")
	c.log.Debug("search: connected", "product", c.product, "version", c.version, "ilm", c.ilm, "ism", c.ism)
	return c, nil
}

// probe reports whether GET path answers 2xx.
func (c *Client) probe(ctx context.Context, path string) bool {
	return c.call(ctx, "probe", "", raw("GET", path, nil, nil), nil) == nil
}

func parseVersion(v string) (major, minor int) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 1 {
		major, _ = strconv.Atoi(parts[0])
	}
	if len(parts) >= 2 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return major, minor
}

// Product returns the engine detected at connect time.
func (c *Client) Product() Product { return c.product }

// Version returns the engine version detected at connect time, e.g. "2.19.1".
func (c *Client) Version() string { return c.version }

// Transport is the escape hatch: the elastictransport client the SDK sends
// every request through, with its retries, credentials and TLS (after
// Close it fails every request with ErrClosed). Use it with any esapi
// request: esapi.CatIndicesRequest{}.Do(ctx, c.Transport()).
func (c *Client) Transport() esapi.Transport { return c.tr }

// closedGuard is the Client's transport: the elastictransport client,
// refusing every request once the Client is closed.
type closedGuard struct{ c *Client }

// Perform sends req unless the Client is closed.
func (g closedGuard) Perform(req *http.Request) (*http.Response, error) {
	if g.c.closed.Load() {
		return nil, &Error{Op: "transport", kind: ErrClosed}
	}
	return g.c.plain.Perform(req)
}

// errIfClosed returns ErrClosed for op once Close was called.
func (c *Client) errIfClosed(op, index string) error {
	if c.closed.Load() {
		return &Error{Op: op, Index: index, kind: ErrClosed}
	}
	return nil
}

// checkElasticProduct repeats GET / and requires the header every
// Elasticsearch 8 sends, as go-elasticsearch's product check does.
func (c *Client) checkElasticProduct(ctx context.Context) error {
	res, err := esapi.InfoRequest{}.Do(ctx, c.plain)
	if err != nil {
		return transportErr(ctx, ctx, "connect", "", err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("X-Elastic-Product"); got != "Elasticsearch" {
		return &Error{Op: "connect", kind: ErrUnsupported, Status: res.StatusCode,
			Reason: fmt.Sprintf("the server is neither OpenSearch nor a genuine Elasticsearch (X-Elastic-Product %q)", got)}
	}
	return nil
}

// Close marks the client closed and releases the idle connections of the
// transport Connect created, or cloned for Config.CACert (a
// Config.Transport belongs to the caller). It
// is idempotent and always returns nil (it satisfies io.Closer). Every call
// made after it, including the name helpers, Transport's requests and the
// Add of a BulkIndexer made from this client, fails with ErrClosed;
// requests already in flight finish.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.ownRT != nil {
		c.ownRT.CloseIdleConnections()
	}
	if m := c.meters(); m != nil {
		m.pool.close()
	}
	return nil
}

// withCACert returns a clone of rt (an *http.Transport) trusting only the
// roots in pem, as elastictransport's Config.CACert does.
func withCACert(rt http.RoundTripper, pem []byte) (*http.Transport, error) {
	t, ok := rt.(*http.Transport)
	if !ok {
		return nil, invalidf("connect", "CACert needs an *http.Transport, not a %T", rt)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.RootCAs = x509.NewCertPool()
	if !t.TLSClientConfig.RootCAs.AppendCertsFromPEM(pem) {
		return nil, invalidf("connect", "CACert holds no PEM certificate")
	}
	return t, nil
}

// doer is any esapi request.
type doer interface {
	Do(ctx context.Context, t esapi.Transport) (*esapi.Response, error)
}

// call performs r, maps a failure to the package's errors and decodes a
// 2xx JSON answer into out (when non-nil; a *bytes.Buffer receives the
// answer as it is).
func (c *Client) call(ctx context.Context, op, index string, r doer, out any) error {
	_, err := c.callStatus(ctx, op, index, r, out)
	return err
}

// callStatus is call that also returns the HTTP status.
//
// The caller's done ctx is reported before ErrClosed, and as itself.
func (c *Client) callStatus(ctx context.Context, op, index string, r doer, out any) (int, error) {
	return c.callTraced(ctx, op, index, index, r, out)
}

// callTraced is callStatus whose span names indices (the bulk request's
// indices, which its errors do not name).
func (c *Client) callTraced(ctx context.Context, op, index, indices string, r doer, out any) (status int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, ctxErr(op, index, err)
	}
	if err := c.errIfClosed(op, index); err != nil {
		return 0, err
	}
	rctx := ctx
	if c.cfg.RequestTimeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeoutCause(ctx, c.cfg.RequestTimeout, errRequestTimeout)
		defer cancel()
	}
	if c.obs != nil {
		var req *request
		rctx, req = c.obs.begin(rctx, c, op, indices)
		defer func() { req.end(rctx, answerErr(op, status, err)) }()
	}
	return c.send(ctx, rctx, op, index, r, out)
}

// answerErr is err as observability sees it: nil for the statuses that
// answer the question of a probe (any answer) or of IndexExists (404), which
// the SDK does not report as failures.
func answerErr(op string, status int, err error) error {
	switch {
	case op == "probe" && status != 0, op == "index exists" && status == http.StatusNotFound:
		return nil
	}
	return err
}

// send performs r under rctx (ctx with the request timeout and span).
func (c *Client) send(ctx, rctx context.Context, op, index string, r doer, out any) (int, error) {
	res, err := r.Do(rctx, c.plain)
	if err != nil {
		if res != nil && res.Body != nil {
			res.Body.Close()
		}
		return 0, transportErr(ctx, rctx, op, index, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		return res.StatusCode, statusErr(op, index, res.StatusCode, b)
	}
	switch o := out.(type) {
	case nil:
		_, _ = io.Copy(io.Discard, res.Body)
	case *bytes.Buffer:
		o.Reset()
		if _, err := o.ReadFrom(res.Body); err != nil {
			return res.StatusCode, transportErr(ctx, rctx, op, index, err)
		}
	default:
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.StatusCode, transportErr(ctx, rctx, op, index, err)
		}
	}
	return res.StatusCode, nil
}

// rawRequest is a request esapi has no struct for on this engine (OpenSearch
// point in time, ISM) or that the SDK builds itself. Its path is already
// escaped: every name in it went through seg.
type rawRequest struct {
	method string
	path   string
	query  url.Values
	body   []byte
}

func raw(method, path string, query url.Values, body []byte) rawRequest {
	return rawRequest{method: method, path: path, query: query, body: body}
}

// Do performs the request through t.
func (r rawRequest) Do(ctx context.Context, t esapi.Transport) (*esapi.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	u := r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := t.Perform(req)
	if err != nil {
		return nil, err
	}
	return &esapi.Response{StatusCode: res.StatusCode, Header: res.Header, Body: res.Body}, nil
}

// jsonBody marshals v for a request body.
func jsonBody(op string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &Error{Op: op, Reason: "cannot encode body as JSON", kind: ErrInvalid, cause: err}
	}
	return b, nil
}

// slogLogger adapts *slog.Logger to elastictransport.Logger. It logs no
// headers, bodies or query strings, so no secret reaches a log. It is
// also where the span of a traced request learns the node of each attempt.
type slogLogger struct {
	l *slog.Logger
	c *Client
}

// LogRoundTrip logs one round trip (one attempt) elastictransport made.
// elastictransport logs nothing else through its Logger, nor to stderr:
// its only other output, the connection pool's and node discovery's debug
// lines, goes to stdout and only once some elastictransport client in the
// process was made with EnableDebugLogger, which the SDK never sets.
//
// A round trip that got no answer (the node is down or unreachable) or
// one answered 429 or 5xx (the transport retries those) is logged at WARN
// as "search: round trip failed"; any other one, and one cut by its ctx,
// at DEBUG as "search: round trip".
func (s slogLogger) LogRoundTrip(req *http.Request, res *http.Response, err error, start time.Time, dur time.Duration) error {
	if s.c.obs != nil {
		roundTrip(s.c, req, res)
	}
	ctx := req.Context()
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	level, msg := slog.LevelDebug, "search: round trip"
	if ctx.Err() == nil && (err != nil || status == http.StatusTooManyRequests || status >= 500) {
		level, msg = slog.LevelWarn, "search: round trip failed"
	}
	if !s.l.Enabled(ctx, level) {
		return nil
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.Duration("duration", dur))
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", s.c.redact(err.Error())))
	}
	s.l.LogAttrs(ctx, level, msg, attrs...)
	return nil
}

// redact blanks the configured credentials in text (a transport error
// could quote a proxy's or a node's URL).
func (c *Client) redact(text string) string {
	for _, secret := range c.secrets {
		text = strings.ReplaceAll(text, secret, "REDACTED")
	}
	return text
}
func (slogLogger) RequestBodyEnabled() bool  { return false }
func (slogLogger) ResponseBodyEnabled() bool { return false }

// isStatus reports whether err is an *Error with the given status.
func isStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}
