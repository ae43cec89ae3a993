package lucidkeys

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Well-known search entities, the middle part of a search index name.
const (
	EntitySessions     = "sessions"
	EntityBlocks       = "blocks"
	EntityTransactions = "transactions"
	EntityManifests    = "manifests"
	EntityAuditLogs    = "audit-logs"
)

// SearchEntities returns the well-known search entities. The slice is new
// on every call.
func SearchEntities() []string {
	return []string{EntitySessions, EntityBlocks, EntityTransactions, EntityManifests, EntityAuditLogs}
}

// MaxIndexNameBytes is the Elasticsearch and OpenSearch limit on index and
// alias names.
const MaxIndexNameBytes = 255

const (
	searchPrefix = "lucid-"
	writeSuffix  = "-write"
	monthLayout  = "2006.01"
	monthLen     = len(monthLayout)
)

// maxEntityLen leaves room in a 255-byte index name for the prefix and the
// longest suffix, "-YYYY.MM" or "-write".
const maxEntityLen = MaxIndexNameBytes - len(searchPrefix) - 1 - monthLen

// ValidateIndexName checks name against the Elasticsearch index naming
// rules, so a name is rejected here rather than by the server mid-rollover:
// lowercase only; not "." or ".."; not starting with '-', '_' or '+'; none of
// \ / * ? " < > | , # : or space; at most 255 bytes.
//
// It is stricter than the server in two ways. It rejects invalid UTF-8,
// control characters and other whitespace, which no Lucid name needs. And
// it rejects '%', which the engines allow: they percent-decode the URL
// path, so a name holding an escape would reach them as another name or a
// pattern ("%5fall" is "_all", "lucid-sessions-%2a" is
// "lucid-sessions-*"). A name that passes is therefore exactly one index or
// alias, never a pattern or list; a client percent-escapes it as one path
// segment (every byte outside [A-Za-z0-9-._~]) and the engine decodes that
// back to the same name. Names are never passed pre-escaped.
func ValidateIndexName(name string) error {
	switch {
	case name == "":
		return invalidf("index name is empty")
	case len(name) > MaxIndexNameBytes:
		return invalidf("index name is %d bytes, longer than %d", len(name), MaxIndexNameBytes)
	case name == "." || name == "..":
		return invalidf("index name %q is reserved", name)
	case strings.ContainsAny(name[:1], "-_+"):
		return invalidf("index name %q must not start with '-', '_' or '+'", name)
	case !utf8.ValidString(name):
		return invalidf("index name %q is not valid UTF-8", name)
	case strings.ToLower(name) != name:
		return invalidf("index name %q must be lowercase", name)
	}
	for i, r := range name {
		if strings.ContainsRune(forbiddenInName, r) {
			return invalidf("index name %q has forbidden character %q at offset %d", name, r, i)
		}
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return invalidf("index name %q has a non-printable character %U at offset %d", name, r, i)
		}
	}
	return nil
}

// forbiddenInName are the characters the engines forbid in index names,
// plus '%' (see ValidateIndexName).
const forbiddenInName = `\/*?"<>|,#: %`

// ValidateIndexPattern checks a search target: one or more index names,
// aliases or wildcard patterns separated by commas, such as
// "lucid-sessions-*" or "lucid-blocks-2026.10,lucid-blocks-2026.11". Each
// part must be a valid index name (ValidateIndexName) once its '*'
// wildcards are set aside, so it cannot start with '-' (an exclusion) or
// '_' ("_all"), hold a '%' escape, a path or query character or an empty
// part. Use it only for calls that read through a pattern (search, count,
// statistics); calls that create, change or delete take one name checked
// by ValidateIndexName.
func ValidateIndexPattern(pattern string) error {
	if pattern == "" {
		return invalidf("index pattern is empty")
	}
	if len(pattern) > maxPatternBytes {
		return invalidf("index pattern is %d bytes, longer than %d", len(pattern), maxPatternBytes)
	}
	for part := range strings.SplitSeq(pattern, ",") {
		if part == "" {
			return invalidf("index pattern %q has an empty part", pattern)
		}
		// A '*' is checked as an ordinary byte: the rules of the names it
		// may match are the rules of the rest of the part.
		if err := ValidateIndexName(strings.ReplaceAll(part, "*", "x")); err != nil {
			return invalidf("index pattern %q: part %q is not an index name with optional '*' wildcards "+
				"(lowercase, not starting with '-', '_' or '+', none of '%%' \\ / ? \" < > | , # : or whitespace)", pattern, part)
		}
	}
	return nil
}

