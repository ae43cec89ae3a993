// Package testenv finds or starts the real servers lucid-data's tests run
// against: Redis (single node and a 3-master cluster), a MongoDB-wire server,
// Elasticsearch or OpenSearch, and S3.
//
// Each server is found in this order:
//
//  1. an environment variable naming it (LUCID_TEST_REDIS_URL,
//     LUCID_TEST_REDIS_CLUSTER, LUCID_TEST_MONGO_URI, LUCID_TEST_SEARCH_URL,
//     LUCID_TEST_S3_ENDPOINT with LUCID_TEST_S3_ACCESS_KEY and
//     LUCID_TEST_S3_SECRET_KEY);
//  2. a reachable Docker daemon, through dockertest (official redis:7,
//     mongo:7 and elasticsearch:8.11 images);
//  3. a local process testenv starts itself: redis-server, FerretDB embedded
//     in the test binary (mongostore/embedded), an OpenSearch node from the
//     Maven Central runner, versitygw.
//
// Servers are shared by all tests of one test binary and stopped by Main.
// Every test gets its own namespace (Namespace) so tests and packages run in
// parallel. When a server cannot be provided the test fails if
// LUCID_REQUIRE_SERVERS=1 and is skipped with the reason otherwise: CI sets
// the variable, so nothing is silently skipped there.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv is the variable that turns a missing server from a skip into a
// failure.
const RequireEnv = "LUCID_REQUIRE_SERVERS"

// Required reports whether tests must fail rather than skip when a server is
// missing.
func Required() bool {
	v := strings.TrimSpace(os.Getenv(RequireEnv))
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// unavailable fails or skips t, depending on Required.
func unavailable(t testing.TB, server string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("testenv: %s unavailable and %s=1: %v", server, RequireEnv, err)
	}
	t.Skipf("testenv: %s unavailable (set %s=1 to fail instead): %v", server, RequireEnv, err)
}

// Namespace returns a fresh name, unique across processes, that is valid as a
// MongoDB database name, a Redis key segment, a search index prefix and an S3
// bucket name: "lt" followed by 10 lowercase hex digits.
func Namespace(t testing.TB) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testenv: namespace: %v", err)
	}
	return "lt" + hex.EncodeToString(b[:])
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shared holds what one test binary started, so Main can stop it.
var shared struct {
	mu       sync.Mutex
	stops    []func()
	announce map[string]bool
}

func onShutdown(f func()) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.stops = append(shared.stops, f)
}

// Announce records product and version of a server once per test binary and
// logs them on t. `go test -v ./internal/testenv` prints every server's once
// per run; the test script runs it first.
func announce(t testing.TB, server, product, version, where string) {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.announce == nil {
		shared.announce = map[string]bool{}
	}
	if shared.announce[server] {
		return
	}
	shared.announce[server] = true
	t.Logf("testenv: %s is %s %s (%s)", server, product, version, where)
}

// M wraps testing.M so that servers testenv started are stopped after the
// tests ran. Use it from TestMain, alone or under goleak:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.M(m).Run()) }
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }
func M(m *testing.M) interface{ Run() int } { return main{m} }

type main struct{ m *testing.M }

func (w main) Run() int {
	code := w.m.Run()
	Shutdown()
	return code
}

// httpClient is testenv's own, so Shutdown can close its idle connections
// and goleak sees no keep-alive goroutines of ours.
var httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// Shutdown stops every server this process started, newest first. M calls it.
func Shutdown() {
	shared.mu.Lock()
	stops := shared.stops
	shared.stops = nil
	shared.mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	httpClient.CloseIdleConnections()
}

// once is a sync.Once-like cell that remembers a value or an error, so a
// server that failed to start is not retried by every test.
type once[T any] struct {
	mu   sync.Mutex
	done bool
	v    T
	err  error
}

func (o *once[T]) get(f func() (T, error)) (T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.done {
		o.v, o.err = f()
		o.done = true
	}
	return o.v, o.err
}

// Context returns a context for one test's calls: cancelled when t ends and
// bounded by TestTimeout, so a hung server fails the test with a deadline
// instead of hanging the run.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), TestTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestTimeout bounds every call a test makes through Context.
const TestTimeout = 3 * time.Minute
