package lucidkeys

// Collection is the name of a MongoDB collection of the Lucid schema.
// Names are lowercase with underscores.
type Collection string

// The 15 collections of the Lucid schema.
const (
	// Core collections.
	CollUsers         Collection = "users"          // user accounts and profiles
	CollSessions      Collection = "sessions"       // active sessions
	CollBlocks        Collection = "blocks"         // blockchain data (lucid_blocks)
	CollTransactions  Collection = "transactions"   // transaction records
	CollTrustPolicies Collection = "trust_policies" // trust policy definitions

	// Application collections.
	CollManifests       Collection = "manifests"        // manifest metadata
	CollChunks          Collection = "chunks"           // chunk storage references
	CollMerkleTrees     Collection = "merkle_trees"     // Merkle tree structures
	CollHardwareWallets Collection = "hardware_wallets" // hardware wallet registrations

	// System collections.
	CollAPIKeys       Collection = "api_keys"      // API key management
	CollRateLimits    Collection = "rate_limits"   // rate limit tracking
	CollAuditLogs     Collection = "audit_logs"    // audit trails
	CollNotifications Collection = "notifications" // user notifications
	CollAnalytics     Collection = "analytics"     // analytics data
	CollSystemConfig  Collection = "system_config" // system configuration
)

// Collections returns Lucid's 15 collections in its own order (core,
// application, system). The slice is new on every call.
func Collections() []Collection {
	return []Collection{
		CollUsers, CollSessions, CollBlocks, CollTransactions, CollTrustPolicies,
		CollManifests, CollChunks, CollMerkleTrees, CollHardwareWallets,
		CollAPIKeys, CollRateLimits, CollAuditLogs, CollNotifications, CollAnalytics, CollSystemConfig,
	}
}

// Valid reports whether c is one of the 15 known collections.
func (c Collection) Valid() bool {
	switch c {
	case CollUsers, CollSessions, CollBlocks, CollTransactions, CollTrustPolicies,
		CollManifests, CollChunks, CollMerkleTrees, CollHardwareWallets,
		CollAPIKeys, CollRateLimits, CollAuditLogs, CollNotifications, CollAnalytics, CollSystemConfig:
		return true
	}
	return false
}

// String returns the collection name, e.g. "trust_policies".
func (c Collection) String() string { return string(c) }

// ParseCollection returns the collection named s. Only the 15 known names are
// accepted, so a typo is caught before it silently creates a new collection.
func ParseCollection(s string) (Collection, error) {
	c := Collection(s)
	if !c.Valid() {
		return "", invalidf("unknown collection %q", s)
	}
	return c, nil
}
