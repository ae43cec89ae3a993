//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestTracing runs a cache round trip, a session and a limiter call on a
// private Redis with a password, through a client traced into an in-memory
// recorder, then one call with Redis stopped: spans are named after the
// commands, carry db.system, db.operation and the server address, the
// failed one carries the SDK's error kind, and no attribute or event holds
// the password, the session token or a stored value.
func TestTracing(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	const password = "tr4ce-Pa55word-17"
	admin := redis.NewClient(&redis.Options{Addr: p.Addr()})
	noErr(t, admin.ConfigSet(ctx, "requirepass", password).Err())
	_ = admin.Close()

	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(ctx) })
	c, err := cache.Connect(ctx, cache.Config{URL: "redis://default:" + password + "@" + p.Addr() + "/0", TracerProvider: tp})
	noErr(t, err)
	t.Cleanup(func() { _ = c.Close() })

	kv, err := c.Cache(cache.CacheOptions{})
	noErr(t, err)
	const value = "a-stored-value-that-must-not-leak"
	noErr(t, kv.Set(ctx, "lucid:test:trace:k", []byte(value), time.Minute))
	got, err := kv.Get(ctx, "lucid:test:trace:k")
	noErr(t, err)
	if string(got) != value {
		t.Fatalf("Get %q", got)
	}
	sessions, err := c.Sessions(cache.SessionOptions{PlaintextTokens: true})
	noErr(t, err)
	s, err := sessions.Create(ctx, "user-17", map[string]string{"role": value}, time.Minute)
	noErr(t, err)
	_, err = sessions.Get(ctx, s.Token)
	noErr(t, err)
	lim, err := c.Limiter(cache.LimiterOptions{})
	noErr(t, err)
	_, err = lim.Allow(ctx, "user-17", 10, time.Minute)
	noErr(t, err)
	before := len(sr.Ended())

	p.Stop()
	if _, err := kv.Get(ctx, "lucid:test:trace:k"); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Get with Redis stopped: %v", err)
	}

	spans := sr.Ended()
	if before == 0 || len(spans) <= before {
		t.Fatalf("%d spans before the outage, %d after", before, len(spans))
	}
	names := map[string]bool{}
	var failed int
	for _, sp := range spans {
		names[sp.Name()] = true
		attrs := map[string]string{}
		for _, a := range sp.Attributes() {
			attrs[string(a.Key)] = a.Value.String()
		}
		var all strings.Builder
		fmt.Fprintf(&all, "%s %v %s", sp.Name(), attrs, sp.Status().Description)
		for _, e := range sp.Events() {
			fmt.Fprintf(&all, " %s %v", e.Name, e.Attributes)
		}
		for _, secret := range []string{password, s.Token, value} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("span holds a secret or value %q: %s", secret, all.String())
			}
		}
		if attrs["db.system"] != "redis" || attrs["server.address"] != "127.0.0.1" {
			t.Errorf("span %q attributes %v", sp.Name(), attrs)
		}
		if sp.Name() != "redis.dial" && attrs["db.operation"] == "" {
			t.Errorf("span %q has no db.operation: %v", sp.Name(), attrs)
		}
		if strings.Contains(sp.Name(), "auth") || strings.Contains(sp.Name(), "hello") {
			t.Errorf("handshake traced: %q", sp.Name())
		}
		// Besides the outage, go-redis meets errors it handles itself
		// (NOSCRIPT before EVAL, CLIENT SETINFO on an older server).
		if k := attrs["lucid.error.kind"]; k != "" {
			if attrs["error.type"] != k {
				t.Errorf("failed span %q: %v", sp.Name(), attrs)
			}
			if k == "unavailable" && sp.Name() == "get" {
				failed++
			}
		}
	}
	for _, n := range []string{"set", "get", "ping"} {
		if !names[n] {
			t.Errorf("no %q span among %v", n, names)
		}
	}
	if failed == 0 {
		t.Errorf("no get span carries the kind unavailable of the failed Get; spans %v", names)
	}
	t.Logf("span names: %v", names)
}
