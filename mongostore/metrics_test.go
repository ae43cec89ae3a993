//go:build !lucidfuzz

package mongostore_test

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
)

// TestMetrics runs an insert, a duplicate and a failing aggregation on
// the test server through a DB measured by a manual reader: the command
// histogram counts each command, the error counter counts the duplicate
// and the failure by kind, the pool instruments saw the connections.
func TestMetrics(t *testing.T) {
	ctx := ctxT(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })
	db := connect(t, mongostore.Config{MeterProvider: mp, SkipValidation: true})
	const coll = lucidkeys.Collection("obs_metrics")
	doc := bson.D{{Key: "_id", Value: "m-1"}}
	if _, err := db.InsertOne(ctx, coll, doc); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertOne(ctx, coll, doc); !errors.Is(err, mongostore.ErrDuplicate) {
		t.Fatalf("second insert: %v", err)
	}
	aggErr := db.Aggregate(ctx, coll, bson.A{bson.D{{Key: "$noSuchStage", Value: 1}}}, &[]bson.M{})
	if aggErr == nil {
		t.Fatal("aggregation with an unknown stage succeeded")
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	key := func(name string, s attribute.Set) string {
		out := name
		for _, kv := range s.ToSlice() {
			if kv.Key == "server.address" {
				continue
			}
			out += " " + string(kv.Key) + "=" + kv.Value.String()
		}
		return out
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[key(m.Name, p.Attributes)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[key(m.Name, p.Attributes)] += int64(p.Count)
				}
			}
		}
	}
	for k, v := range map[string]int64{
		"lucid.mongo.command.duration db.operation=insert":                                                  2,
		"lucid.mongo.command.errors db.operation=insert lucid.error.kind=" + errkind.AlreadyExists.String(): 1,
		"lucid.mongo.command.errors db.operation=aggregate lucid.error.kind=" + errkind.Of(aggErr).String(): 1,
	} {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	if got["lucid.mongo.pool.connections"] < 1 || got["lucid.mongo.pool.checkouts result=ok"] < 3 || got["lucid.mongo.pool.connections.in_use"] < 0 {
		t.Errorf("pool instruments: %v", got)
	}
	t.Logf("metrics: %v", got)
}
