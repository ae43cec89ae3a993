//go:build !lucidfuzz

package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// steps are the step lines every run prints, each with its timing.
var steps = []string{"mongodb", "schema", "register", "duplicate", "invalid", "cache", "login", "logout",
	"ratelimit", "lock", "volume", "backup", "verify", "restore", "health"}

// timed matches a step line: "name: message (duration)".
func timed(step string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + step + `: +\S.* \([0-9.]+(µs|ms|s)\)$`)
}

func runQuickstart(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, step := range steps {
		if !timed(step).MatchString(s) {
			t.Errorf("output lacks a timed %q line:\n%s", step, s)
		}
	}
	if !strings.Contains(s, "ok: every step passed") {
		t.Errorf("output lacks the final ok line:\n%s", s)
	}
	return s
}

// TestQuickstartEmbedded runs the quickstart exactly as a newcomer does:
// no server URLs, so embedded defaults.
func TestQuickstartEmbedded(t *testing.T) {
	s := runQuickstart(t, nil)
	for _, want := range []string{
		"mongodb:   connected, embedded FerretDB",
		"cache:     in memory (cache.NewMemory",
		"search:    skipped (set LUCID_SEARCH_URL",
		"duplicate: refused: mongostore: users: duplicate key in index users_email_unique",
		"invalid:   refused: mongostore: users: validation failed: field email: rule pattern",
		"logout:    session ended",
		"[errkind not found]",
		"[errkind aborted]",
		"to the local directory",
		"(zstd, age)",
		": mongodb 1 documents, volume-sessions ",
		"restore:   database into lucid_quickstart_restore_",
		"health:    up: mongodb up, cache up, volumes up",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "\nsearch:"); n != 1 {
		t.Errorf("want exactly one search line, got %d:\n%s", n, s)
	}
	t.Log("\n" + s)
}

// TestQuickstartConfigured points the quickstart at the real test servers:
// MongoDB-wire, Redis, the search engine and S3 of testenv.
func TestQuickstartConfigured(t *testing.T) {
	ns := testenv.Namespace(t)
	s3 := testenv.S3(t)
	env := map[string]string{
		"LUCID_S3_BUCKET":           s3.Bucket,
		"LUCID_S3_ENDPOINT":         s3.Endpoint,
		"LUCID_S3_REGION":           s3.Region,
		"LUCID_S3_ACCESS_KEY":       s3.AccessKey,
		"LUCID_S3_SECRET_KEY":       s3.SecretKey,
		"LUCID_MONGO_URI":           testenv.MongoURI(t),
		"LUCID_MONGO_DATABASE":      ns,
		"LUCID_REDIS_URL":           testenv.RedisURL(t),
		"LUCID_SEARCH_URL":          testenv.Search(t).URL,
		"LUCID_SEARCH_INDEX_PREFIX": ns + "-",
	}
	s := runQuickstart(t, env)
	for _, want := range []string{
		"mongodb:   connected, configured by LUCID_MONGO_URI",
		"cache:     connected, Redis ",
		"search:    ",
		"'merkle proof' (fuzzy) found 2",
		"to the S3 bucket " + s3.Bucket,
		" keys, volume-sessions ", // the Redis part, between the database and the volume
		"health:    up: mongodb up, cache up, search up, volumes up",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "skipped") {
		t.Errorf("a configured run skipped something:\n%s", s)
	}
	if !timed("search").MatchString(s) {
		t.Errorf("output lacks a timed search line:\n%s", s)
	}
	// A second run against the same servers must not collide with the first.
	runQuickstart(t, env)
	t.Log("\n" + s)
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }

// TestQuickstartFails: a server that cannot be reached fails the run (main
// then exits 1) and no "ok" line is printed.
func TestQuickstartFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err = run(ctx, &out, func(k string) string {
		if k == "LUCID_REDIS_URL" {
			return "redis://" + addr + "/0"
		}
		return ""
	})
	if err == nil || !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("run with Redis down: %v, want cache.ErrUnavailable\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "ok:") {
		t.Errorf("output after a failure:\n%s\nerr: %v", out.String(), err)
	}
}
