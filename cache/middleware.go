package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// MiddlewareOptions configures Middleware.
type MiddlewareOptions struct {
	// Limit and Window are the policy: at most Limit units per trailing
	// Window. Required.
	Limit  int64
	Window time.Duration
	// Key returns the limiter key of a request; default IPKey of the
	// request's RemoteAddr (put a proxy-aware function here behind a
	// trusted reverse proxy, or UserKey of the authenticated user). An
	// error answers 400.
	Key func(r *http.Request) (string, error)
	// Cost returns the units a request costs; default 1.
	Cost func(r *http.Request) int64
	// Logger receives limiter failures; nil discards.
	Logger *slog.Logger
}

// Middleware returns net/http middleware that admits requests through l
// and answers the others with 429 Too Many Requests. Every response gets
// the headers of the IETF draft draft-ietf-httpapi-ratelimit-headers:
//
//	RateLimit-Policy: <limit>;w=<window seconds>
//	RateLimit: limit=<limit>, remaining=<remaining>, reset=<seconds>
//
// and a denied one Retry-After: <seconds>. When Redis is unavailable the
// limiter's FailurePolicy decides; a request refused by FailClosed is
// answered 503 Service Unavailable. A request whose context ended before
// the limiter answered (the client hung up) gets no response at all and
// does not reach next: that is not an outage.
func Middleware(l Limiter, o MiddlewareOptions) (func(http.Handler) http.Handler, error) {
	if l == nil {
		return nil, invalidf("middleware: limiter is nil")
	}
	if o.Limit <= 0 || o.Window < time.Second {
		return nil, invalidf("middleware: limit %d per %v: want limit >= 1 and window >= 1s", o.Limit, o.Window)
	}
	key := o.Key
	if key == nil {
		key = RemoteIPKey
	}
	log := logger(o.Logger)
	policy := strconv.FormatInt(o.Limit, 10) + ";w=" + strconv.FormatInt(int64(o.Window/time.Second), 10)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, err := key(r)
			if err != nil {
				http.Error(w, "cannot identify the client", http.StatusBadRequest)
				return
			}
			cost := int64(1)
			if o.Cost != nil {
				cost = o.Cost(r)
			}
			res, err := l.AllowN(r.Context(), k, o.Limit, o.Window, cost)
			if err != nil && r.Context().Err() != nil {
				// The client hung up (or the server's own deadline for the
				// request passed) before the limiter answered: nobody is
				// waiting for a response, and a 503 would be logged as an
				// outage that did not happen. Answer nothing.
				log.Debug("cache: rate limit middleware: request ended before the limiter answered", "err", err)
				return
			}
			if err != nil {
				log.Warn("cache: rate limit middleware", "err", err, "allowed", res.Allowed)
			}
			h := w.Header()
			h.Set("RateLimit-Policy", policy)
			h.Set("RateLimit", fmt.Sprintf("limit=%d, remaining=%d, reset=%d", res.Limit, res.Remaining, ceilSeconds(res.ResetAfter)))
			if res.Allowed {
				next.ServeHTTP(w, r)
				return
			}
			status := http.StatusTooManyRequests
			if err != nil && !errors.Is(err, ErrInvalid) {
				status = http.StatusServiceUnavailable
			}
			if res.RetryAfter > 0 {
				h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(res.RetryAfter), 1), 10))
			}
			http.Error(w, http.StatusText(status), status)
		})
	}, nil
}

// RemoteIPKey is the default Key of Middleware: IPKey of r.RemoteAddr.
func RemoteIPKey(r *http.Request) (string, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", invalidf("remote address %q is no IP", r.RemoteAddr)
	}
	return IPKey(a), nil
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
