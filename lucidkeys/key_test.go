package lucidkeys

import (
	"errors"
	"strings"
	"testing"
)

func TestNewKey(t *testing.T) {
	tests := []struct {
		service, entity, id string
		want                string // "" means an error is expected
	}{
		{"session", "token", "abc123", "lucid:session:token:abc123"},
		{"ratelimit", "user", "user123", "lucid:ratelimit:user:user123"},
		{"cache", "manifest", "manifest456", "lucid:cache:manifest:manifest456"},
		{"lock", "payment", "tx789", "lucid:lock:payment:tx789"},
		{"a_b-c", "0", "x:y:z", "lucid:a_b-c:0:x:y:z"},
		{"s", "e", ":", "lucid:s:e::"},
		{"s", "e", "ünïcödé", "lucid:s:e:ünïcödé"},
		{"s", "e", "user@example.com", "lucid:s:e:user@example.com"},
		{"s", "e", strings.Repeat("i", 512), "lucid:s:e:" + strings.Repeat("i", 512)},
		{strings.Repeat("s", 64), "e", "i", "lucid:" + strings.Repeat("s", 64) + ":e:i"},
		// bad input
		{"", "e", "i", ""},
		{"s", "", "i", ""},
		{"s", "e", "", ""},
		{"Session", "e", "i", ""},
		{"s", "Token", "i", ""},
		{"s:x", "e", "i", ""},
		{"s", "e:x", "i", ""},
		{"s", "e*", "i", ""},
		{"s", "é", "i", ""},
		{strings.Repeat("s", 65), "e", "i", ""},
		{"s", strings.Repeat("e", 65), "i", ""},
		{"s", "e", strings.Repeat("i", 513), ""},
		{"s", "e", "a b", ""},
		{"s", "e", "a\tb", ""},
		{"s", "e", "a\nb", ""},
		{"s", "e", "a\x00b", ""},
		{"s", "e", "a\x7fb", ""},
		{"s", "e", "a\u00a0b", ""}, // no-break space
		{"s", "e", "a\u200bb", ""}, // zero-width space (format)
		{"s", "e", "a\u202eb", ""}, // bidi override
		{"s", "e", "a\xffb", ""},   // invalid UTF-8
		{"s", "e", "{tag}", ""},
		{"s", "e", "a}b", ""},
	}
	for _, tt := range tests {
		k, err := NewKey(tt.service, tt.entity, tt.id)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NewKey(%q, %q, %q) = %q, %v; want ErrInvalid", tt.service, tt.entity, tt.id, k, err)
			}
			if k != (Key{}) {
				t.Errorf("NewKey(%q, %q, %q) returned non-zero key %#v with error", tt.service, tt.entity, tt.id, k)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewKey(%q, %q, %q): %v", tt.service, tt.entity, tt.id, err)
			continue
		}
		if got := k.String(); got != tt.want {
			t.Errorf("NewKey(%q, %q, %q) = %q, want %q", tt.service, tt.entity, tt.id, got, tt.want)
		}
		p, err := ParseKey(tt.want)
		if err != nil || p != k {
			t.Errorf("ParseKey(%q) = %#v, %v; want %#v", tt.want, p, err, k)
		}
		if k.HashTag() != tt.want {
			t.Errorf("%q.HashTag() = %q, want whole key", tt.want, k.HashTag())
		}
	}
}

func TestNewTaggedKey(t *testing.T) {
	tests := []struct {
		service, entity, tag, id string
		want                     string
	}{
		{"session", "token", "user42", "abc123", "lucid:session:token:{user42}:abc123"},
		{"session", "index", "user42", "", "lucid:session:index:{user42}"},
		{"s", "e", "a:b", "c:d", "lucid:s:e:{a:b}:c:d"},
		{"s", "e", "t", ":x", "lucid:s:e:{t}::x"},
		// bad input
		{"s", "e", "", "i", ""},
		{"s", "e", "a{b", "i", ""},
		{"s", "e", "a}b", "i", ""},
		{"s", "e", "a b", "i", ""},
		{"s", "e", strings.Repeat("t", 129), "i", ""},
		{"s", "e", "t", "a}b", ""},
		{"s", "e", "t", "a b", ""},
		{"S", "e", "t", "i", ""},
	}
	for _, tt := range tests {
		k, err := NewTaggedKey(tt.service, tt.entity, tt.tag, tt.id)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NewTaggedKey(%q, %q, %q, %q) = %q, %v; want ErrInvalid", tt.service, tt.entity, tt.tag, tt.id, k, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewTaggedKey(%q, %q, %q, %q): %v", tt.service, tt.entity, tt.tag, tt.id, err)
			continue
		}
		if got := k.String(); got != tt.want {
			t.Errorf("NewTaggedKey(...) = %q, want %q", got, tt.want)
		}
		if k.HashTag() != tt.tag {
			t.Errorf("%q.HashTag() = %q, want %q", tt.want, k.HashTag(), tt.tag)
		}
		if k.Slot() != Slot(tt.tag) {
			t.Errorf("%q.Slot() = %d, want Slot(tag) = %d", tt.want, k.Slot(), Slot(tt.tag))
		}
		p, err := ParseKey(tt.want)
		if err != nil || p != k {
			t.Errorf("ParseKey(%q) = %#v, %v; want %#v", tt.want, p, err, k)
		}
	}
}

