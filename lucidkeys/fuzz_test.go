package lucidkeys

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzKey checks both directions: parts that build must parse back to the
// same Key, and a string ParseKey accepts must render back to itself.
func FuzzKey(f *testing.F) {
	f.Add("lucid:session:token:abc123", "session", "token", "", "abc123")
	f.Add("lucid:session:token:{user42}:abc", "session", "token", "user42", "abc")
	f.Add("lucid:session:index:{user42}", "session", "index", "user42", "")
	f.Add("lucid:s:e:a:b:{c}", "s", "e", "a:b", "c:d")
	f.Add("lucid:s:e:{}:x", "s", "e", "{", "}")
	f.Add("lucid:s:e:é\u200b", "s-_", "0", "é", "\xff")
	f.Fuzz(func(t *testing.T, s, service, entity, tag, id string) {
		var k Key
		var err error
		if tag == "" {
			k, err = NewKey(service, entity, id)
		} else {
			k, err = NewTaggedKey(service, entity, tag, id)
		}
		if err == nil {
			want := Key{Service: service, Entity: entity, ID: id, Tag: tag}
			if k != want {
				t.Fatalf("built %#v, want %#v", k, want)
			}
			str := k.String()
			if len(str) > MaxKeyLen {
				t.Fatalf("built key of %d bytes", len(str))
			}
			p, err := ParseKey(str)
			if err != nil || p != k {
				t.Fatalf("ParseKey(%q) = %#v, %v; want %#v", str, p, err, k)
			}
			if tag != "" && (k.HashTag() != tag || k.Slot() != Slot(tag)) {
				t.Fatalf("%q hashes %q, want tag %q", str, k.HashTag(), tag)
			}
			if tag == "" && k.HashTag() != str {
				t.Fatalf("untagged %q hashes %q", str, k.HashTag())
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}

		p, err := ParseKey(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("ParseKey(%q).String() = %q", s, got)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseKey(%q) returned invalid key: %v", s, err)
		}
		if p.Tag != "" && p.HashTag() != p.Tag {
			t.Fatalf("%q hashes %q, want tag %q", s, p.HashTag(), p.Tag)
		}
	})
}

// FuzzMonthlyIndex checks that MonthlyIndex output parses back to its
// entity and month, and that names ParseMonthlyIndex accepts rebuild exactly.
func FuzzMonthlyIndex(f *testing.F) {
	f.Add("lucid-audit-logs-2025.10", "audit-logs", int64(1760000000))
	f.Add("lucid-sessions-0000.01", "sessions", int64(-62167219200))
	f.Add("lucid-a-write-2025.10", "a-write", int64(253402300799))
	f.Add("lucid-x-2025.13", "x_", int64(0))
	f.Fuzz(func(t *testing.T, s, entity string, sec int64) {
		tm := time.Unix(sec, 0)
		name, err := MonthlyIndex(entity, tm)
		if err == nil {
			if err := ValidateIndexName(name); err != nil {
				t.Fatalf("MonthlyIndex built invalid name %q: %v", name, err)
			}
			e, m, err := ParseMonthlyIndex(name)
			if err != nil || e != entity || !m.Equal(MonthOf(tm)) {
				t.Fatalf("ParseMonthlyIndex(%q) = %q, %v, %v; want %q, %v", name, e, m, err, entity, MonthOf(tm))
			}
			for _, build := range []func(string) (string, error){IndexPattern, WriteAlias, ReadAlias} {
				if _, err := build(entity); err != nil {
					t.Fatalf("entity %q builds an index but not a pattern or alias: %v", entity, err)
				}
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}

		e, m, err := ParseMonthlyIndex(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !m.Equal(MonthOf(m)) || m.Location() != time.UTC {
			t.Fatalf("ParseMonthlyIndex(%q) month %v is not a month start in UTC", s, m)
		}
		got, err := MonthlyIndex(e, m)
		if err != nil || got != s {
			t.Fatalf("MonthlyIndex(ParseMonthlyIndex(%q)) = %q, %v", s, got, err)
		}
	})
}

// FuzzIndexName checks that IndexName output parses back to its parts
// (with dots in the field turned into underscores) and that names
// ParseIndexName accepts rebuild exactly.
func FuzzIndexName(f *testing.F) {
	f.Add("users_email_unique", "users", "email", "unique")
	f.Add("rate_limits_user_id_window_compound", "hardware_wallets", "device.serial", "2dsphere")
	f.Add("users__id_hashed", "users", "_id", "hashed")
	f.Add("audit_logs_a..b_ttl", "audit_logs", ".a", "TTL")
	f.Fuzz(func(t *testing.T, s, coll, field, kind string) {
		name, err := IndexName(Collection(coll), field, IndexKind(kind))
		if err == nil {
			if len(name) > MaxIndexNameLen {
				t.Fatalf("IndexName built %d bytes", len(name))
			}
			c, fl, k, err := ParseIndexName(name)
			want := strings.ReplaceAll(field, ".", "_")
			if err != nil || string(c) != coll || fl != want || string(k) != kind {
				t.Fatalf("ParseIndexName(%q) = %q, %q, %q, %v; want %q, %q, %q", name, c, fl, k, err, coll, want, kind)
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}

		c, fl, k, err := ParseIndexName(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		got, err := IndexName(c, fl, k)
		if err != nil || got != s {
			t.Fatalf("IndexName(ParseIndexName(%q)) = %q, %v", s, got, err)
		}
	})
}

// pathMeta are the bytes that would make an index name, once in a URL
// path, mean something else than that one index: an escape, a wildcard, a
// list, another path segment, a query or fragment, whitespace.
const pathMeta = "%*,/#?"

// FuzzValidateIndexName checks that a name ValidateIndexName accepts holds
// no pathMeta byte, no whitespace or control character, does not start
// with '-', '_' or '+', and survives escaping as one path segment: the
// escape has no '/', and decoding it (as the engine does) gives back the
// name, never a pattern or list. A pattern of just that name is accepted
// by ValidateIndexPattern too.
func FuzzValidateIndexName(f *testing.F) {
	for _, s := range []string{"lucid-sessions-2025.10", "%5fall", "lucid-sessions-%2a", "a%2cb", "a+b", "日本",
		"a;b=c&d@e", "_all", "-a", "a b", "a\u2028b", "a%", "%%", ".", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateIndexName(name)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if i := strings.IndexAny(name, pathMeta); i >= 0 {
			t.Fatalf("accepted %q holding %q", name, name[i])
		}
		for _, r := range name {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				t.Fatalf("accepted %q holding %U", name, r)
			}
		}
		if strings.ContainsAny(name[:1], "-_+") || name == "." || name == ".." {
			t.Fatalf("accepted %q", name)
		}
		esc := url.PathEscape(name)
		if strings.Contains(esc, "/") {
			t.Fatalf("%q escapes to %q, more than one segment", name, esc)
		}
		back, err := url.PathUnescape(esc)
		if err != nil || back != name {
			t.Fatalf("%q escapes to %q, which decodes to %q, %v", name, esc, back, err)
		}
		if err := ValidateIndexPattern(name); err != nil {
			t.Fatalf("name %q is not a valid pattern: %v", name, err)
		}
	})
}

// FuzzValidateIndexPattern checks that an accepted pattern is a list of
// non-empty parts, each a valid name once its wildcards are set aside, so
// no part is an exclusion, "_all", an escape or a path or query.
func FuzzValidateIndexPattern(f *testing.F) {
	for _, s := range []string{"lucid-sessions-*", "a,b*", "*", ",", "a,,b", "a,-b", "_all", "%2a", "a,%5fall", "a/b,c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		err := ValidateIndexPattern(pattern)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if strings.ContainsAny(pattern, "%/#?") {
			t.Fatalf("accepted %q", pattern)
		}
		for part := range strings.SplitSeq(pattern, ",") {
			if part == "" || strings.ContainsAny(part[:1], "-_+") {
				t.Fatalf("accepted %q with part %q", pattern, part)
			}
			if err := ValidateIndexName(strings.ReplaceAll(part, "*", "x")); err != nil {
				t.Fatalf("accepted %q with part %q: %v", pattern, part, err)
			}
		}
	})
}

// FuzzSlot checks that Slot stays in range and honours hash tags.
func FuzzSlot(f *testing.F) {
	f.Add("foo", "user1000")
	f.Add("{}", "")
	f.Fuzz(func(t *testing.T, key, tag string) {
		if Slot(key) >= NumSlots {
			t.Fatalf("Slot(%q) = %d", key, Slot(key))
		}
		if tag != "" && !strings.ContainsAny(tag, "{}") {
			if Slot("a{"+tag+"}"+key) != Slot(tag) {
				t.Fatalf("tag %q not honoured", tag)
			}
		}
	})
}
