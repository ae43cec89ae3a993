//go:build !lucidfuzz

package search

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/HamiGames/lucid-data/internal/testenv"
)

// pairRun runs obs and base once per iteration (alternating which goes
// first, so neither always runs on a connection the other just warmed) and
// reports obs-ns/op, base-ns/op and overhead-% (obs's total time over
// base's, minus one): internal/bench/pair's method, which this module
// cannot import (internal/bench is its own module).
func pairRun(b *testing.B, obs, base func() error) {
	b.Helper()
	var obsT, baseT time.Duration
	timed := func(f func() error, into *time.Duration) {
		t0 := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*into += time.Since(t0)
	}
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			timed(obs, &obsT)
			timed(base, &baseT)
		} else {
			timed(base, &baseT)
			timed(obs, &obsT)
		}
		n++
	}
	if n > 0 && baseT > 0 {
		b.ReportMetric(float64(obsT.Nanoseconds())/float64(n), "obs-ns/op")
		b.ReportMetric(float64(baseT.Nanoseconds())/float64(n), "base-ns/op")
		b.ReportMetric((float64(obsT)/float64(baseT)-1)*100, "overhead-%")
	}
}

// BenchmarkPoolMetricsPaired measures the cost of the pool metrics on the
// cheapest round trip there is, GET / of the test engine (a manual reader,
// never collected):
//
//   - RoundTrip: the pool round tripper and counting dialer over an
//     http.Transport against the same bare http.Transport, the pool
//     metrics alone;
//   - Ping: a Client with Config.MeterProvider (request and pool metrics)
//     against one without.
func BenchmarkPoolMetricsPaired(b *testing.B) {
	ctx := context.Background()
	srv := testenv.Search(b)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = mp.Shutdown(ctx) })

	b.Run("RoundTrip", func(b *testing.B) {
		u, err := url.Parse(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		pm, err := newPoolMeters(mp, true, []*url.URL{u})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pm.close)
		observed := http.DefaultTransport.(*http.Transport).Clone()
		observed.DialContext = pm.dialContext
		bare := http.DefaultTransport.(*http.Transport).Clone()
		b.Cleanup(observed.CloseIdleConnections)
		b.Cleanup(bare.CloseIdleConnections)
		get := func(rt http.RoundTripper) func() error {
			return func() error {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/", nil)
				if err != nil {
					return err
				}
				res, err := rt.RoundTrip(req)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				return res.Body.Close()
			}
		}
		pairRun(b, get(&poolRT{next: observed, pm: pm}), get(bare))
	})

	b.Run("Ping", func(b *testing.B) {
		connect := func(cfg Config) *Client {
			cfg.Addresses = []string{srv.URL}
			c, err := Connect(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = c.Close() })
			return c
		}
		obs, base := connect(Config{MeterProvider: mp}), connect(Config{})
		pairRun(b, func() error { return obs.Ping(ctx) }, func() error { return base.Ping(ctx) })
	})
}
