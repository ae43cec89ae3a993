package cache

import (
	"os"
	"strconv"
	"strings"
)

// Environment variables read by FromEnv. The same names are read by the
// SDK's quickstart and examples.
const (
	// EnvURL is a redis:// or rediss:// URL with any go-redis option
	// (user, password, db, dial_timeout=, ...; addr= seeds on a Cluster).
	EnvURL = "LUCID_REDIS_URL"
	// EnvURLFallback is read when EnvURL is unset: the name many Redis
	// deployments (and Lucid's Python services) already export.
	EnvURLFallback = "REDIS_URL"
	// EnvAddrs lists host:port seeds, comma-separated, instead of a URL:
	// Sentinels with EnvMasterName, else Cluster seeds when more than one
	// (or with EnvCluster).
	EnvAddrs = "LUCID_REDIS_ADDRS"
	// EnvMasterName selects Sentinel mode: the monitored master's name.
	EnvMasterName = "LUCID_REDIS_MASTER_NAME"
	// EnvCluster ("true"/"1") forces Cluster mode with a single seed.
	EnvCluster = "LUCID_REDIS_CLUSTER"
	// EnvUsername and EnvPassword authenticate, overriding the URL's.
	// The password is never logged or quoted in an error.
	EnvUsername = "LUCID_REDIS_USERNAME"
	EnvPassword = "LUCID_REDIS_PASSWORD"
	// EnvSentinelPassword authenticates to the Sentinels themselves.
	EnvSentinelPassword = "LUCID_REDIS_SENTINEL_PASSWORD"
	// EnvDB selects the database of a single node or Sentinel master.
	EnvDB = "LUCID_REDIS_DB"
)

// FromEnv returns a Config from the variables above, for Connect:
//
//	cfg, err := cache.FromEnv()
//	if err != nil { ... }
//	c, err := cache.Connect(ctx, cfg)
//
// Unset variables leave Config's defaults (with none set, a single node
// at localhost:6379); timeouts and pool sizes go in the URL's query
// (?dial_timeout=1s&pool_size=20). Setting both a URL and
// LUCID_REDIS_ADDRS, or a malformed DB or boolean, is ErrInvalid naming
// the variable, never its value (which may hold a password).
func FromEnv() (Config, error) {
	cfg := Config{
		URL:              os.Getenv(EnvURL),
		MasterName:       os.Getenv(EnvMasterName),
		Username:         os.Getenv(EnvUsername),
		Password:         os.Getenv(EnvPassword),
		SentinelPassword: os.Getenv(EnvSentinelPassword),
	}
	if cfg.URL == "" {
		cfg.URL = os.Getenv(EnvURLFallback)
	}
	if v := os.Getenv(EnvAddrs); v != "" {
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				cfg.Addrs = append(cfg.Addrs, a)
			}
		}
		if os.Getenv(EnvURL) != "" {
			return Config{}, invalidf("env: set %s or %s, not both", EnvURL, EnvAddrs)
		}
		cfg.URL = "" // an explicit LUCID_REDIS_ADDRS wins over a generic REDIS_URL
	}
	if v := os.Getenv(EnvCluster); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, invalidf("env: %s is not a boolean (true, false, 1, 0)", EnvCluster)
		}
		cfg.Cluster = b
	}
	if v := os.Getenv(EnvDB); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Config{}, invalidf("env: %s is not a database number", EnvDB)
		}
		cfg.DB = n
	}
	return cfg, nil
}
