//go:build !lucidfuzz

package search

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/HamiGames/lucid-data/internal/faultproxy"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.uber.org/goleak"
)

// poolReading is one collection of the pool instruments of a pool.
type poolReading struct {
	idle, used     int64
	idleSeen       bool // an idle series was reported
	usedSeen       bool
	waits          int64
	timeouts       int64
	waitCount      uint64 // wait_time observations
	requests       uint64 // lucid.search.request.duration observations
	attrs          []attribute.KeyValue
	unexpectedPool []string
}

func readPool(t *testing.T, reader sdkmetric.Reader, pool string) poolReading {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var r poolReading
	ours := func(s attribute.Set) bool {
		v, ok := s.Value(keyPoolName)
		if ok && v.AsString() != pool {
			r.unexpectedPool = append(r.unexpectedPool, v.AsString())
		}
		return ok && v.AsString() == pool
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					if !ours(p.Attributes) {
						continue
					}
					switch m.Name {
					case "db.client.connection.count":
						state, _ := p.Attributes.Value(keyConnState)
						if state.AsString() == "idle" {
							r.idle, r.idleSeen = p.Value, true
						} else {
							r.used, r.usedSeen = p.Value, true
							r.attrs = p.Attributes.ToSlice()
						}
					case "lucid.search.pool.waits":
						r.waits = p.Value
					case "db.client.connection.timeouts":
						r.timeouts = p.Value
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					switch {
					case m.Name == "lucid.search.request.duration":
						r.requests += p.Count
					case m.Name == "db.client.connection.wait_time" && ours(p.Attributes):
						r.waitCount += p.Count
					}
				}
			}
		}
	}
	return r
}

