package mongostore

import (
	"os"
	"strconv"
	"time"
)

// Environment variables read by FromEnv.
const (
	EnvURI            = "MONGODB_URI"             // connection string
	EnvDatabase       = "MONGODB_DATABASE"        // database name
	EnvUsername       = "MONGODB_USERNAME"        // overrides the URI's user
	EnvPassword       = "MONGODB_PASSWORD"        // never logged
	EnvAuthSource     = "MONGODB_AUTH_SOURCE"     // default "admin"
	EnvReplicaSet     = "MONGODB_REPLICA_SET"     // replica set name
	EnvReadPreference = "MONGODB_READ_PREFERENCE" // primary, secondaryPreferred, ...
	EnvWriteConcern   = "MONGODB_WRITE_CONCERN"   // majority or a number
	EnvMaxPoolSize    = "MONGODB_MAX_POOL_SIZE"   // connections per server
	EnvTimeout        = "MONGODB_TIMEOUT"         // per-operation timeout, e.g. "10s"
	EnvAppName        = "MONGODB_APP_NAME"        // handshake app name
)

// FromEnv returns a Config from the MONGODB_* variables above; unset
// variables leave the documented defaults. A malformed number or duration
// returns ErrInvalid naming the variable (never its value, which may be a
// secret).
func FromEnv() (Config, error) {
	cfg := Config{
		URI:            os.Getenv(EnvURI),
		Database:       os.Getenv(EnvDatabase),
		Username:       os.Getenv(EnvUsername),
		Password:       os.Getenv(EnvPassword),
		AuthSource:     os.Getenv(EnvAuthSource),
		ReplicaSet:     os.Getenv(EnvReplicaSet),
		ReadPreference: os.Getenv(EnvReadPreference),
		WriteConcern:   os.Getenv(EnvWriteConcern),
		AppName:        os.Getenv(EnvAppName),
	}
	if v := os.Getenv(EnvMaxPoolSize); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return Config{}, invalidf("env", "%s is not a positive integer", EnvMaxPoolSize)
		}
		cfg.MaxPoolSize = n
	}
	if v := os.Getenv(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Config{}, invalidf("env", "%s is not a duration such as 10s", EnvTimeout)
		}
		cfg.Timeout = d
	}
	return cfg, nil
}
