package search

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by FromEnv. The same names are read by the
// SDK's quickstart and examples.
const (
	// EnvURL lists the node URLs, comma-separated
	// ("https://es1:9200,https://es2:9200"). A URL may carry user:password,
	// though EnvUsername/EnvPassword keep the secret out of the URL.
	EnvURL = "LUCID_SEARCH_URL"
	// EnvURLFallback is read when EnvURL is unset: the variable
	// go-elasticsearch's default client reads, which many deployments
	// already export.
	EnvURLFallback = "ELASTICSEARCH_URL"
	// EnvUsername and EnvPassword set HTTP basic authentication. The
	// password is never logged or quoted in an error.
	EnvUsername = "LUCID_SEARCH_USERNAME"
	EnvPassword = "LUCID_SEARCH_PASSWORD"
	// EnvAPIKey is a base64 "id:key" API key (it takes precedence over
	// basic authentication). Never logged or quoted.
	EnvAPIKey = "LUCID_SEARCH_API_KEY"
	// EnvCAFile names a PEM file of extra root certificates (a private CA,
	// or OpenSearch's demo certificates).
	EnvCAFile = "LUCID_SEARCH_CA_FILE"
	// EnvIndexPrefix is Config.IndexPrefix ("tenant1-").
	EnvIndexPrefix = "LUCID_SEARCH_INDEX_PREFIX"
	// EnvShards and EnvReplicas are Config.Shards and Config.Replicas of
	// the monthly indices (defaults 1 and 0, right for a single node).
	EnvShards   = "LUCID_SEARCH_SHARDS"
	EnvReplicas = "LUCID_SEARCH_REPLICAS"
	// EnvRequestTimeout is Config.RequestTimeout as a Go duration ("10s").
	EnvRequestTimeout = "LUCID_SEARCH_REQUEST_TIMEOUT"
)

// FromEnv returns a Config from the variables above, for Connect:
//
//	cfg, err := search.FromEnv()
//	if err != nil { ... }
//	c, err := search.Connect(ctx, cfg)
//
// Unset variables leave Config's defaults (with none set, DefaultAddress
// without authentication). A malformed number or duration, or an
// unreadable CA file, is ErrInvalid naming the variable, never its value
// (URLs may hold a password); addresses are checked by Connect, which
// does not echo them either.
func FromEnv() (Config, error) {
	var cfg Config
	urls := os.Getenv(EnvURL)
	if urls == "" {
		urls = os.Getenv(EnvURLFallback)
	}
	for a := range strings.SplitSeq(urls, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Addresses = append(cfg.Addresses, a)
		}
	}
	cfg.Username = os.Getenv(EnvUsername)
	cfg.Password = os.Getenv(EnvPassword)
	cfg.APIKey = os.Getenv(EnvAPIKey)
	cfg.IndexPrefix = os.Getenv(EnvIndexPrefix)
	if f := os.Getenv(EnvCAFile); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return Config{}, invalidf("env", "%s: cannot read the CA file", EnvCAFile)
		}
		cfg.CACert = b
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{EnvShards, &cfg.Shards}, {EnvReplicas, &cfg.Replicas}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return Config{}, invalidf("env", "%s is not a non-negative integer", v.name)
			}
			*v.dst = n
		}
	}
	if s := os.Getenv(EnvRequestTimeout); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return Config{}, invalidf("env", "%s is not a positive duration (10s, 1m)", EnvRequestTimeout)
		}
		cfg.RequestTimeout = d
	}
	return cfg, nil
}
