package mongostore

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by FromEnv: the SDK's LUCID_MONGO_* names,
// the same ones the quickstart and examples read. Each one that is unset
// falls back to the MONGODB_* name with the same suffix (MONGODB_URI,
// MONGODB_DATABASE, MONGODB_PASSWORD, ...), the names Lucid's deployments
// already export.
const (
	EnvURI            = "LUCID_MONGO_URI"             // connection string (fallback MONGODB_URI)
	EnvDatabase       = "LUCID_MONGO_DATABASE"        // database name
	EnvUsername       = "LUCID_MONGO_USERNAME"        // overrides the URI's user
	EnvPassword       = "LUCID_MONGO_PASSWORD"        // never logged or quoted in an error
	EnvAuthSource     = "LUCID_MONGO_AUTH_SOURCE"     // default "admin"
	EnvReplicaSet     = "LUCID_MONGO_REPLICA_SET"     // replica set name
	EnvReadPreference = "LUCID_MONGO_READ_PREFERENCE" // primary, secondaryPreferred, ...
	EnvWriteConcern   = "LUCID_MONGO_WRITE_CONCERN"   // majority or a number
	EnvMaxPoolSize    = "LUCID_MONGO_MAX_POOL_SIZE"   // connections per server
	EnvTimeout        = "LUCID_MONGO_TIMEOUT"         // per-operation timeout, e.g. "10s"
	EnvAppName        = "LUCID_MONGO_APP_NAME"        // handshake app name
)

// fallbackPrefix replaces "LUCID_MONGO_" in a variable's fallback name.
const fallbackPrefix = "MONGODB_"

// FallbackEnv returns the name FromEnv reads when name (one of the Env
// constants) is unset: MONGODB_URI for LUCID_MONGO_URI, and so on.
func FallbackEnv(name string) string {
	if rest, ok := strings.CutPrefix(name, "LUCID_MONGO_"); ok {
		return fallbackPrefix + rest
	}
	return ""
}

// getenv reads name, else its MONGODB_* fallback; it returns the name it
// read, for error messages.
func getenv(name string) (value, from string) {
	if v := os.Getenv(name); v != "" {
		return v, name
	}
	fb := FallbackEnv(name)
	return os.Getenv(fb), fb
}

// FromEnv returns a Config from the variables above, for Connect:
//
//	cfg, err := mongostore.FromEnv()
//	if err != nil { ... }
//	db, err := mongostore.Connect(ctx, cfg)
//
// Unset variables leave the documented defaults (with none set,
// DefaultURI and DefaultDatabase). A malformed number or duration returns
// ErrInvalid naming the variable, never its value (which may be a secret).
func FromEnv() (Config, error) {
	get := func(name string) string { v, _ := getenv(name); return v }
	cfg := Config{
		URI:            get(EnvURI),
		Database:       get(EnvDatabase),
		Username:       get(EnvUsername),
		Password:       get(EnvPassword),
		AuthSource:     get(EnvAuthSource),
		ReplicaSet:     get(EnvReplicaSet),
		ReadPreference: get(EnvReadPreference),
		WriteConcern:   get(EnvWriteConcern),
		AppName:        get(EnvAppName),
	}
	if v, from := getenv(EnvMaxPoolSize); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return Config{}, invalidf("env", "%s is not a positive integer", from)
		}
		cfg.MaxPoolSize = n
	}
	if v, from := getenv(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Config{}, invalidf("env", "%s is not a duration such as 10s", from)
		}
		cfg.Timeout = d
	}
	return cfg, nil
}
