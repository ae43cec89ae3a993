package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// go-redis v9 has no per-client logger: every line it prints (a failed dial,
// a Sentinel failover, a Cluster with every node failing) goes through one
// package-level logger that writes to stderr unless redis.SetLogger replaces
// it. So the first Connect or NewClient of the process installs, once, a
// router as that logger (redisLogs below, the one piece of process-wide state
// this package has, because go-redis offers no other place). The router sends
// each line:
//
//   - to the Config.Logger of the client it came from, when the line says so:
//     a client made by Connect tags the dial errors of its connections (a dial
//     hook wraps them, without changing their message or what errors.Is/As
//     find), and go-redis's "failed to dial" lines quote that error;
//   - otherwise, to the Logger of every live Client (made by Connect or
//     NewClient and not yet closed or collected), once per distinct logger,
//     with attribute redis_client=unattributed: the line came from the
//     go-redis shared by all of them and nothing in it tells which;
//   - nowhere, when no Client is alive or every logger discards.
//
// Nothing reaches stderr. Every line is logged with attribute
// source=go-redis, at ERROR when it reports a recovered panic, at WARN when it
// reports a failure, at INFO otherwise; the passwords of the live clients and
// the credentials of any URL in it are replaced by "REDACTED" first. A program
// that wants go-redis's lines elsewhere calls redis.SetLogger after its first
// Connect: the router is never installed twice.
var (
	redisLogs       = &logRouter{routes: map[*logRoute]struct{}{}}
	redisLogInstall sync.Once
)

// logRoute is where the lines of one Client go.
type logRoute struct {
	log     *slog.Logger
	secrets []string
}

// logRouter is the redis.SetLogger implementation (see above).
type logRouter struct {
	mu     sync.RWMutex
	routes map[*logRoute]struct{}
}

// register makes r a destination of unattributed lines until c is closed or
// garbage collected, installing the router on first use.
func (lr *logRouter) register(c *Client, r *logRoute) {
	redisLogInstall.Do(func() { redis.SetLogger(lr) })
	lr.mu.Lock()
	lr.routes[r] = struct{}{}
	lr.mu.Unlock()
	c.route = r
	// A Client from NewClient is often never closed: its route must not
	// outlive it. The cleanup references only the route, never c.
	runtime.AddCleanup(c, lr.unregister, r)
}

func (lr *logRouter) unregister(r *logRoute) {
	lr.mu.Lock()
	delete(lr.routes, r)
	lr.mu.Unlock()
}

// routedError tags a dial error with the client that dialled. It changes
// neither the message nor what errors.Is and errors.As find.
type routedError struct {
	err   error
	route *logRoute
}

func (e *routedError) Error() string { return e.err.Error() }
func (e *routedError) Unwrap() error { return e.err }

// routeHook is the dial hook that tags a client's dial errors.
type routeHook struct{ route *logRoute }

func (h routeHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			return nil, &routedError{err: err, route: h.route}
		}
		return conn, nil
	}
}

func (routeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (routeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// hookDials adds the tagging dial hook to rdb and, on a Cluster or Ring, to
// every node client it creates.
func hookDials(rdb redis.UniversalClient, r *logRoute) {
	h := routeHook{r}
	if n, ok := rdb.(interface{ OnNewNode(func(*redis.Client)) }); ok {
		n.OnNewNode(func(node *redis.Client) { node.AddHook(h) })
		return
	}
	rdb.AddHook(h)
}

// urlCreds matches the user-info part of a URL ("//user:pass@").
var urlCreds = regexp.MustCompile(`//[^/@\s]*@`)

// minSecret is the shortest password redacted by substring: a shorter one
// would blank out ordinary letters of the message while protecting nothing.
const minSecret = 4

// Printf implements go-redis's logger interface.
func (lr *logRouter) Printf(ctx context.Context, format string, args ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	msg := strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")
	msg = urlCreds.ReplaceAllString(msg, "//REDACTED@")
	var route *logRoute
	for _, a := range args {
		var re *routedError
		if err, ok := a.(error); ok && errors.As(err, &re) {
			route = re.route
			break
		}
	}
	lr.mu.RLock()
	for r := range lr.routes {
		for _, s := range r.secrets {
			if len(s) >= minSecret {
				msg = strings.ReplaceAll(msg, s, "REDACTED")
			}
		}
	}
	var to []*slog.Logger
	if route == nil {
		seen := map[*slog.Logger]bool{}
		for r := range lr.routes {
			if !seen[r.log] {
				seen[r.log] = true
				to = append(to, r.log)
			}
		}
	}
	lr.mu.RUnlock()
	level := lineLevel(msg)
	if route != nil {
		for _, s := range route.secrets { // also when already closed
			if len(s) >= minSecret {
				msg = strings.ReplaceAll(msg, s, "REDACTED")
			}
		}
		route.log.Log(ctx, level, msg, "source", "go-redis")
		return
	}
	for _, l := range to {
		l.Log(ctx, level, msg, "source", "go-redis", "redis_client", "unattributed")
	}
}

// lineLevel guesses a go-redis line's level, which go-redis does not give.
func lineLevel(msg string) slog.Level {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "panic"):
		return slog.LevelError
	case strings.Contains(m, "fail"), strings.Contains(m, "error"), strings.Contains(m, "err="),
		strings.Contains(m, "refused"), strings.Contains(m, "timeout"):
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
