package lucidkeys

import (
	"errors"
	"strings"
	"testing"
)

func TestVolumeTypes(t *testing.T) {
	want := map[VolumeType]string{
		VolumeMongoDB:       "/data/mongodb",
		VolumeRedis:         "/data/redis",
		VolumeElasticsearch: "/data/elasticsearch",
		VolumeSessions:      "/data/sessions",
		VolumeChunks:        "/data/chunks",
		VolumeMerkle:        "/data/merkle",
		VolumeBlocks:        "/data/blocks",
		VolumeLogs:          "/data/logs",
		VolumeBackups:       "/data/backups",
	}
	types := VolumeTypes()
	if len(types) != 9 {
		t.Fatalf("VolumeTypes() has %d entries, want 9", len(types))
	}
	for _, v := range types {
		if !v.Valid() {
			t.Errorf("%q not valid", v)
		}
		if got := v.DefaultPath(); got != want[v] {
			t.Errorf("%q.DefaultPath() = %q, want %q", v, got, want[v])
		}
		p, err := ParseVolumeType(string(v))
		if err != nil || p != v {
			t.Errorf("ParseVolumeType(%q) = %q, %v", v, p, err)
		}
	}
	types[0] = "x"
	if VolumeTypes()[0] != VolumeMongoDB {
		t.Error("VolumeTypes returned shared slice")
	}
	for _, bad := range []string{"", "MongoDB", "mongo", " redis", "redis\x00", "données"} {
		if _, err := ParseVolumeType(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseVolumeType(%q) err = %v, want ErrInvalid", bad, err)
		}
		if VolumeType(bad).DefaultPath() != "" {
			t.Errorf("DefaultPath of invalid %q not empty", bad)
		}
	}
	if DefaultVolumeSize != 10*1024*1024*1024 || MaxVolumeSize != 100*1024*1024*1024 || WarningThresholdPercent != 80 {
		t.Error("size constants differ from the seed")
	}
}

func TestValidateVolumeName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"0", true},
		{"mongodb-primary", true},
		{"lucid_blocks", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-a", false},
		{"_a", false},
		{"Mongo", false},
		{"a/b", false},
		{"a.b", false},
		{"..", false},
		{"a b", false},
		{"a\tb", false},
		{"a\x00", false},
		{"é", false},
	}
	for _, tt := range tests {
		err := ValidateVolumeName(tt.name)
		if tt.ok && err != nil {
			t.Errorf("ValidateVolumeName(%q) = %v, want nil", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateVolumeName(%q) = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestCollections(t *testing.T) {
	want := []string{
		"users", "sessions", "blocks", "transactions", "trust_policies",
		"manifests", "chunks", "merkle_trees", "hardware_wallets",
		"api_keys", "rate_limits", "audit_logs", "notifications", "analytics", "system_config",
	}
	got := Collections()
	if len(got) != len(want) {
		t.Fatalf("Collections() has %d entries, want %d", len(got), len(want))
	}
	for i, c := range got {
		if string(c) != want[i] {
			t.Errorf("Collections()[%d] = %q, want %q", i, c, want[i])
		}
		if p, err := ParseCollection(want[i]); err != nil || p != c || !c.Valid() {
			t.Errorf("ParseCollection(%q) = %q, %v", want[i], p, err)
		}
	}
	got[0] = "x"
	if Collections()[0] != CollUsers {
		t.Error("Collections returned shared slice")
	}
	for _, bad := range []string{"", "Users", "user", "lucid_blocks", "api-keys", "users\n"} {
		if _, err := ParseCollection(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCollection(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}
