package search

import (
	"strings"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Every index, alias, template, policy name and document id the client puts
// in a URL goes through seg, and so through one mechanism whether esapi or
// rawRequest builds the path. esapi does not escape: it concatenates
// "http://" + "/" + name + ... and hands the string to http.NewRequest, whose
// url.Parse percent-decodes it into URL.Path and keeps the bytes as given in
// URL.RawPath, which is what goes on the wire. The engines then decode each
// path segment once. So a raw name is sent as its own bytes and decoded by
// the engine — "%5fall" arrives as "_all", "a%2cb" as the list "a,b" — and
// an escaped one is sent escaped and decoded back to the name.
// rawRequest takes its path already escaped for the same reason.

// seg is EscapePathSegment under the short name its many call sites use.
func seg(s string) string { return EscapePathSegment(s) }

// EscapePathSegment percent-escapes s as a single URL path segment: every
// byte outside the unreserved set [A-Za-z0-9-._~] becomes %XX. That is
// stricter than url.PathEscape, which leaves sub-delimiters such as '+',
// '=', '&' and '@' as they are and relies on every server reading them
// literally. The result is a valid encoding, so url.Parse keeps it verbatim
// as RawPath and the engine decodes it to exactly s.
//
// The package escapes every name it puts in a path this way; use it for the
// index, alias, repository or snapshot names of an esapi request sent
// through Client.Transport, since esapi concatenates path parts unescaped.
// It escapes, it does not validate: check a name first with
// lucidkeys.ValidateIndexName (one name) or ValidateIndexPattern (a read
// target, whose '*' and ',' are escaped too and keep their meaning, since
// the engine decodes the segment before it expands the pattern).
func EscapePathSegment(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// unreserved reports whether c is an RFC 3986 unreserved byte.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// validateName checks one index or alias name with lucidkeys'
// ValidateIndexName before any request: no '*' or ',' (never a pattern or
// list), no leading '-', '_' or '+' ("_all", exclusions), no '%' (an
// escape the engine would decode into another name or a pattern), no path,
// query or fragment characters, no whitespace. Calls that create, change or
// delete take only such names.
func validateName(op, name string) error {
	if err := lucidkeys.ValidateIndexName(name); err != nil {
		return wrapInvalid(op, "", err)
	}
	return nil
}

// validateTarget checks the target of a read that may span indices
// (Search, OpenPointInTime): an index, alias or '*' pattern, or a
// comma-separated list of them, as lucidkeys.ValidateIndexPattern says.
// It refuses '%', "_all", exclusions and empty parts.
func validateTarget(op, target string) error {
	if err := lucidkeys.ValidateIndexPattern(target); err != nil {
		return wrapInvalid(op, "", err)
	}
	return nil
}
