package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestQuickstartEmbedded runs the quickstart exactly as a newcomer does:
// no server URLs, so embedded defaults.
func TestQuickstartEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"mongodb: up, embedded FerretDB", "redis:   skipped", "search:  skipped", "ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestQuickstartConfigured points the quickstart at the real test servers.
func TestQuickstartConfigured(t *testing.T) {
	env := map[string]string{
		"LUCID_MONGO_URI":  testenv.MongoURI(t),
		"LUCID_REDIS_URL":  testenv.RedisURL(t),
		"LUCID_SEARCH_URL": testenv.Search(t).URL,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"mongodb: up, configured", "redis:   up", "search:  200 OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMain(m *testing.M) { os.Exit(testenv.M(m).Run()) }
