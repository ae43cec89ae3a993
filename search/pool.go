package search

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Connection pool attributes (OpenTelemetry database semantic conventions,
// db.client.connection.*).
const (
	keyPoolName  = attribute.Key("db.client.connection.pool.name")
	keyConnState = attribute.Key("db.client.connection.state")
)

// poolMeters measures the connection pool of a Client's HTTP transport,
// which elastictransport does not expose: every round trip of the
// transport carries an httptrace.ClientTrace (the time it waited for a
// connection, whether that connection was new, whether the wait timed
// out, how long it held it), and, on the transport Connect creates, a
// dialer counts every connection opened and closed.
//
// A node's pool is its "host:port", the name OpenTelemetry's conventions
// recommend for a pool that has none: http.Transport keeps one pool per
// node, and the nodes are Config.Addresses. Counts live in atomics, read by
// one callback at collection; a round trip finds its pool in a short
// read-only list and records one histogram value.
type poolMeters struct {
	owned    bool        // the dialer is ours: open connections are known
	nodes    []nodeEntry // Config.Addresses; read-only after Connect
	mu       sync.Mutex
	byName   map[string]*nodePool // every pool, by host:port
	waitTime metric.Float64Histogram
	waits    metric.Int64Counter
	timeouts metric.Int64Counter
	reg      metric.Registration
	dialer   *net.Dialer // dials for the transport Connect creates
}

// nodeEntry maps a node URL's scheme and host, as elastictransport sets
// them on each request, to its pool.
type nodeEntry struct {
	scheme, host string
	p            *nodePool
}

// nodePool is the pool of one node.
type nodePool struct {
	open    atomic.Int64 // connections dialled and not yet closed (owned transport only)
	used    atomic.Int64 // round trips holding a connection
	dialing atomic.Int64 // dials in progress (tests wait for them)

	attrs     metric.MeasurementOption // pool name and server
	idleAttrs attribute.Set
	usedAttrs attribute.Set
}

// newPoolMeters registers the pool instruments of the nodes on mp; owned
// says the SDK dials the connections itself (Connect made the transport).
func newPoolMeters(mp metric.MeterProvider, owned bool, nodes []*url.URL) (*poolMeters, error) {
	m := mp.Meter(instrumentation)
	pm := &poolMeters{owned: owned, byName: map[string]*nodePool{}}
	for _, u := range nodes {
		pm.nodes = append(pm.nodes, nodeEntry{scheme: u.Scheme, host: u.Host, p: pm.pool(hostPort(u.Scheme, u.Host))})
	}
	// Go's own dialer defaults, as http.DefaultTransport dials.
	pm.dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	var errs [5]error
	var count metric.Int64ObservableUpDownCounter
	count, errs[0] = m.Int64ObservableUpDownCounter("db.client.connection.count", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections of the HTTP transport to a node, by db.client.connection.state (used: held by a round trip; idle: open and unused, only on the transport Connect creates)."))
	pm.waitTime, errs[1] = m.Float64Histogram("db.client.connection.wait_time", metric.WithUnit("s"),
		metric.WithDescription("Time a round trip waited for a connection (an idle one, or a new one dialled), by pool."),
		metric.WithExplicitBucketBoundaries(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	pm.timeouts, errs[2] = m.Int64Counter("db.client.connection.timeouts", metric.WithUnit("{timeout}"),
		metric.WithDescription("Round trips whose wait for a connection ended in a timeout (the dial timed out, or the request's deadline passed first), by pool."))
	pm.waits, errs[3] = m.Int64Counter("lucid.search.pool.waits", metric.WithUnit("{wait}"),
		metric.WithDescription("Round trips that found no idle connection and waited for a new one to be dialled, by pool."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, &Error{Op: "connect", kind: ErrInvalid, Reason: "metrics: " + err.Error()}
	}
	pm.reg, errs[4] = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		pm.mu.Lock()
		defer pm.mu.Unlock()
		for _, p := range pm.byName {
			used := p.used.Load()
			o.ObserveInt64(count, used, metric.WithAttributeSet(p.usedAttrs))
			if pm.owned {
				// Over HTTP/1.1 (all Elasticsearch and OpenSearch speak) a
				// used connection carries one round trip; a connection
				// just dialled or just released is idle for an instant.
				o.ObserveInt64(count, max(0, p.open.Load()-used), metric.WithAttributeSet(p.idleAttrs))
			}
		}
		return nil
	}, count)
	if errs[4] != nil {
		return nil, &Error{Op: "connect", kind: ErrInvalid, Reason: "metrics: " + errs[4].Error()}
	}
	return pm, nil
}

// forURL returns the pool of the node a request goes to.
func (pm *poolMeters) forURL(u *url.URL) *nodePool {
	for i := range pm.nodes {
		if e := &pm.nodes[i]; e.host == u.Host && e.scheme == u.Scheme {
			return e.p
		}
	}
	return pm.pool(hostPort(u.Scheme, u.Host)) // not a configured node
}

// pool returns the pool of the node at hostport ("host:port"), making it
// on first use.
func (pm *poolMeters) pool(hostport string) *nodePool {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if p, ok := pm.byName[hostport]; ok {
		return p
	}
	host, port, _ := net.SplitHostPort(hostport)
	base := []attribute.KeyValue{keyPoolName.String(hostport), keyServerAddr.String(host)}
	if n, err := strconv.Atoi(port); err == nil {
		base = append(base, keyServerPort.Int(n))
	}
	// NewSet sorts its argument in place: each set gets its own slice.
	p := &nodePool{
		attrs:     metric.WithAttributeSet(attribute.NewSet(slices.Clone(base)...)),
		idleAttrs: attribute.NewSet(append(slices.Clone(base), keyConnState.String("idle"))...),
		usedAttrs: attribute.NewSet(append(slices.Clone(base), keyConnState.String("used"))...),
	}
	pm.byName[hostport] = p
	return p
}

// close stops reporting the pools (Client.Close).
func (pm *poolMeters) close() {
	if pm != nil && pm.reg != nil {
		_ = pm.reg.Unregister()
	}
}

// hostPort is u's "host:port", the port defaulted by scheme as
// http.Transport does.
func hostPort(scheme, host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}

// dialContext is the DialContext of the transport Connect creates: it
// counts each connection in the pool of the node whose round trip asked for
// it (through a proxy too) until the transport closes it.
func (pm *poolMeters) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	p, _ := ctx.Value(attemptKey{}).(*nodePool)
	if p == nil {
		p = pm.pool(addr)
	}
	p.dialing.Add(1)
	defer p.dialing.Add(-1)
	conn, err := pm.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	p.open.Add(1)
	return &countedConn{Conn: conn, p: p}, nil
}

// countedConn is a connection counted in its pool until closed.
type countedConn struct {
	net.Conn
	p      *nodePool
	closed atomic.Bool
}

// Close closes the connection and, the first time, uncounts it.
func (c *countedConn) Close() error {
	if !c.closed.Swap(true) {
		c.p.open.Add(-1)
	}
	return c.Conn.Close()
}

// attemptKey carries the pool of a round trip to the dial it causes (the
// transport dials under the values of the request's ctx).
type attemptKey struct{}

// poolRT is the round tripper under elastictransport: it observes every
// round trip, the SDK's requests, Transport()'s and retries alike.
type poolRT struct {
	next http.RoundTripper
	pm   *poolMeters
}

// attempt states.
const (
	waiting  = iota // no connection yet
	held            // GotConn: counted as used
	released        // back in the pool, closed, or failed: uncounted
)

// attempt is one round trip being observed.
type attempt struct {
	pm      *poolMeters
	p       *nodePool
	ctx     context.Context
	asked   time.Time // last GetConn
	state   atomic.Int32
	getConn bool
	trace   httptrace.ClientTrace // in the attempt: one allocation fewer
}

// RoundTrip sends req with a trace of its connection.
func (rt *poolRT) RoundTrip(req *http.Request) (*http.Response, error) {
	a := &attempt{pm: rt.pm, p: rt.pm.forURL(req.URL), ctx: req.Context()}
	ctx := context.WithValue(req.Context(), attemptKey{}, a.p)
	a.trace = httptrace.ClientTrace{GetConn: a.onGetConn, GotConn: a.onGotConn, PutIdleConn: a.onPutIdleConn}
	ctx = httptrace.WithClientTrace(ctx, &a.trace)
	res, err := rt.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		if a.state.Load() == waiting && a.getConn && isTimeout(req.Context(), err) {
			rt.pm.timeouts.Add(a.ctx, 1, a.p.attrs)
		}
		a.release()
		return res, err
	}
	if res.Body == nil {
		a.release()
		return res, nil
	}
	res.Body = &heldBody{ReadCloser: res.Body, a: a}
	return res, nil
}

// isTimeout reports whether err ended a wait for a connection by a timeout:
// the dial's own, or the deadline of the request (not its cancellation).
func isTimeout(ctx context.Context, err error) bool {
	var ne net.Error
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func (a *attempt) onGetConn(string) {
	a.getConn = true
	a.asked = time.Now()
}

// onGotConn counts the connection as used; http.Transport calls it again
// if it retries the request on another connection, which replaces the
// first (already lost) one.
func (a *attempt) onGotConn(info httptrace.GotConnInfo) {
	if a.state.CompareAndSwap(waiting, held) {
		a.p.used.Add(1)
	}
	a.pm.waitTime.Record(a.ctx, time.Since(a.asked).Seconds(), a.p.attrs)
	if !info.Reused {
		a.pm.waits.Add(a.ctx, 1, a.p.attrs)
	}
}

// onPutIdleConn: the connection went back to the idle pool (or, with an
// error, was closed) once the answer was read.
func (a *attempt) onPutIdleConn(error) { a.release() }

// release uncounts the connection once, whichever of PutIdleConn, the
// body's Close and a failed round trip comes first.
func (a *attempt) release() {
	if a.state.Swap(released) == held {
		a.p.used.Add(-1)
	}
}

// heldBody releases the attempt's connection when closed (HTTP/2, an
// answer not read to its end, or one whose connection is not kept).
type heldBody struct {
	io.ReadCloser
	a *attempt
}

func (b *heldBody) Close() error {
	err := b.ReadCloser.Close()
	b.a.release()
	return err
}
