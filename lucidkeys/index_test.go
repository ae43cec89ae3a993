package lucidkeys

import (
	"errors"
	"strings"
	"testing"
)

func TestIndexName(t *testing.T) {
	tests := []struct {
		coll   Collection
		field  string
		kind   IndexKind
		want   string // "" means an error is expected
		field2 string // field as ParseIndexName returns it
	}{
		{CollUsers, "email", IndexUnique, "users_email_unique", "email"},
		{CollHardwareWallets, "wallet_address", IndexUnique, "hardware_wallets_wallet_address_unique", "wallet_address"},
		{CollSessions, "user_id_created_at", IndexCompound, "sessions_user_id_created_at_compound", "user_id_created_at"},
		{CollAuditLogs, "timestamp", IndexTTL, "audit_logs_timestamp_ttl", "timestamp"},
		{CollManifests, "device.serial", IndexAsc, "manifests_device_serial_asc", "device_serial"},
		{CollUsers, "_id", IndexHashed, "users__id_hashed", "_id"},
		{CollChunks, "items.0.loc", Index2dsphere, "chunks_items_0_loc_2dsphere", "items_0_loc"},
		{CollRateLimits, "unique", IndexDesc, "rate_limits_unique_desc", "unique"},
		{CollAPIKeys, "description", IndexText, "api_keys_description_text", "description"},
		{CollSystemConfig, strings.Repeat("f", 127-len("system_config__unique")), IndexUnique,
			"system_config_" + strings.Repeat("f", 127-len("system_config__unique")) + "_unique", strings.Repeat("f", 127-len("system_config__unique"))},
		// bad input
		{CollSystemConfig, strings.Repeat("f", 128-len("system_config__unique")), IndexUnique, "", ""},
		{"", "email", IndexUnique, "", ""},
		{"Users", "email", IndexUnique, "", ""},
		{"people", "email", IndexUnique, "", ""},
		{CollUsers, "", IndexUnique, "", ""},
		{CollUsers, "email", "", "", ""},
		{CollUsers, "email", "primary", "", ""},
		{CollUsers, "email", "UNIQUE", "", ""},
		{CollUsers, "Email", IndexUnique, "", ""},
		{CollUsers, "e-mail", IndexUnique, "", ""},
		{CollUsers, "$email", IndexUnique, "", ""},
		{CollUsers, ".email", IndexUnique, "", ""},
		{CollUsers, "email.", IndexUnique, "", ""},
		{CollUsers, "a..b", IndexUnique, "", ""},
		{CollUsers, ".", IndexUnique, "", ""},
		{CollUsers, "e mail", IndexUnique, "", ""},
		{CollUsers, "email\x00", IndexUnique, "", ""},
		{CollUsers, "émail", IndexUnique, "", ""},
	}
	for _, tt := range tests {
		got, err := IndexName(tt.coll, tt.field, tt.kind)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Errorf("IndexName(%q, %q, %q) = %q, %v; want ErrInvalid", tt.coll, tt.field, tt.kind, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("IndexName(%q, %q, %q) = %q, %v; want %q", tt.coll, tt.field, tt.kind, got, err, tt.want)
			continue
		}
		c, f, k, err := ParseIndexName(got)
		if err != nil || c != tt.coll || f != tt.field2 || k != tt.kind {
			t.Errorf("ParseIndexName(%q) = %q, %q, %q, %v; want %q, %q, %q", got, c, f, k, err, tt.coll, tt.field2, tt.kind)
		}
	}
}

func TestParseIndexNameBad(t *testing.T) {
	for _, s := range []string{
		"",
		"users",
		"users_",
		"users_unique",
		"users__unique",
		"users_email_",
		"users_email_primary",
		"users_email_UNIQUE",
		"Users_email_unique",
		"people_email_unique",
		"users_e-mail_unique",
		"users_e.mail_unique",
		"users_email unique",
		"users_émail_unique",
		"rate_unique",
		"users_" + strings.Repeat("f", 122) + "_asc",
	} {
		if c, f, k, err := ParseIndexName(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseIndexName(%q) = %q, %q, %q, %v; want ErrInvalid", s, c, f, k, err)
		}
	}
}

// TestCollectionPrefixes guards ParseIndexName's longest-prefix rule: if one
// collection name plus "_" were a prefix of another, index names could be
// ambiguous.
func TestCollectionPrefixes(t *testing.T) {
	for _, a := range Collections() {
		for _, b := range Collections() {
			if a != b && strings.HasPrefix(string(b), string(a)+"_") {
				t.Errorf("collection %q is a prefix of %q", a, b)
			}
		}
	}
}
