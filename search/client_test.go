//go:build !lucidfuzz

package search

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/faultproxy"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

func TestConnectDetectsProduct(t *testing.T) {
	srv := testenv.Search(t)
	c := newTestClient(t, Config{})
	if string(c.Product()) != srv.Product || c.Version() != srv.Version {
		t.Fatalf("detected %s %s, server is %s %s", c.Product(), c.Version(), srv.Product, srv.Version)
	}
	// Escape hatch: any esapi request over the SDK's transport.
	res, err := esapi.CatHealthRequest{Format: "json"}.Do(ctxT(t), c.Transport())
	if err != nil || res.IsError() {
		t.Fatalf("escape hatch: %v %v", err, res)
	}
	res.Body.Close()
}

// TestConnectRefusesFakeElasticsearch: a server that claims to be
// Elasticsearch in GET / but lacks the X-Elastic-Product header every
// Elasticsearch 8 sends is refused, as go-elasticsearch's product check does.
// The impostor is hostile input, so it is a few lines of httptest, not an engine.
func TestConnectRefusesFakeElasticsearch(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":{"number":"8.11.4"},"tagline":"You Know, for Search"}`))
	}))
	defer fake.Close()
	c, err := Connect(ctxT(t), Config{Addresses: []string{fake.URL}, MaxRetries: -1})
	if err == nil {
		c.Close()
		t.Fatal("Connect accepted a server without X-Elastic-Product")
	}
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Connect: %v, want ErrUnsupported", err)
	}
}

func TestLifecycleProbe(t *testing.T) {
	c := newTestClient(t, Config{})
	// Probe independently of the SDK and compare.
	ilm := c.probe(ctxT(t), "/_ilm/status")
	ism := c.probe(ctxT(t), "/_plugins/_ism/policies")
	h, err := c.Health(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.ILM != ilm || h.ISM != (ism && c.Product() == ProductOpenSearch) {
		t.Fatalf("health reports ilm=%v ism=%v, probes say %v %v", h.ILM, h.ISM, ilm, ism)
	}
	want := LifecycleSDK
	switch {
	case ilm:
		want = LifecycleILM
	case h.ISM:
		want = LifecycleISM
	}
	if c.LifecycleMode() != want {
		t.Fatalf("mode %s, want %s", c.LifecycleMode(), want)
	}
	err = c.EnsureLifecyclePolicy(ctxT(t))
	if want == LifecycleSDK && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("policy without ILM/ISM: %v", err)
	}
	if want != LifecycleSDK && err != nil {
		t.Fatalf("policy: %v", err)
	}
	c2 := newTestClient(t, Config{SDKLifecycle: true})
	if c2.LifecycleMode() != LifecycleSDK {
		t.Fatal("SDKLifecycle not honoured")
	}
}

func TestHealth(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx, err := c.EnsureMonthlyIndex(ctx, "sessions", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Index(ctx, idx, "a", map[string]any{"user_id": "u"}, &WriteOptions{Refresh: RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != "green" && h.Status != "yellow" || h.Nodes < 1 || h.Version == "" || h.ClusterName == "" {
		t.Fatalf("health: %+v", h)
	}
	if st, ok := h.Indices[idx]; !ok || st.Docs != 1 || st.SizeBytes <= 0 {
		t.Fatalf("index stats of %s: %+v in %v", idx, st, h.Indices)
	}
}

func TestConnectErrors(t *testing.T) {
	ctx := ctxT(t)
	_, err := Connect(ctx, Config{Addresses: []string{"ftp://user:secret@x"}})
	if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad address: %v", err)
	}
	_, err = Connect(ctx, Config{Addresses: []string{"http://127.0.0.1:1"}, MaxRetries: 1, RetryBackoff: time.Millisecond})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("dead address: %v", err)
	}
	_, err = Connect(ctx, Config{IndexPrefix: "Bad*Prefix"})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad prefix: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Connect(cctx, Config{Addresses: []string{testenv.Search(t).URL}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

func TestRetryOnStatusThroughProxy(t *testing.T) {
	srv := testenv.Search(t)
	p, err := faultproxy.NewHTTP(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	c := newTestClient(t, Config{Addresses: []string{p.URL()}, MaxRetries: 3, RetryBackoff: 5 * time.Millisecond, Transport: tr})
	ctx := ctxT(t)
	// Three 503s are absorbed by three retries.
	p.FailNext(3, 503)
	if _, err := c.Health(ctx); err != nil {
		t.Fatalf("after 3x503 with 3 retries: %v", err)
	}
	// Four 429s are one too many: the caller sees ErrRejected with the
	// engine's error type.
	p.FailNext(4, 429)
	_, err = c.Health(ctx)
	var e *Error
	if !errors.Is(err, ErrRejected) || !errors.As(err, &e) || e.Type != "faultproxy_injected" || e.Status != 429 {
		t.Fatalf("after 4x429: %v", err)
	}
	p.FailNext(0, 0)
	// A request timeout bounds a hung engine. It is the engine's fault,
	// not the caller's deadline: ErrUnavailable, never DeadlineExceeded.
	c2 := newTestClient(t, Config{Addresses: []string{p.URL()}, MaxRetries: -1, RequestTimeout: 100 * time.Millisecond, Transport: tr})
	p.SetDelay(2 * time.Second)
	_, err = c2.Health(ctx)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errkind.Of(err) != errkind.Unavailable {
		t.Fatalf("timeout: %v", err)
	}
	p.SetDelay(0)
}
