package mongostore

import (
	"context"
	"time"

	"github.com/HamiGames/lucid-data/internal/backoff"
)

// RetryPolicy is the SDK's retry of transient errors (network errors, server
// selection timeouts, a cleared connection pool, NotWritablePrimary and
// other not-primary / shutting-down codes, errors labelled
// RetryableWriteError). It applies only to idempotent operations: reads
// (FindOne, Find, Stream's first batch, Count, Aggregate, Health, Stats) and
// writes whose ctx was marked with Idempotent. It never sleeps or retries
// once ctx is done. The zero value means DefaultRetryAttempts attempts with
// exponential backoff from DefaultRetryBaseDelay up to DefaultRetryMaxDelay,
// with full jitter: the n-th wait is drawn uniformly from
// (0, min(MaxDelay, BaseDelay·2ⁿ⁻¹)] (the SDK's internal/backoff, shared
// with cache and search).
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

// policy maps RetryPolicy onto the SDK's one backoff shape.
func (p RetryPolicy) policy() backoff.Policy {
	return backoff.Policy{Min: p.BaseDelay, Max: p.MaxDelay, Attempts: p.MaxAttempts}.Normalize(backoff.Policy{
		Min: DefaultRetryBaseDelay, Max: DefaultRetryMaxDelay, Attempts: DefaultRetryAttempts})
}

// do runs fn, retrying transient errors when idempotent. A ctx already
// done is its error and a closed DB is ErrClosed, before anything is sent
// (the ctx first, as in the SDK's other packages). The returned error is
// otherwise fn's last error (not yet mapped).
func (d *DB) do(ctx context.Context, idempotent bool, op string, fn func(context.Context) error) error {
	if err := d.live(ctx, op); err != nil {
		return err
	}
	p := d.cfg.Retry.policy()
	attempts := p.Attempts
	if attempts <= 0 || !idempotent {
		attempts = 1
	}
	var err error
	for i := 1; ; i++ {
		err = fn(ctx)
		if err == nil || i >= attempts || !isTransient(err) || ctx.Err() != nil {
			return err
		}
		d.log.Debug("mongostore: retrying transient error", "op", op, "attempt", i, "err", d.redactErr(err))
		if p.Wait(ctx, i) != nil {
			return err
		}
	}
}

// live returns the caller's ctx error, or ErrClosed after Close.
func (d *DB) live(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return &Error{Kind: err, Op: op}
	}
	if d.conn.closed.Load() || d.closed.Load() {
		return &Error{Kind: ErrClosed, Op: op}
	}
	return nil
}