// nodePoolOf is c's pool of the test engine.
func nodePoolOf(t *testing.T, c *Client) *nodePool {
	t.Helper()
	u, err := url.Parse(c.cfg.Addresses[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.meters().pool.pool(hostPort(u.Scheme, u.Host))
}

// TestPoolMetrics holds n answers of the real engine open at once through
// Transport(), then runs concurrent searches: the used count is n while the
// answers are open and 0 after, the idle count is every connection dialled,
// each dial is one wait, every round trip one wait_time value; Close
// closes the idle connections (the pool's open count drops to 0) and stops
// reporting the counts.
func TestPoolMetrics(t *testing.T) {
	ctx := ctxT(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	c := newTestClient(t, Config{MaxRetries: -1, MeterProvider: mp})
	u, _ := url.Parse(c.cfg.Addresses[0])
	pool := hostPort(u.Scheme, u.Host)
	np := nodePoolOf(t, c)

	// Connect's requests ran one after the other on one connection.
	r := readPool(t, reader, pool)
	if r.used != 0 || r.idle != 1 || r.waits != 1 || r.waitCount != r.requests || r.timeouts != 0 || len(r.unexpectedPool) > 0 {
		t.Fatalf("after Connect: %+v", r)
	}
	host, port, _ := net.SplitHostPort(pool)
	for _, want := range []string{"db.client.connection.pool.name=" + pool, "server.address=" + host, "server.port=" + port, "db.client.connection.state=used"} {
		if !strings.Contains(attrString(r.attrs), want+" ") {
			t.Errorf("count attributes %s lack %s", attrString(r.attrs), want)
		}
	}

	const n = 5
	var open []*esapi.Response
	for range n {
		res, err := esapi.InfoRequest{}.Do(ctx, c.Transport())
		if err != nil || res.IsError() {
			t.Fatalf("info: %v %v", err, res)
		}
		open = append(open, res)
	}
	r = readPool(t, reader, pool)
	if r.used != n || r.idle != 0 || r.waits != n || r.waitCount != r.requests+n {
		t.Fatalf("%d answers open: %+v", n, r)
	}
	for _, res := range open {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if r = readPool(t, reader, pool); r.used != 0 || r.idle != n {
		t.Fatalf("answers closed: %+v", r)
	}

	idx := c.cfg.IndexPrefix + "pool"
	if _, err := c.Index(ctx, idx, "1", map[string]any{"n": 1}, &WriteOptions{Refresh: RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for range 4 * n {
		wg.Go(func() {
			_, err := c.Search(ctx, idx, SearchRequest{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r = readPool(t, reader, pool)
	// A dial whose request got an idle connection first is idle
	// without a wait: waits ≤ idle.
	if r.used != 0 || r.idle != np.open.Load() || r.idle < n || r.waits > r.idle || r.waitCount != r.requests+n || r.timeouts != 0 {
		t.Fatalf("after %d concurrent searches: %+v (open %d)", 4*n, r, np.open.Load())
	}
	t.Logf("after the searches: %+v", r)

	c.Close()
	if got := np.open.Load(); got != 0 {
		t.Errorf("open connections after Close: %d", got)
	}
	if r = readPool(t, reader, pool); r.idleSeen || r.usedSeen {
		t.Errorf("counts still reported after Close: %+v", r)
	}
}

func attrString(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%s=%s ", kv.Key, kv.Value.String())
	}
	return b.String()
}

// blackhole listens on a loopback port whose accept queue is full, so a
// dial to it hangs (the kernel drops the SYNs) until the dialer gives up.
// Closing it makes the pending dials fail (the next SYN is refused).
func blackhole(t *testing.T) (addr string, closeFn func()) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	var fill []net.Conn
	closeFn = func() {
		syscall.Close(fd)
		for _, c := range fill {
			c.Close()
		}
	}
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return addr, closeFn // the queue is full
			}
			closeFn()
			t.Fatalf("fill the accept queue: %v", err)
		}
		fill = append(fill, c)
	}
	closeFn()
	t.Skip("testenv: this kernel accepts past a full accept queue; no blackhole")
	return "", nil
}

// TestPoolMetricsTimeout connects to a node whose dials hang: the request
// times out waiting for its connection, which counts one timeout (and no
// wait, no used connection); a caller's cancellation counts none.
func TestPoolMetricsTimeout(t *testing.T) {
	addr, closeFn := blackhole(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })

	// A dial outlives its request (http.Transport keeps the connection
	// for a later one) until the transport's CloseIdleConnections, which
	// Connect's Close calls, cancels it: no dial may be left.
	before := goleak.IgnoreCurrent()
	defer func() {
		closeFn()
		start, deadline := time.Now(), time.Now().Add(15*time.Second)
		defer func() { t.Logf("pending dials ended %v after the listener closed", time.Since(start)) }()
		for {
			err := goleak.Find(before)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Error(err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	connect := func(ctx context.Context) error {
		_, err := Connect(ctx, Config{Addresses: []string{"http://" + addr}, MaxRetries: -1,
			RequestTimeout: 150 * time.Millisecond, MeterProvider: mp})
		return err
	}
	if err := connect(ctxT(t)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("connect to a blackhole: %v", err)
	}
	r := readPool(t, reader, addr)
	t.Logf("after the timed-out dial: %+v", r)
	if r.timeouts != 1 || r.waits != 0 || r.used != 0 {
		t.Errorf("after a timed-out dial: %+v", r)
	}
	cctx, cancel := context.WithCancel(ctxT(t))
	time.AfterFunc(100*time.Millisecond, cancel)
	if err := connect(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled connect to a blackhole: %v", err)
	}
	if r = readPool(t, reader, addr); r.timeouts != 1 {
		t.Errorf("a cancellation counted as a timeout: %+v", r)
	}

}

// TestPoolMetricsOwnTransport: with Config.Transport the round trips are
// still traced (used count, waits, wait time) but no idle count is
// reported, having no dialer to count connections with.
func TestPoolMetricsOwnTransport(t *testing.T) {
	ctx := ctxT(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c := newTestClient(t, Config{MeterProvider: mp, Transport: tr})
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(testenv.Search(t).URL)
	r := readPool(t, reader, hostPort(u.Scheme, u.Host))
	if r.idleSeen || !r.usedSeen || r.used != 0 || r.waits != 1 || r.waitCount != r.requests {
		t.Fatalf("own transport: %+v", r)
	}
}

// TestPoolMetricsNoop: OpenTelemetry's no-op MeterProvider installs
// nothing in the transport.
func TestPoolMetricsNoop(t *testing.T) {
	c := newTestClient(t, Config{MeterProvider: metricnoop.NewMeterProvider()})
	if c.obs != nil {
		t.Fatalf("no-op provider instrumented the client: %+v", c.obs)
	}
}

// TestPoolMetricsTLS reaches the test engine through a TLS reverse proxy
// trusted by Config.CACert: Connect applies CACert itself (elastictransport
// would clone the transport, leaving Close and the pool metrics on a copy
// that is never used), the pool counts the TLS connections, and Close
// closes them.
func TestPoolMetricsTLS(t *testing.T) {
	target, err := url.Parse(testenv.Search(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	upstream := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(upstream.CloseIdleConnections)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = upstream
	srv := httptest.NewTLSServer(rp)
	t.Cleanup(srv.Close)
	caCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	c := newTestClient(t, Config{Addresses: []string{srv.URL}, CACert: caCert, MeterProvider: mp})
	if err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	pool := hostPort(u.Scheme, u.Host)
	if r := readPool(t, reader, pool); r.idle != 1 || r.used != 0 || r.waits != 1 || r.waitCount != r.requests {
		t.Fatalf("over TLS: %+v", r)
	}
	np := nodePoolOf(t, c)
	c.Close()
	if got := np.open.Load(); got != 0 {
		t.Errorf("open connections after Close: %d", got)
	}

	// Without metrics, too, CACert needs no Config.TLS.
	plain := newTestClient(t, Config{Addresses: []string{srv.URL}, CACert: caCert})
	if err := plain.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{
		{Addresses: []string{srv.URL}, CACert: []byte("not a certificate")},
		{Addresses: []string{srv.URL}, CACert: caCert, MeterProvider: mp, Transport: roundTripFunc(http.DefaultTransport.RoundTrip)},
	} {
		if _, err := Connect(ctxT(t), cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("CACert %q with %T: %v", cfg.CACert[:4], cfg.Transport, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPoolMetricsPerNode: with two nodes (the engine, and a proxy in front
// of it) each round trip counts in the pool of the node elastictransport
// sent it to, and each pool dials its own connection.
func TestPoolMetricsPerNode(t *testing.T) {
	ctx := ctxT(t)
	p, err := faultproxy.NewHTTP(testenv.Search(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	c := newTestClient(t, Config{Addresses: []string{testenv.Search(t).URL, p.URL()}, MeterProvider: mp})
	for range 4 {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var total, requests uint64
	for _, addr := range c.cfg.Addresses {
		u, _ := url.Parse(addr)
		r := readPool(t, reader, hostPort(u.Scheme, u.Host))
		if r.idle != 1 || r.used != 0 || r.waits != 1 || r.waitCount == 0 {
			t.Errorf("pool %s: %+v", u.Host, r)
		}
		total, requests = total+r.waitCount, r.requests
	}
	if total != requests {
		t.Errorf("%d round trips in the pools, %d requests", total, requests)
	}
}
