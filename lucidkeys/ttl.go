package lucidkeys

import "time"

// Lifetimes of Redis keys, from the Lucid data tier's conventions.
const (
	// SessionTTL is the lifetime of an access-token session; short so a
	// stolen token is useful only briefly.
	SessionTTL time.Duration = 15 * time.Minute
	// RateLimitWindow is the length of the sliding rate-limit window.
	RateLimitWindow time.Duration = 60 * time.Second
	// CacheTTLMin and CacheTTLMax bound cache lifetimes: shorter makes the
	// cache useless, longer serves stale data for too long.
	CacheTTLMin time.Duration = 5 * time.Minute
	CacheTTLMax time.Duration = time.Hour
	// CacheTTLDefault is the lifetime of a cached value when none is given.
	CacheTTLDefault time.Duration = 5 * time.Minute
	// LockTTL is the default lease of a distributed lock, after which a
	// crashed holder's lock is released automatically.
	LockTTL time.Duration = 30 * time.Second
)

// Search index lifecycle: how old (since creation) an index may be in each
// phase. Ages are measured from index creation, as ILM and ISM do.
const (
	HotPhaseMaxAge  time.Duration = 7 * 24 * time.Hour  // frequent queries
	WarmPhaseMaxAge time.Duration = 30 * 24 * time.Hour // occasional queries
	ColdPhaseMaxAge time.Duration = 90 * 24 * time.Hour // rare queries
	DeleteAfter     time.Duration = 90 * 24 * time.Hour // then the index is deleted
)

// Phase is a lifecycle phase of a search index.
type Phase string

// Lifecycle phases in the order an index passes through them.
const (
	PhaseHot    Phase = "hot"
	PhaseWarm   Phase = "warm"
	PhaseCold   Phase = "cold"
	PhaseDelete Phase = "delete"
)

// String returns the phase name as ILM and ISM spell it.
func (p Phase) String() string { return string(p) }

// PhaseForAge returns the phase an index of the given age belongs in. Each
// phase covers [previous max age, its max age): an index exactly 7 days old
// is warm, one exactly 90 days old is deleted. A negative age (clock skew)
// counts as hot.
func PhaseForAge(age time.Duration) Phase {
	switch {
	case age < HotPhaseMaxAge:
		return PhaseHot
	case age < WarmPhaseMaxAge:
		return PhaseWarm
	case age < ColdPhaseMaxAge && age < DeleteAfter:
		return PhaseCold
	}
	return PhaseDelete
}

// MinAge returns the age at which an index enters phase p (the min_age of
// an ILM or ISM policy), or -1 for an unknown phase.
func (p Phase) MinAge() time.Duration {
	switch p {
	case PhaseHot:
		return 0
	case PhaseWarm:
		return HotPhaseMaxAge
	case PhaseCold:
		return WarmPhaseMaxAge
	case PhaseDelete:
		return DeleteAfter
	}
	return -1
}
