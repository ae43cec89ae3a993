package lucidkeys

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMonthlyIndex(t *testing.T) {
	oct := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	east := time.FixedZone("UTC+2", 2*3600)
	tests := []struct {
		entity string
		t      time.Time
		want   string
		month  time.Time
	}{
		{EntitySessions, time.Date(2025, 10, 17, 13, 4, 5, 6, time.UTC), "lucid-sessions-2025.10", oct},
		{EntityBlocks, oct, "lucid-blocks-2025.10", oct},
		{EntityTransactions, time.Date(2025, 10, 31, 23, 59, 59, 999999999, time.UTC), "lucid-transactions-2025.10", oct},
		{EntityAuditLogs, oct, "lucid-audit-logs-2025.10", oct},
		// 00:30 on 1 November in UTC+2 is still October in UTC.
		{EntityManifests, time.Date(2025, 11, 1, 0, 30, 0, 0, east), "lucid-manifests-2025.10", oct},
		{"a", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "lucid-a-0000.01", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"a_b-c9", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "lucid-a_b-c9-9999.12", time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)},
		{strings.Repeat("e", 241), oct, "lucid-" + strings.Repeat("e", 241) + "-2025.10", oct},
		// bad input
		{"", oct, "", time.Time{}},
		{"Sessions", oct, "", time.Time{}},
		{"-sessions", oct, "", time.Time{}},
		{"_sessions", oct, "", time.Time{}},
		{"ses sions", oct, "", time.Time{}},
		{"ses.sions", oct, "", time.Time{}},
		{"ses*", oct, "", time.Time{}},
		{"ses:x", oct, "", time.Time{}},
		{"séssions", oct, "", time.Time{}},
		{"s\x00", oct, "", time.Time{}},
		{"sessions-write", oct, "", time.Time{}},
		{strings.Repeat("e", 242), oct, "", time.Time{}},
		{"a", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "", time.Time{}},
		{"a", time.Date(-1, 12, 1, 0, 0, 0, 0, time.UTC), "", time.Time{}},
	}
	for _, tt := range tests {
		got, err := MonthlyIndex(tt.entity, tt.t)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Errorf("MonthlyIndex(%q, %v) = %q, %v; want ErrInvalid", tt.entity, tt.t, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("MonthlyIndex(%q, %v) = %q, %v; want %q", tt.entity, tt.t, got, err, tt.want)
			continue
		}
		e, m, err := ParseMonthlyIndex(got)
		if err != nil || e != tt.entity || !m.Equal(tt.month) || m.Location() != time.UTC {
			t.Errorf("ParseMonthlyIndex(%q) = %q, %v, %v; want %q, %v", got, e, m, err, tt.entity, tt.month)
		}
	}
}

func TestParseMonthlyIndexBad(t *testing.T) {
	for _, s := range []string{
		"",
		"lucid-",
		"lucid-sessions",
		"lucid-sessions-",
		"lucid--2025.10",
		"lucid-sessions-write",
		"lucid-sessions-2025.1",
		"lucid-sessions-2025.100",
		"lucid-sessions-2025-10",
		"lucid-sessions-2025.00",
		"lucid-sessions-2025.13",
		"lucid-sessions-25.10",
		"lucid-sessions-+025.10",
		"lucid-sessions-2025.1a",
		"lucid-sessions-2025 10",
		"lucid-sessions-write-2025.10",
		"Lucid-sessions-2025.10",
		"lucid-Sessions-2025.10",
		"lucid-_x-2025.10",
		"lucid-sessions-2025.10-",
		"lucid-séssions-2025.10",
		"other-sessions-2025.10",
		"lucid-" + strings.Repeat("e", 242) + "-2025.10",
	} {
		if e, m, err := ParseMonthlyIndex(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMonthlyIndex(%q) = %q, %v, %v; want ErrInvalid", s, e, m, err)
		}
	}
}

