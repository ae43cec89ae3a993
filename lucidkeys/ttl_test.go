package lucidkeys

import (
	"testing"
	"time"
)

func TestTTLs(t *testing.T) {
	const day = 24 * time.Hour
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"SessionTTL", SessionTTL, 15 * time.Minute},
		{"RateLimitWindow", RateLimitWindow, time.Minute},
		{"CacheTTLMin", CacheTTLMin, 5 * time.Minute},
		{"CacheTTLMax", CacheTTLMax, time.Hour},
		{"CacheTTLDefault", CacheTTLDefault, 5 * time.Minute},
		{"LockTTL", LockTTL, 30 * time.Second},
		{"HotPhaseMaxAge", HotPhaseMaxAge, 7 * day},
		{"WarmPhaseMaxAge", WarmPhaseMaxAge, 30 * day},
		{"ColdPhaseMaxAge", ColdPhaseMaxAge, 90 * day},
		{"DeleteAfter", DeleteAfter, 90 * day},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if CacheTTLDefault < CacheTTLMin || CacheTTLDefault > CacheTTLMax {
		t.Error("CacheTTLDefault outside [CacheTTLMin, CacheTTLMax]")
	}
}

func TestPhaseForAge(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		age  time.Duration
		want Phase
	}{
		{-time.Hour, PhaseHot},
		{0, PhaseHot},
		{7*day - 1, PhaseHot},
		{7 * day, PhaseWarm},
		{30*day - 1, PhaseWarm},
		{30 * day, PhaseCold},
		{90*day - 1, PhaseCold},
		{90 * day, PhaseDelete},
		{1 << 62, PhaseDelete},
	}
	for _, tt := range tests {
		if got := PhaseForAge(tt.age); got != tt.want {
			t.Errorf("PhaseForAge(%v) = %q, want %q", tt.age, got, tt.want)
		}
	}
	for _, p := range []Phase{PhaseHot, PhaseWarm, PhaseCold, PhaseDelete} {
		if got := PhaseForAge(p.MinAge()); got != p {
			t.Errorf("PhaseForAge(%q.MinAge()) = %q", p, got)
		}
	}
	if Phase("frozen").MinAge() != -1 {
		t.Error("unknown phase MinAge != -1")
	}
}