// maxPatternBytes bounds a search target, which travels in the request
// line (4 KiB by default on both engines); longer lists belong in an alias.
const maxPatternBytes = 4000

// checkEntity validates a search entity: [a-z0-9][a-z0-9_-]*, short enough
// that every name built from it fits in 255 bytes. Entities ending in
// "-write" are rejected because their read alias would be another entity's
// write alias.
func checkEntity(entity string) error {
	if err := checkToken("search entity", entity, maxEntityLen, true); err != nil {
		return err
	}
	if strings.HasSuffix(entity, writeSuffix) {
		return invalidf("search entity %q must not end in %q, which marks write aliases", entity, writeSuffix)
	}
	return nil
}

// searchName builds "lucid-" + entity + suffix after checking the entity
// and, as a second line of defence, the full name.
func searchName(entity, suffix string) (string, error) {
	if err := checkEntity(entity); err != nil {
		return "", err
	}
	name := searchPrefix + entity + suffix
	if err := ValidateIndexName(name); err != nil {
		return "", err
	}
	return name, nil
}

// MonthOf returns the first instant of the month t falls in, both in UTC.
// Monthly indices are cut in UTC so that hosts in different time zones
// write to the same index.
func MonthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// MonthlyIndex returns the index that holds entity's documents for the
// month of t in UTC: "lucid-{entity}-{YYYY.MM}", e.g. "lucid-sessions-2025.10".
// Years outside 0000-9999 are rejected, as they would not fit the pattern.
func MonthlyIndex(entity string, t time.Time) (string, error) {
	m := MonthOf(t)
	if y := m.Year(); y < 0 || y > 9999 {
		return "", invalidf("search index month: year %d is outside 0000-9999", y)
	}
	return searchName(entity, "-"+m.Format(monthLayout))
}

// ParseMonthlyIndex splits a name built by MonthlyIndex into its entity and
// month (the first instant of the month, UTC). Entities may contain '-'
// ("audit-logs"), so the month is what follows the last '-'.
func ParseMonthlyIndex(name string) (entity string, month time.Time, err error) {
	if len(name) > MaxIndexNameBytes {
		return "", time.Time{}, invalidf("index name is %d bytes, longer than %d", len(name), MaxIndexNameBytes)
	}
	rest, ok := strings.CutPrefix(name, searchPrefix)
	if !ok {
		return "", time.Time{}, invalidf("index name %q does not start with %q", name, searchPrefix)
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 {
		return "", time.Time{}, invalidf("index name %q has no month suffix", name)
	}
	entity, ym := rest[:i], rest[i+1:]
	month, err = parseMonth(ym)
	if err != nil {
		return "", time.Time{}, invalidf("index name %q: month %q is not YYYY.MM", name, ym)
	}
	if err := checkEntity(entity); err != nil {
		return "", time.Time{}, err
	}
	if err := ValidateIndexName(name); err != nil {
		return "", time.Time{}, err
	}
	return entity, month, nil
}

// parseMonth parses exactly "YYYY.MM" with a month 01-12. It does not use
// time.Parse, which would accept forms MonthlyIndex never writes.
func parseMonth(s string) (time.Time, error) {
	if len(s) != monthLen || s[4] != '.' {
		return time.Time{}, ErrInvalid
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if i == 4 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return time.Time{}, ErrInvalid
		}
		n = n*10 + int(c-'0')
	}
	year, mon := n/100, n%100
	if mon < 1 || mon > 12 {
		return time.Time{}, ErrInvalid
	}
	return time.Date(year, time.Month(mon), 1, 0, 0, 0, 0, time.UTC), nil
}

// IndexPattern returns "lucid-{entity}-*", the pattern for searching all of
// entity's monthly indices; it passes ValidateIndexPattern, not
// ValidateIndexName, so it is for reads only. The pattern also matches the write alias and the
// indices of an entity that starts with "{entity}-"; none of the well-known
// entities are such prefixes of each other.
func IndexPattern(entity string) (string, error) {
	// The pattern is not an index name ('*' is forbidden in those); the
	// names it matches are checked when they are built.
	if err := checkEntity(entity); err != nil {
		return "", err
	}
	return searchPrefix + entity + "-*", nil
}

// WriteAlias returns "lucid-{entity}-write", the alias that points at the
// current month's index, so writers never compute index names themselves
// and rollover moves them all at once.
func WriteAlias(entity string) (string, error) {
	return searchName(entity, writeSuffix)
}

// ReadAlias returns "lucid-{entity}", the alias that spans all of entity's
// indices still kept, for readers that should not know about months.
func ReadAlias(entity string) (string, error) {
	return searchName(entity, "")
}