func TestAliasesAndPattern(t *testing.T) {
	for _, e := range SearchEntities() {
		if p, err := IndexPattern(e); err != nil || p != "lucid-"+e+"-*" {
			t.Errorf("IndexPattern(%q) = %q, %v", e, p, err)
		}
		if a, err := WriteAlias(e); err != nil || a != "lucid-"+e+"-write" {
			t.Errorf("WriteAlias(%q) = %q, %v", e, a, err)
		}
		if a, err := ReadAlias(e); err != nil || a != "lucid-"+e {
			t.Errorf("ReadAlias(%q) = %q, %v", e, a, err)
		}
	}
	for _, bad := range []string{"", "A", "-a", "a*", "a,b", "a/b", "x-write", "é"} {
		if _, err := IndexPattern(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("IndexPattern(%q) err = %v", bad, err)
		}
		if _, err := WriteAlias(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("WriteAlias(%q) err = %v", bad, err)
		}
		if _, err := ReadAlias(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ReadAlias(%q) err = %v", bad, err)
		}
	}
	want := []string{"sessions", "blocks", "transactions", "manifests", "audit-logs"}
	got := SearchEntities()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("SearchEntities() = %q, want %q", got, want)
	}
	got[0] = "x"
	if SearchEntities()[0] != EntitySessions {
		t.Error("SearchEntities returned shared slice")
	}
	// No well-known entity is a "-"-prefix of another, so IndexPattern of
	// one never matches the indices of another.
	for _, a := range want {
		for _, b := range want {
			if a != b && strings.HasPrefix(b, a+"-") {
				t.Errorf("entity %q is a prefix of %q", a, b)
			}
		}
	}
}

func TestValidateIndexName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"lucid-sessions-2025.10", true},
		{"a", true},
		{".hidden", true},
		{"a+b", true},
		{"日本", true},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), false},
		{"", false},
		{".", false},
		{"..", false},
		{"-a", false},
		{"_a", false},
		{"+a", false},
		{"A", false},
		{"aÉ", false},
		{`a\b`, false},
		{"a/b", false},
		{"a*", false},
		{"a?", false},
		{`a"`, false},
		{"a<", false},
		{"a>", false},
		{"a|b", false},
		{"a b", false},
		{"a,b", false},
		{"a#b", false},
		{"a:b", false},
		{"a\tb", false},
		{"a\x00", false},
		{"a\u00a0b", false},
		{"a\xff", false},
		// The engines percent-decode the path: issue 18.
		{"%5fall", false},
		{"lucid-sessions-%2a", false},
		{"a%2cb", false},
		{"a%2fb", false},
		{"a%25", false},
		{"a%", false},
		{"a;b=c&d@e!f'(g)~h$", true},
	}
	for _, tt := range tests {
		err := ValidateIndexName(tt.name)
		if tt.ok && err != nil {
			t.Errorf("ValidateIndexName(%q) = %v, want nil", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateIndexName(%q) = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestValidateIndexPattern(t *testing.T) {
	for _, ok := range []string{
		"lucid-sessions-*", "lucid-a-2026.10,lucid-b-*", "a", "*", "*a*", "lucid-sessions",
	} {
		if err := ValidateIndexPattern(ok); err != nil {
			t.Errorf("ValidateIndexPattern(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"", ",", "a,", ",a", "a,,b", "_all", "a,_all", "-a", "a,-b", "+a", "%5fall", "lucid-sessions-%2a",
		"a%2cb", "a/b", "a?b", "a#b", "a b", "a\tb", "A*", "a:b", `a"b`, "a|b", strings.Repeat("a,", 2001),
	} {
		if err := ValidateIndexPattern(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateIndexPattern(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	for _, e := range SearchEntities() {
		p, _ := IndexPattern(e)
		if err := ValidateIndexPattern(p); err != nil {
			t.Errorf("IndexPattern(%q) = %q fails ValidateIndexPattern: %v", e, p, err)
		}
	}
}

func TestMonthOf(t *testing.T) {
	loc := time.FixedZone("UTC-5", -5*3600)
	got := MonthOf(time.Date(2025, 12, 31, 22, 0, 0, 0, loc)) // 2026-01-01 03:00 UTC
	want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("MonthOf = %v, want %v", got, want)
	}
}
