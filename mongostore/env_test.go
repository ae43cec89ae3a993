package mongostore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/mongostore"
)

func TestFromEnv(t *testing.T) {
	t.Setenv(mongostore.EnvURI, "mongodb://h:27017/")
	t.Setenv(mongostore.EnvDatabase, "lucid")
	t.Setenv(mongostore.EnvPassword, "pw")
	t.Setenv(mongostore.EnvMaxPoolSize, "20")
	t.Setenv(mongostore.EnvTimeout, "3s")
	t.Setenv(mongostore.EnvReadPreference, "secondaryPreferred")
	t.Setenv("MONGODB_URI", "mongodb://ignored:27017/")
	cfg, err := mongostore.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URI != "mongodb://h:27017/" || cfg.Database != "lucid" || cfg.Password != "pw" || cfg.MaxPoolSize != 20 ||
		cfg.Timeout != 3*time.Second || cfg.ReadPreference != "secondaryPreferred" {
		t.Errorf("FromEnv = %+v", cfg)
	}
	t.Setenv(mongostore.EnvMaxPoolSize, "many")
	if _, err := mongostore.FromEnv(); !errors.Is(err, mongostore.ErrInvalid) || !strings.Contains(err.Error(), mongostore.EnvMaxPoolSize) || strings.Contains(err.Error(), "many") {
		t.Errorf("bad pool size: %v", err)
	}
}

// TestFromEnvFallback: the MONGODB_* names are read when the LUCID_MONGO_*
// ones are unset, and errors name the variable that was read.
func TestFromEnvFallback(t *testing.T) {
	for _, name := range []string{mongostore.EnvURI, mongostore.EnvDatabase, mongostore.EnvPassword, mongostore.EnvMaxPoolSize, mongostore.EnvTimeout} {
		t.Setenv(name, "")
	}
	if got := mongostore.FallbackEnv(mongostore.EnvURI); got != "MONGODB_URI" {
		t.Fatalf("FallbackEnv(EnvURI) = %q", got)
	}
	t.Setenv("MONGODB_URI", "mongodb://seed:27017/")
	t.Setenv("MONGODB_DATABASE", "lucid_seed")
	t.Setenv("MONGODB_PASSWORD", "s3cret")
	t.Setenv("MONGODB_TIMEOUT", "2s")
	cfg, err := mongostore.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URI != "mongodb://seed:27017/" || cfg.Database != "lucid_seed" || cfg.Password != "s3cret" || cfg.Timeout != 2*time.Second {
		t.Errorf("FromEnv with MONGODB_* = %+v", cfg)
	}
	t.Setenv("MONGODB_MAX_POOL_SIZE", "-1")
	if _, err := mongostore.FromEnv(); !errors.Is(err, mongostore.ErrInvalid) || !strings.Contains(err.Error(), "MONGODB_MAX_POOL_SIZE") {
		t.Errorf("bad fallback pool size: %v", err)
	}
}
