package mongostore

import (
	"regexp"
	"strings"
	"testing"
)

// The Lucid schema's patterns all take the fast path.
func TestLucidPatternsAreSimple(t *testing.T) {
	for _, expr := range []string{idPattern, hex64Pattern, emailPattern, `^[A-Za-z0-9_.-]+$`} {
		if simpleItems(expr) == nil {
			t.Errorf("%s: not compiled to the byte matcher", expr)
		}
	}
	for _, expr := range []string{walletPattern, `^a|b$`, `^(a)$`, `^[^@]+[^x]+$`, `^[^@]{1,3}$`, `(?i)^a$`, `a+`, `^é$`} {
		if simpleItems(expr) != nil {
			t.Errorf("%s: compiled to the byte matcher, want the regexp", expr)
		}
	}
}

func TestPatternMatchesRegexp(t *testing.T) {
	cases := map[string][]string{
		emailPattern:   {"a@b.c", "user1@example.com", "a@b", "@b.c", "a@.c", "a@b.", "a@@b.c", "a b@c.d", "é@ü.ß", "a@b.c.d", "a@b..c", "\xff@b.c", "a@b\x00.c", "a\t@b.c", ""},
		idPattern:      {"u_1", "", "a-b_C9", "a b", string(make([]byte, 129)), "é"},
		hex64Pattern:   {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "00"},
		`^x?y*z{2,3}$`: {"zz", "xzz", "xyyyzzz", "xyzzzz", "y", ""},
	}
	for expr, inputs := range cases {
		p, err := compilePattern(expr)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(expr)
		for _, in := range inputs {
			if got, want := p.matchRE2([]byte(in)), re.MatchString(in); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", expr, in, got, want)
			}
		}
	}
}

// FuzzPatternMatcher: wherever the byte matcher applies, it agrees with
// package regexp.
func FuzzPatternMatcher(f *testing.F) {
	for _, expr := range []string{idPattern, hex64Pattern, emailPattern, `^[A-Za-z0-9_.-]+$`, `^x?y*z{2,3}$`, `^[^a]*b[^b]+$`} {
		f.Add(expr, "user1@example.com")
		f.Add(expr, "é@ü.ß")
	}
	f.Fuzz(func(t *testing.T, expr, in string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		p, err := compilePattern(expr)
		if err != nil {
			t.Fatalf("regexp compiles %q, compilePattern: %v", expr, err)
		}
		if got, want := p.matchRE2([]byte(in)), re.MatchString(in); got != want {
			t.Fatalf("%q on %q: %v, regexp says %v", expr, in, got, want)
		}
		// PCRE's "$": a final newline may follow what a pattern ending in
		// "$" matches.
		want := re.MatchString(in) || endsWithDollar(expr) && strings.HasSuffix(in, "\n") && re.MatchString(in[:len(in)-1])
		if got := p.match([]byte(in)); got != want {
			t.Fatalf("%q on %q: match %v, want %v (PCRE's $)", expr, in, got, want)
		}
	})
}

// TestPatternDollarLikePCRE: a pattern ending in "$" accepts one final
// newline, as the server's PCRE does (without PCRE2_DOLLAR_ENDONLY), and
// nothing more; an escaped "$" is a character.
func TestPatternDollarLikePCRE(t *testing.T) {
	for _, c := range []struct {
		expr, in string
		want     bool
	}{
		{emailPattern, "user@example.com", true},
		{emailPattern, "user@example.com\n", true},
		{emailPattern, "user@example.com\n\n", false},
		{emailPattern, "user@example.com\r\n", false},
		{emailPattern, "\nuser@example.com", false},
		{`^a\$`, "a$", true},
		{`^a\$`, "a\n", false},
		{`^a\\$`, "a\\\n", true},
		{`^a$|^b$`, "b\n", true},
		{`^a`, "a\n", true},
	} {
		p, err := compilePattern(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.match([]byte(c.in)); got != c.want {
			t.Errorf("%s on %q = %v, want %v", c.expr, c.in, got, c.want)
		}
	}
}
