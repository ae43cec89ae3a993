//go:build linux && !lucidfuzz

package search

import (
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/internal/stderrcap"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/internal/testlog"
)

// lockedBuffer is internal/testlog's goroutine-safe buffer.
type lockedBuffer = testlog.Buffer

// captureStderr is internal/stderrcap's, shared by the SDK's no-stderr tests.
var captureStderr = stderrcap.Capture

// TestTransportLogsThroughLogger: a Client with credentials in its address
// URL, a password and an API key logs its round trips to its Logger at
// DEBUG (a 404 too), and one whose node is down logs each failed attempt
// at WARN; nothing reaches stderr (nor from a Client without a Logger) and
// no line holds a credential.
func TestTransportLogsThroughLogger(t *testing.T) {
	ctx := ctxT(t)
	const urlPass, password, apiKey = "url-Pa55word-17", "cfg-Pa55word-17", "YXBpLWtleS1zZWNyZXQtMTc="
	srv := testenv.Search(t)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("lucid", urlPass)
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	stop := captureStderr(t)
	c := newTestClient(t, Config{Addresses: []string{u.String()}, Password: password, Username: "lucid", Logger: logger})
	if _, err := c.Get(ctx, c.cfg.IndexPrefix+"missing", "doc-1", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get in a missing index: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://lucid:" + urlPass + "@" + ln.Addr().String()
	_ = ln.Close()
	_, err = Connect(ctx, Config{Addresses: []string{down}, APIKey: apiKey, MaxRetries: 1, Logger: logger})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("connect to a closed port: %v", err)
	}
	// Without a Logger: nothing anywhere.
	if _, err := Connect(ctx, Config{Addresses: []string{down}, MaxRetries: -1}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("connect to a closed port without a Logger: %v", err)
	}
	if out := stop(); out != "" {
		t.Errorf("written to stderr:\n%s", out)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var debug404, warns int
	for _, l := range lines {
		for _, secret := range []string{urlPass, password, apiKey} {
			if strings.Contains(l, secret) {
				t.Errorf("log line holds %q: %s", secret, l)
			}
		}
		switch {
		case strings.Contains(l, "level=DEBUG") && strings.Contains(l, `msg="search: round trip"`) && strings.Contains(l, "status=404"):
			debug404++
		case strings.Contains(l, "level=WARN") && strings.Contains(l, `msg="search: round trip failed"`) && strings.Contains(l, "err="):
			warns++
		}
	}
	if debug404 != 1 || warns != 2 {
		t.Errorf("%d DEBUG 404 round trips (want 1), %d WARN failed ones (want 2, one per attempt):\n%s", debug404, warns, logs.String())
	}
	t.Logf("log:\n%s", logs.String())
}
