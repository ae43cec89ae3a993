package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCapAndDelay(t *testing.T) {
	p := Policy{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	want := []time.Duration{10, 20, 40, 80, 100, 100}
	for i, w := range want {
		n := i + 1
		if got := p.Cap(n); got != w*time.Millisecond {
			t.Errorf("Cap(%d) = %v, want %v", n, got, w*time.Millisecond)
		}
		var lo, hi time.Duration = time.Hour, 0
		for range 2000 {
			d := p.Delay(n)
			if d <= 0 || d > p.Cap(n) {
				t.Fatalf("Delay(%d) = %v outside (0, %v]", n, d, p.Cap(n))
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter: the draws cover the range, not only its upper half.
		if lo > p.Cap(n)/4 || hi < p.Cap(n)*3/4 {
			t.Errorf("Delay(%d) drew only [%v, %v] of (0, %v]", n, lo, hi, p.Cap(n))
		}
	}
	if p.Cap(1000) != p.Max {
		t.Error("Cap does not saturate at Max")
	}
}

func TestNormalize(t *testing.T) {
	def := Policy{Min: time.Millisecond, Max: time.Second, Attempts: 3}
	if got := (Policy{}).Normalize(def); got != def {
		t.Errorf("zero policy: %+v", got)
	}
	if got := (Policy{Min: 2 * time.Second}).Normalize(def); got.Max != 2*time.Second {
		t.Errorf("Max below Min kept: %+v", got)
	}
	if got := (Policy{Attempts: 1}).Normalize(def); got.Attempts != 1 {
		t.Errorf("Attempts overridden: %+v", got)
	}
}

func TestWaitHonoursCtx(t *testing.T) {
	p := Policy{Min: time.Hour, Max: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("Wait outlasted ctx")
	}
	if err := (Policy{Min: time.Microsecond, Max: time.Microsecond}).Wait(context.Background(), 1); err != nil {
		t.Errorf("short wait: %v", err)
	}
}
