//go:build !lucidfuzz

package cache

import (
	"context"
	"testing"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// dropSpans is a span processor that keeps nothing: the figure is the cost
// of producing a span.
type dropSpans struct{}

func (dropSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (dropSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (dropSpans) Shutdown(context.Context) error                  { return nil }
func (dropSpans) ForceFlush(context.Context) error                { return nil }

// BenchmarkHook is the CPU cost of the observability hooks alone around one
// GET (go-redis's hook chain ending in a hook that answers a miss at once,
// no server): redisotel's tracing and metrics hooks with the obsHook this
// package added inside them until it replaced all three by otelHook,
// against otelHook. The paired benchmark in internal/bench/cache measures
// the same against a real Redis, where a shared machine's noise is larger
// than the difference.
func BenchmarkHook(b *testing.B) {
	ctx := context.Background()
	o := &redis.Options{Addr: "127.0.0.1:6379", Network: "tcp"}
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	always := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(dropSpans{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = never.Shutdown(ctx); _ = always.Shutdown(ctx); _ = mp.Shutdown(ctx) })
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })

	b.Run("None", func(b *testing.B) { // the chain without observability: go-redis's own cost
		rdb := redis.NewClient(o)
		defer rdb.Close()
		rdb.AddHook(stop{})
		run(b, rdb)
	})
	for _, tc := range []struct {
		name string
		tp   trace.TracerProvider
		mp   metric.MeterProvider
	}{
		{"Unsampled", never, nil},
		{"Recording", always, nil},
		{"Metrics", nil, mp},
	} {
		b.Run(tc.name+"/redisotel", func(b *testing.B) {
			rdb := redis.NewClient(o)
			defer rdb.Close()
			if tc.tp != nil {
				if err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tc.tp),
					redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false)); err != nil {
					b.Fatal(err)
				}
			}
			var m *meters
			if tc.mp != nil {
				if err := redisotel.InstrumentMetrics(rdb, redisotel.WithMeterProvider(tc.mp), redisotel.WithCloseChan(done),
					redisotel.WithSemConvCompliantMetrics(true)); err != nil {
					b.Fatal(err)
				}
				var err error
				if m, err = newMeters(tc.mp); err != nil {
					b.Fatal(err)
				}
			}
			_ = m // obsHook counted failures only: a miss is none
			rdb.AddHook(stop{obs: true})
			run(b, rdb)
		})
		b.Run(tc.name+"/own", func(b *testing.B) {
			var tracer trace.Tracer
			if tc.tp != nil {
				tracer = tc.tp.Tracer(scopeName)
			}
			var m *meters
			var pool *poolMeters
			if tc.mp != nil {
				var err error
				if m, err = newMeters(tc.mp); err != nil {
					b.Fatal(err)
				}
				if pool, err = newPoolMeters(tc.mp, done); err != nil {
					b.Fatal(err)
				}
			}
			rdb := redis.NewClient(o)
			defer rdb.Close()
			rdb.AddHook(newOTelHook(o, tracer, m, pool))
			rdb.AddHook(stop{})
			run(b, rdb)
		})
	}
}

// stop ends a hook chain: the command returns at once, a miss, as a GET
// of an absent key. With obs it first does what obsHook did inside
// redisotel's hooks: db.operation on the recording span.
type stop struct{ obs bool }

func (stop) DialHook(next redis.DialHook) redis.DialHook { return next }
func (s stop) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if span := trace.SpanFromContext(ctx); s.obs && !redisotel.DefaultCommandFilter(cmd) && span.IsRecording() {
			span.SetAttributes(attrOperation.String(cmd.FullName()))
		}
		return redis.Nil
	}
}
func (stop) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func run(b *testing.B, rdb *redis.Client) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = rdb.Get(ctx, "lucid:bench:k")
	}
}
