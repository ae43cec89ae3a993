package search

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzEscapeQueryString checks that escaped text has no unescaped
// query_string operator: every special character is preceded by a
// backslash, '<' and '>' are gone, and AND/OR/NOT are not words.
func FuzzEscapeQueryString(f *testing.F) {
	for _, s := range []string{"", `a AND b`, `title:* OR _id:*`, `\`, `\\"`, `((((`, "x\x00y", `NOT a`, `&&||`, "<>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := EscapeQueryString(s)
		escaped := false
		for _, r := range out {
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '<' || r == '>':
				t.Fatalf("%q -> %q keeps %q", s, out, r)
			case strings.ContainsRune(queryStringSpecial, r):
				t.Fatalf("%q -> %q has unescaped %q", s, out, r)
			}
		}
		if escaped {
			t.Fatalf("%q -> %q ends in a lone backslash", s, out)
		}
		for _, w := range strings.Fields(out) {
			if w == "AND" || w == "OR" || w == "NOT" {
				t.Fatalf("%q -> %q keeps operator %s", s, out, w)
			}
		}
		// It renders into valid JSON.
		b, err := json.Marshal(QueryString{Text: s})
		if err != nil || !json.Valid(b) {
			t.Fatalf("%q: %v", s, err)
		}
	})
}

// FuzzEncodeDoc feeds arbitrary bytes as a document: either ErrInvalid or
// a single JSON object on one bulk line.
func FuzzEncodeDoc(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, "{\n\"a\":\n1}", `[]`, `"x"`, `{"a":`, ``, ` {"a":"\n"} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		item := BulkItem{Index: "x", Body: b}
		out, err := encodeBulkItem(&item)
		if err != nil {
			return
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%q -> %d lines", b, len(lines))
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
			t.Fatalf("%q -> body %q: %v", b, lines[1], err)
		}
	})
}
