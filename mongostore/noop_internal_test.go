package mongostore

import (
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace/noop"
)

// TestNoopProvidersInstallNothing: OpenTelemetry's no-op tracer and meter
// providers are treated as none — no command or pool monitor — as nil is.
func TestNoopProvidersInstallNothing(t *testing.T) {
	d := &DB{cfg: Config{URI: "mongodb://127.0.0.1:1/lucid", TracerProvider: noop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()}}
	o, _, err := d.clientOptions()
	if err != nil {
		t.Fatal(err)
	}
	if o.Monitor != nil || o.PoolMonitor != nil {
		t.Fatalf("no-op providers installed a monitor (command %v, pool %v)", o.Monitor != nil, o.PoolMonitor != nil)
	}
}
