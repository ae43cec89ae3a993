package cachebench

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/bench/pair"
)

// discard is a span processor that keeps nothing: spans are recorded by
// the SDK (attributes set, ended) and dropped, so the figure is the cost
// of producing them, not of an exporter.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

// dropExporter is a span exporter that drops what it is given: behind
// the SDK's BatchSpanProcessor (what a service runs, with an OTLP
// exporter in its place) it measures the processor's per-span snapshot and
// queueing, and its background export goroutine, without a network or a
// store growing with the run (tracetest.SpanRecorder keeps every span: its
// GC cost would grow with b.N).
type dropExporter struct{}

func (dropExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkObservabilityPaired: Cache.Get and Cache.Set on a client made
// by Connect with an observability provider, interleaved with the same
// call on a client made by Connect without one (both on the same server):
// overhead-% is the cost of tracing with OpenTelemetry's no-op provider
// (which Connect recognises and skips), with the SDK's provider sampling
// nothing (the hooks run, spans do not record), with the SDK's provider
// recording every span into a processor that drops it (the cost of
// producing spans), with the SDK's provider recording every span into its
// BatchSpanProcessor with default settings and an exporter that drops
// batches (what a service pays but the export), and of metrics with the
// SDK's meter provider (a manual reader, never collected).
func BenchmarkObservabilityPaired(b *testing.B) {
	ctx := context.Background()
	rdb := redisClient(b)
	url := "redis://" + rdb.Options().Addr + "/0"
	ns := namespace()
	connect := func(cfg cache.Config) cache.Cache {
		cfg.URL, cfg.Password = url, rdb.Options().Password
		c, err := cache.Connect(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		kv, err := c.Cache(cache.CacheOptions{Entity: ns})
		if err != nil {
			b.Fatal(err)
		}
		return kv
	}
	sdkTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}))
	b.Cleanup(func() { _ = sdkTP.Shutdown(ctx) })
	batchTP := sdktrace.NewTracerProvider(sdktrace.WithBatcher(dropExporter{}))
	b.Cleanup(func() { _ = batchTP.Shutdown(ctx) })
	neverTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	b.Cleanup(func() { _ = neverTP.Shutdown(ctx) })
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = mp.Shutdown(ctx) })
	base := connect(cache.Config{})
	if err := base.Set(ctx, "k", value, time.Hour); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  cache.Config
	}{
		{"TraceNoop", cache.Config{TracerProvider: noop.NewTracerProvider()}},
		{"TraceSDKUnsampled", cache.Config{TracerProvider: neverTP}},
		{"TraceSDK", cache.Config{TracerProvider: sdkTP}},
		{"TraceSDKBatch", cache.Config{TracerProvider: batchTP}},
		{"MetricsSDK", cache.Config{MeterProvider: mp}},
	} {
		obs := connect(tc.cfg)
		b.Run(tc.name+"/Get", func(b *testing.B) {
			pair.Run(b,
				func(int) error { _, err := obs.Get(ctx, "k"); return err },
				func(int) error { _, err := base.Get(ctx, "k"); return err })
		})
		b.Run(tc.name+"/Set", func(b *testing.B) {
			pair.Run(b,
				func(int) error { return obs.Set(ctx, "k", value, time.Hour) },
				func(int) error { return base.Set(ctx, "k", value, time.Hour) })
		})
	}
}
