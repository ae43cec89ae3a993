package mongostore

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy is the SDK's retry of transient errors (network errors, server
// selection timeouts, a cleared connection pool, NotWritablePrimary and
// other not-primary / shutting-down codes, errors labelled
// RetryableWriteError). It applies only to idempotent operations: reads
// (FindOne, Find, Stream's first batch, Count, Aggregate, Health, Stats) and
// writes whose ctx was marked with Idempotent. It never sleeps or retries
// once ctx is done. The zero value means DefaultRetryAttempts attempts with
// exponential backoff from DefaultRetryBaseDelay up to DefaultRetryMaxDelay,
// with full jitter.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it, up to MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

type idempotentKey struct{}

// Idempotent returns a ctx that marks the writes made with it as safe to
// repeat (for example a ReplaceOne or an $set of fixed values), so the SDK
// retries them on transient errors like reads. Never mark an $inc or an
// InsertOne without a caller-chosen _id: a retry after a lost
// acknowledgement would apply it twice.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func isIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

// do runs fn, retrying transient errors when idempotent. The returned error
// is fn's last error (not yet mapped).
func (d *DB) do(ctx context.Context, idempotent bool, op string, fn func(context.Context) error) error {
	p := d.cfg.Retry
	attempts := p.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultRetryAttempts
	}
	base := orDur(p.BaseDelay, DefaultRetryBaseDelay)
	maxd := orDur(p.MaxDelay, DefaultRetryMaxDelay)
	if !idempotent {
		attempts = 1
	}
	var err error
	for i := 0; ; i++ {
		err = fn(ctx)
		if err == nil || i+1 >= attempts || !isTransient(err) || ctx.Err() != nil {
			return err
		}
		delay := base << i
		if delay > maxd || delay <= 0 {
			delay = maxd
		}
		delay = time.Duration(rand.Int64N(int64(delay)) + 1)
		d.log.Debug("mongostore: retrying transient error", "op", op, "attempt", i+1, "delay", delay, "err", d.redactErr(err))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
