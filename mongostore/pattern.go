package mongostore

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// pattern is a compiled $jsonSchema pattern. Client-side validation runs
// it on every string field of every write, and the Lucid schema's patterns
// are all of one simple shape — an anchored sequence of byte classes, each
// repeated, like ^[A-Za-z0-9_-]{1,128}$ or ^[^@\s]+@[^@\s]+\.[^@\s]+$ — for
// which package regexp spends ~0.3-0.7 µs a match on set-up. Such patterns
// also get a small matcher over bytes that needs no allocation; it answers
// exactly what the regexp answers (FuzzPatternMatcher holds them together)
// or, past a step budget, hands the input to the regexp.
//
// The server evaluates $jsonSchema patterns with PCRE, whose "$" (without
// the m flag) matches at the end of the string or before a newline that
// ends it; Go's "$" only at the end. So that client-side validation is
// never stricter than the server's, a pattern ending in "$" also accepts
// a string whose last byte is "\n" when the rest matches (matchRE2 is the
// regexp's own answer). A "$" inside a pattern keeps Go's meaning.
type pattern struct {
	re        *regexp.Regexp
	items     []patItem // nil: not of the simple shape, the regexp decides
	dollarEnd bool      // the pattern ends with an unescaped "$"
}

// patItem is a byte class repeated min to max times (max < 0: unbounded).
type patItem struct {
	set      [4]uint64
	min, max int
}

// nonASCII reports whether the item takes the bytes of multi-byte runes.
func (it *patItem) nonASCII() bool { return it.set[2] != 0 }

func (it *patItem) has(c byte) bool { return it.set[c>>6]&(1<<(c&63)) != 0 }

// maxPatItems bounds the matcher's recursion depth.
const maxPatItems = 16

func compilePattern(expr string) (*pattern, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &pattern{re: re, items: simpleItems(expr), dollarEnd: endsWithDollar(expr)}, nil
}

// endsWithDollar reports whether expr ends with a "$" that is an anchor,
// not an escaped character (an even number of backslashes before it).
func endsWithDollar(expr string) bool {
	if !strings.HasSuffix(expr, "$") {
		return false
	}
	n := 0
	for i := len(expr) - 2; i >= 0 && expr[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

// simpleItems returns the items of expr if it is ^item...item$ with every
// item a literal or a character class, optionally repeated, over bytes:
// ASCII-only classes, or classes holding every non-ASCII rune under an
// unbounded repeat of min <= 1 (there a multi-byte rune, or an invalid
// byte, which the regexp reads as U+FFFD, matches byte by byte exactly when
// it matches as one rune). Anything else returns nil.
func simpleItems(expr string) []patItem {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 ||
		re.Sub[0].Op != syntax.OpBeginText || re.Sub[len(re.Sub)-1].Op != syntax.OpEndText {
		return nil
	}
	var items []patItem
	for _, sub := range re.Sub[1 : len(re.Sub)-1] {
		min, max := 1, 1
		switch sub.Op {
		case syntax.OpPlus:
			min, max, sub = 1, -1, sub.Sub[0]
		case syntax.OpStar:
			min, max, sub = 0, -1, sub.Sub[0]
		case syntax.OpQuest:
			min, max, sub = 0, 1, sub.Sub[0]
		case syntax.OpRepeat:
			min, max, sub = sub.Min, sub.Max, sub.Sub[0]
		}
		if sub.Flags&syntax.FoldCase != 0 {
			return nil
		}
		switch sub.Op {
		case syntax.OpLiteral:
			if (min != 1 || max != 1) && len(sub.Rune) != 1 {
				return nil
			}
			for _, r := range sub.Rune {
				if r >= utf8.RuneSelf {
					return nil
				}
				it := patItem{min: min, max: max}
				it.set[r>>6] |= 1 << (r & 63)
				items = append(items, it)
			}
		case syntax.OpCharClass:
			it, ok := classItem(sub.Rune, min, max)
			if !ok {
				return nil
			}
			items = append(items, it)
		default:
			return nil
		}
	}
	if len(items) > maxPatItems {
		return nil
	}
	// Byte by byte, two neighbours that both take non-ASCII bytes could
	// split one multi-byte rune between them, which the regexp never does.
	// So such an item must end the pattern or be followed by an ASCII-only
	// item that cannot match empty.
	for i := range items {
		if items[i].nonASCII() && i+1 < len(items) && (items[i+1].nonASCII() || items[i+1].min == 0) {
			return nil
		}
	}
	return items
}

// classItem turns a class's rune ranges into a byte set, if it can stand
// for the class byte by byte (see simpleItems).
func classItem(ranges []rune, min, max int) (patItem, bool) {
	it := patItem{min: min, max: max}
	nonASCII := false
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi >= utf8.RuneSelf {
			// Only "every rune from lo up" is byte-safe, and only when
			// repeats are unbounded.
			if lo > utf8.RuneSelf || hi != utf8.MaxRune || max >= 0 || min > 1 {
				return it, false
			}
			nonASCII = true
			hi = utf8.RuneSelf - 1
		}
		for r := lo; r <= hi; r++ {
			it.set[r>>6] |= 1 << (r & 63)
		}
	}
	if nonASCII {
		it.set[2], it.set[3] = ^uint64(0), ^uint64(0) // every byte >= 0x80
	}
	return it, true
}

// match reports whether s matches as the server's PCRE decides: as the
// regexp does, or, for a pattern ending in "$", without a final newline.
func (p *pattern) match(s []byte) bool {
	if p.matchRE2(s) {
		return true
	}
	return p.dollarEnd && len(s) > 0 && s[len(s)-1] == '\n' && p.matchRE2(s[:len(s)-1])
}

// matchRE2 reports whether s matches as package regexp says.
func (p *pattern) matchRE2(s []byte) bool {
	if p.items != nil {
		budget := 4*len(s) + 64
		if ok, done := matchItems(p.items, s, &budget); done {
			return ok
		}
	}
	return p.re.Match(s)
}

// matchItems matches s against items, greedily with backtracking. done is
// false if the budget of steps ran out first.
func matchItems(items []patItem, s []byte, budget *int) (ok, done bool) {
	if len(items) == 0 {
		return len(s) == 0, true
	}
	it := &items[0]
	n := 0
	for n < len(s) && (it.max < 0 || n < it.max) && it.has(s[n]) {
		n++
	}
	for k := n; k >= it.min; k-- {
		if *budget--; *budget < 0 {
			return false, false
		}
		if ok, done := matchItems(items[1:], s[k:], budget); ok || !done {
			return ok, done
		}
	}
	return false, true
}
