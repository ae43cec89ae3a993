//go:build linux && !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/stderrcap"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// recordHandler keeps every record it gets, formatted as "LEVEL msg k=v...".
type recordHandler struct {
	mu    sync.Mutex
	lines []string
	attrs []slog.Attr
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.lines = append(h.lines, b.String())
	h.mu.Unlock()
	return nil
}

func (h *recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &recordHandler{attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *recordHandler) WithGroup(string) slog.Handler { return h }

func (h *recordHandler) snapshot() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// captureStderr is internal/stderrcap's, shared by the SDK's no-stderr tests.
var captureStderr = stderrcap.Capture

// TestRedisLogsThroughLogger stops Redis under a client made by Connect
// with a password in its URL: go-redis's "failed to dial" lines reach the
// client's Logger (attributed, at WARN), nothing reaches stderr, and no line
// holds the password. Without the SDK's router, go-redis prints those lines
// to stderr.
func TestRedisLogsThroughLogger(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	const password = "s3cr3t-Pa55word-17"
	admin := redis.NewClient(&redis.Options{Addr: p.Addr()})
	noErr(t, admin.ConfigSet(ctx, "requirepass", password).Err())
	_ = admin.Close()

	h := &recordHandler{}
	url := "redis://default:" + password + "@" + p.Addr() + "/0"
	c, err := cache.Connect(ctx, cache.Config{URL: url, Logger: slog.New(h)})
	noErr(t, err)
	t.Cleanup(func() { _ = c.Close() })
	kv, err := c.Cache(cache.CacheOptions{})
	noErr(t, err)
	noErr(t, kv.Set(ctx, "lucid:test:obs:k", []byte("v"), time.Minute))

	stop := captureStderr(t)
	p.Stop()
	for i := range 3 {
		if _, err := kv.Get(ctx, "lucid:test:obs:k"); !errors.Is(err, cache.ErrUnavailable) {
			t.Fatalf("Get %d with Redis stopped: %v, want ErrUnavailable", i, err)
		}
	}
	// A second client whose Connect fails logs its own dial failure.
	h2 := &recordHandler{}
	if _, err := cache.Connect(ctx, cache.Config{URL: url, Logger: slog.New(h2)}); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Connect to a stopped Redis: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !hasLine(h.snapshot(), "failed to dial") || !hasLine(h2.snapshot(), "failed to dial") {
		if time.Now().After(deadline) {
			t.Fatalf("no dial failure logged; first client got %q, second %q", h.snapshot(), h2.snapshot())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := stop(); out != "" {
		t.Errorf("written to stderr during the outage:\n%s", out)
	}
	for _, l := range append(h.snapshot(), h2.snapshot()...) {
		if strings.Contains(l, password) {
			t.Errorf("log line holds the password: %q", l)
		}
		if strings.Contains(l, "failed to dial") && (!strings.HasPrefix(l, "WARN ") || !strings.Contains(l, "source=go-redis") ||
			strings.Contains(l, "unattributed")) {
			t.Errorf("dial failure not logged attributed at WARN with source=go-redis: %q", l)
		}
	}
	t.Logf("first client's lines: %q", h.snapshot())
}

func hasLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// TestRedisLogUnattributed: a go-redis line that names no client goes to
// every live Client's Logger (once per Logger), marked unattributed, with URL
// credentials and live passwords redacted; a closed Client gets nothing.
func TestRedisLogUnattributed(t *testing.T) {
	rdb := testenv.Redis(t)
	h1, h2, h3 := &recordHandler{}, &recordHandler{}, &recordHandler{}
	l1 := slog.New(h1)
	a := cache.NewClient(rdb, l1)
	b := cache.NewClient(rdb, l1) // same Logger: one line, not two
	c := cache.NewClient(rdb, slog.New(h2))
	d := cache.NewClient(rdb, slog.New(h3))
	noErr(t, d.Close())
	cache.TestenvRedisLog(context.Background(), "sentinel: new master=%q addr=%q via redis://u:hunter2@x:1", "m", "x:1")
	for name, h := range map[string]*recordHandler{"first": h1, "second": h2} {
		got := h.snapshot()
		if len(got) != 1 || !strings.Contains(got[0], "redis_client=unattributed") ||
			!strings.Contains(got[0], "//REDACTED@") || strings.Contains(got[0], "hunter2") || !strings.HasPrefix(got[0], "INFO ") {
			t.Errorf("%s logger got %q", name, got)
		}
	}
	if got := h3.snapshot(); len(got) != 0 {
		t.Errorf("closed client's logger got %q", got)
	}
	for _, x := range []*cache.Client{a, b, c} {
		noErr(t, x.Close())
	}
}
