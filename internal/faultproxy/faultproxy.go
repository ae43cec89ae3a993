// Package faultproxy is a small fault-injection proxy for tests: it sits
// between a client and a real server and can delay traffic, cut every
// connection (and refuse new ones until restored), or answer the next N
// HTTP requests itself with an error status such as 429 or 503.
//
// HTTP proxies requests to an HTTP server (faults per request); TCP
// proxies raw TCP streams (delay and cut only), for protocols other than
// HTTP.
package faultproxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// faults is the state shared by both proxy kinds.
type faults struct {
	mu     sync.Mutex
	delay  time.Duration
	down   bool
	conns  map[net.Conn]struct{}
	status int
	left   int
}

func (f *faults) setDelay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

func (f *faults) getDelay() time.Duration { f.mu.Lock(); defer f.mu.Unlock(); return f.delay }

func (f *faults) isDown() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.down }

func (f *faults) track(c net.Conn, add bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if add {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

// cut closes every tracked connection and refuses new ones.
func (f *faults) cut() {
	f.mu.Lock()
	f.down = true
	conns := f.conns
	f.conns = map[net.Conn]struct{}{}
	f.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

func (f *faults) restore() { f.mu.Lock(); f.down = false; f.mu.Unlock() }

// takeFailure returns the status to answer with instead of proxying, or 0.
func (f *faults) takeFailure() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left > 0 {
		f.left--
		return f.status
	}
	return 0
}

// sleep waits d, or less if ctx is done or stop is closed.
func sleep(ctx context.Context, d time.Duration, stop <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-stop:
	}
}

// HTTP is an HTTP fault-injection reverse proxy.
type HTTP struct {
	f        faults
	ln       net.Listener
	srv      *http.Server
	rp       *httputil.ReverseProxy
	served   atomic.Int64
	failed   atomic.Int64
	rejected atomic.Int64
	target   *url.URL
	// bulkLeft and bulkStatus (under f.mu) drive RejectBulkItems.
	bulkLeft, bulkStatus int
	closeOnce            sync.Once
	stop                 chan struct{}
}

// NewHTTP starts a proxy on a loopback port in front of target (e.g.
// "http://127.0.0.1:9200").
func NewHTTP(target string) (*HTTP, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, errors.New("faultproxy: target must be an absolute URL")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &HTTP{ln: ln, f: faults{conns: map[net.Conn]struct{}{}}, stop: make(chan struct{}), target: u}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	p.rp = httputil.NewSingleHostReverseProxy(u)
	p.rp.Transport = tr
	p.rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusBadGateway)
	}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(p.serve),
		ConnState: func(c net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				if p.f.isDown() {
					c.Close()
					return
				}
				p.f.track(c, true)
			case http.StateClosed, http.StateHijacked:
				p.f.track(c, false)
			}
		},
	}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *HTTP) serve(w http.ResponseWriter, r *http.Request) {
	sleep(r.Context(), p.f.getDelay(), p.stop)
	if p.f.isDown() {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if st := p.f.takeFailure(); st != 0 {
		p.failed.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(st)
		_, _ = io.WriteString(w, `{"error":{"type":"faultproxy_injected","reason":"injected status `+strconv.Itoa(st)+`"},"status":`+strconv.Itoa(st)+`}`)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/_bulk") && p.bulkRejecting() {
		p.serveBulk(w, r)
		return
	}
	p.served.Add(1)
	p.rp.ServeHTTP(w, r)
}

// URL is the proxy's base URL, "http://127.0.0.1:port".
func (p *HTTP) URL() string { return "http://" + p.ln.Addr().String() }

// SetDelay delays every request (before it is proxied or failed) by d.
func (p *HTTP) SetDelay(d time.Duration) { p.f.setDelay(d) }

// FailNext answers the next n requests with status (e.g. 429, 503) and a
// JSON error body instead of proxying them.
func (p *HTTP) FailNext(n, status int) {
	p.f.mu.Lock()
	p.f.left, p.f.status = n, status
	p.f.mu.Unlock()
}

// Cut closes every client connection, mid-request included, and drops new
// ones until Restore: to the client the server is unreachable.
func (p *HTTP) Cut() { p.f.cut() }

// Restore ends a Cut.
func (p *HTTP) Restore() { p.f.restore() }

// Served is the number of requests proxied to the target.
func (p *HTTP) Served() int64 { return p.served.Load() }

// Failed is the number of requests answered by FailNext.
func (p *HTTP) Failed() int64 { return p.failed.Load() }

// Close stops the proxy and closes all connections. It is idempotent.
func (p *HTTP) Close() error {
	p.closeOnce.Do(func() {
		close(p.stop)
		p.f.cut()
		p.srv.Close()
		if t, ok := p.rp.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	})
	return nil
}

// TCP is a TCP fault-injection proxy: it can delay new connections and cut
// all of them.
type TCP struct {
	f      faults
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	once   sync.Once
	stop   chan struct{}
}

// NewTCP starts a TCP proxy on a loopback port in front of target
// ("host:port").
func NewTCP(target string) (*TCP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &TCP{ln: ln, target: target, f: faults{conns: map[net.Conn]struct{}{}}, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *TCP) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.f.isDown() {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.pipe(c)
	}
}

func (p *TCP) pipe(c net.Conn) {
	defer p.wg.Done()
	sleep(context.Background(), p.f.getDelay(), p.stop)
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.f.track(c, true)
	p.f.track(up, true)
	if p.f.isDown() {
		p.f.cut()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	go cp(up, c)
	go cp(c, up)
	wg.Wait()
	p.f.track(c, false)
	p.f.track(up, false)
}

// Addr is the proxy's "127.0.0.1:port".
func (p *TCP) Addr() string { return p.ln.Addr().String() }

// SetDelay delays each new connection by d before it is dialled through.
func (p *TCP) SetDelay(d time.Duration) { p.f.setDelay(d) }

// Cut closes every connection and refuses new ones until Restore.
func (p *TCP) Cut() { p.f.cut() }

// Restore ends a Cut.
func (p *TCP) Restore() { p.f.restore() }

// Close stops the proxy, closes all connections and waits for its
// goroutines. It is idempotent.
func (p *TCP) Close() error {
	p.once.Do(func() {
		close(p.stop)
		p.ln.Close()
		p.f.cut()
		p.wg.Wait()
	})
	return nil
}
