package mongostorebench

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/HamiGames/lucid-data/internal/bench/pair"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
)

// discard keeps no span: the SDK records them, the figure leaves out any
// exporter.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

// BenchmarkMongoObservabilityPaired: FindOne by _id on a DB connected with
// the SDK's tracer provider (every span recorded) or meter provider (a
// manual reader, never collected), interleaved with the same call on a DB
// without either, on the same database: overhead-% is the cost of the
// command monitor.
func BenchmarkMongoObservabilityPaired(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	users := lucidkeys.CollUsers
	filter := func(i int) bson.D { return bson.D{{Key: "_id", Value: e.ids[i%len(e.ids)]}} }
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}))
	b.Cleanup(func() { _ = tp.Shutdown(ctx) })
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = mp.Shutdown(ctx) })
	for _, tc := range []struct {
		name string
		cfg  mongostore.Config
	}{
		{"TraceSDK", mongostore.Config{TracerProvider: tp}},
		{"MetricsSDK", mongostore.Config{MeterProvider: mp}},
	} {
		tc.cfg.URI, tc.cfg.Database = serverURI, e.sdk.Database().Name()
		obs, err := mongostore.Connect(ctx, tc.cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = obs.Close(ctx) })
		b.Run(tc.name+"/FindOne", func(b *testing.B) {
			pair.Run(b,
				func(i int) error { var out bson.M; return obs.FindOne(ctx, users, filter(i), &out, nil) },
				func(i int) error { var out bson.M; return e.sdk.FindOne(ctx, users, filter(i), &out, nil) })
		})
	}
}
