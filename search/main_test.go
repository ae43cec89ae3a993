//go:build !lucidfuzz

package search

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }

// newTestClient connects to the test engine under a fresh index prefix and
// removes everything under that prefix when the test ends.
func newTestClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	srv := testenv.Search(t)
	if cfg.Addresses == nil {
		cfg.Addresses = []string{srv.URL}
	}
	if cfg.IndexPrefix == "" {
		cfg.IndexPrefix = testenv.Namespace(t) + "-"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cleanup(t, c, srv.URL, cfg.IndexPrefix) })
	return c
}

// cleanup deletes the indices and templates under prefix through a plain
// client (the test's client may point at a dead proxy).
func cleanup(t testing.TB, tc *Client, base, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Connect(ctx, Config{Addresses: []string{base}, IndexPrefix: prefix})
	if err != nil {
		t.Errorf("cleanup connect: %v", err)
		return
	}
	defer c.Close()
	defer tc.Close()
	var idx map[string]any
	q := url.Values{"allow_no_indices": {"true"}, "expand_wildcards": {"all"}}
	if err := c.call(ctx, "cleanup", "", raw("GET", "/"+prefix+"*/_settings", q, nil), &idx); err != nil {
		t.Errorf("cleanup list: %v", err)
		return
	}
	for name := range idx {
		if err := c.DeleteIndex(ctx, name); err != nil && !isStatus(err, 404) {
			t.Errorf("cleanup %s: %v", name, err)
		}
	}
	if err := c.DeleteTemplates(ctx); err != nil {
		t.Errorf("cleanup templates: %v", err)
	}
}

// ctxT is the harness's per-test context (cancelled when t ends, bounded).
func ctxT(t testing.TB) context.Context { return testenv.Context(t) }
