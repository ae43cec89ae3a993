//go:build !lucidfuzz

package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace/noop"
)

// TestPipelineSummary: a pipeline's span is named as redisotel names it,
// after its first 10 distinct commands in order.
func TestPipelineSummary(t *testing.T) {
	ctx := context.Background()
	var cmds []redis.Cmder
	for _, n := range []string{"get", "pttl", "get", "set", "client", "a", "b", "c", "d", "e", "f", "g", "h"} {
		cmds = append(cmds, redis.NewCmd(ctx, n, "k"))
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, ""},
		{1, "get"},
		{3, "get pttl"},
		{len(cmds), "get pttl set client a b c d e f"},
	} {
		if got := summary(cmds[:tc.n]); got != tc.want {
			t.Errorf("summary of %d: %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestStartOptsBound: the per-operation start options are cached for at
// most maxOps names; past that they are built per call, still right.
func TestStartOptsBound(t *testing.T) {
	h := newOTelHook(&redis.Options{Addr: "127.0.0.1:6379", Network: "tcp"}, noop.NewTracerProvider().Tracer(""), nil, nil)
	for i := range maxOps + 10 {
		if o := h.startOpts(fmt.Sprint("op", i)); len(o) != 2 {
			t.Fatalf("op%d: %d options", i, len(o))
		}
	}
	if n := h.nops.Load(); n != maxOps {
		t.Fatalf("%d ops cached, want %d", n, maxOps)
	}
	if !strings.HasPrefix(string(h.attrs[len(h.attrs)-1].Key), "db.connection_string") {
		t.Fatalf("node attributes %v", h.attrs)
	}
	if got := len(h.attrs); got != 4 { // db.system, server.address, server.port, db.connection_string
		t.Fatalf("node attributes %v", h.attrs)
	}
}

// TestNoopProvidersInstallNothing: OpenTelemetry's no-op tracer and meter
// providers are treated as none — no hook, no instrument — as nil is.
func TestNoopProvidersInstallNothing(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	done := make(chan struct{})
	defer close(done)
	m, err := instrument(rdb, Config{TracerProvider: noop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()}, done)
	if err != nil || m != nil {
		t.Fatalf("instrument with no-op providers = %v, %v; want nil, nil", m, err)
	}
}