func TestParseKeyBad(t *testing.T) {
	for _, s := range []string{
		"",
		"lucid",
		"lucid:",
		"lucid:s",
		"lucid:s:e",
		"lucid:s:e:",
		"Lucid:s:e:i",
		"other:s:e:i",
		"lucid::e:i",
		"lucid:s::i",
		"lucid:S:e:i",
		"lucid:s:e:a b",
		"lucid:s:e:{",
		"lucid:s:e:{}",
		"lucid:s:e:{}:i",
		"lucid:s:e:{t",
		"lucid:s:e:{t}:",
		"lucid:s:e:{t}i",
		"lucid:s:e:{t}:{u}",
		"lucid:s:e:i{t}",
		"lucid:s:e:{t}:i}",
		"lucid:s:e:i\n",
		"lucid:s:e:" + strings.Repeat("i", 1100),
	} {
		if k, err := ParseKey(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseKey(%q) = %#v, %v; want ErrInvalid", s, k, err)
		}
	}
}

func TestKeyValidateLiteral(t *testing.T) {
	if err := (Key{Service: "s", Entity: "e", ID: "i"}).Validate(); err != nil {
		t.Errorf("valid literal: %v", err)
	}
	if err := (Key{Service: "s", Entity: "e"}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("literal without id: %v, want ErrInvalid", err)
	}
}

func TestMustKey(t *testing.T) {
	if got := MustKey(ServiceLock, "payment", "tx789").String(); got != "lucid:lock:payment:tx789" {
		t.Errorf("MustKey = %q", got)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("MustKey with bad input did not panic")
		}
	}()
	MustKey("", "e", "i")
}

func TestKeyPrefixPattern(t *testing.T) {
	p, err := KeyPrefix(ServiceSession, "token")
	if err != nil || p != "lucid:session:token:" {
		t.Errorf("KeyPrefix = %q, %v", p, err)
	}
	p, err = Pattern(ServiceSession, "token")
	if err != nil || p != "lucid:session:token:*" {
		t.Errorf("Pattern = %q, %v", p, err)
	}
	for _, bad := range [][2]string{{"", "e"}, {"s", ""}, {"s*", "e"}, {"s", "e?"}, {"s", "[e]"}, {`s\`, "e"}, {"S", "e"}, {"s", "e:f"}} {
		if _, err := KeyPrefix(bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("KeyPrefix(%q, %q) err = %v", bad[0], bad[1], err)
		}
		if _, err := Pattern(bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Pattern(%q, %q) err = %v", bad[0], bad[1], err)
		}
	}
}

func TestSlot(t *testing.T) {
	// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
	tests := []struct {
		key  string
		want uint16
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"123456789", 12739},
		{"", 0},
		{"{user1000}.following", 3443},
		{"{}", 15257}, // empty tag: whole key hashed
		{"foo{{bar}}zap", Slot("{bar")},
		{"foo{bar}{zap}", Slot("bar")},
	}
	for _, tt := range tests {
		if got := Slot(tt.key); got != tt.want {
			t.Errorf("Slot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
	if Slot("{user1000}.following") != Slot("{user1000}.followers") {
		t.Error("keys with one hash tag are in different slots")
	}
	if hashPart("foo{}{bar}") != "foo{}{bar}" {
		t.Errorf("hashPart with empty first tag = %q, want whole key", hashPart("foo{}{bar}"))
	}
	if crc16("123456789") != 0x31C3 {
		t.Errorf("crc16 check value = %#x, want 0x31c3", crc16("123456789"))
	}
	a := mustTagged(t, ServiceSession, "token", "user42", "abc")
	b := mustTagged(t, ServiceSession, "index", "user42", "")
	if a.Slot() != b.Slot() {
		t.Error("tagged keys with one tag are in different slots")
	}
}

func mustTagged(t *testing.T, service, entity, tag, id string) Key {
	t.Helper()
	k, err := NewTaggedKey(service, entity, tag, id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
