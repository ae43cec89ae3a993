// Package backoff is the SDK's one retry delay: exponential growth from a
// first wait to a cap, with full jitter (each wait drawn uniformly from
// (0, d]), and a wait that never outlasts the caller's ctx.
//
// Full jitter, after "Exponential Backoff And Jitter" (AWS Architecture
// Blog, 2015): of the usual variants it spreads competing retries the most
// and so does the least total work when many clients retry the same server
// or lock at once.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is the one policy shape every package exposes (under its own
// Config field names): the first wait, the cap and the total number of
// attempts. Zero fields take the defaults given to Normalize.
type Policy struct {
	// Min is the cap of the first wait; each retry doubles it.
	Min time.Duration
	// Max caps every wait.
	Max time.Duration
	// Attempts is the total number of attempts including the first; 1 means
	// no retry; 0 means until ctx is done where the caller allows it.
	Attempts int
}

// Normalize fills zero fields from def and keeps Max ≥ Min.
func (p Policy) Normalize(def Policy) Policy {
	if p.Min <= 0 {
		p.Min = def.Min
	}
	if p.Max <= 0 {
		p.Max = def.Max
	}
	if p.Max < p.Min {
		p.Max = p.Min
	}
	if p.Attempts == 0 {
		p.Attempts = def.Attempts
	}
	return p
}

// Cap is the upper bound of the wait before retry n (n = 1 for the first
// retry): min(Max, Min·2ⁿ⁻¹). The worst case of a whole call is the sum of
// Cap over its retries, which packages document.
func (p Policy) Cap(n int) time.Duration {
	d := p.Min
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Delay draws the wait before retry n uniformly from (0, Cap(n)].
func (p Policy) Delay(n int) time.Duration {
	c := p.Cap(n)
	if c <= 0 {
		return 0
	}
	return rand.N(c) + 1
}

// Wait sleeps for Delay(n) or until ctx is done, and returns ctx's error
// in that case.
func (p Policy) Wait(ctx context.Context, n int) error {
	d := p.Delay(n)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
