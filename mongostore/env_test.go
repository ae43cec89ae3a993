package mongostore_test

import (
	"errors"
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
	cfg, err := mongostore.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URI != "mongodb://h:27017/" || cfg.Database != "lucid" || cfg.Password != "pw" || cfg.MaxPoolSize != 20 ||
		cfg.Timeout != 3*time.Second || cfg.ReadPreference != "secondaryPreferred" {
		t.Errorf("FromEnv = %+v", cfg)
	}
	t.Setenv(mongostore.EnvMaxPoolSize, "many")
	if _, err := mongostore.FromEnv(); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("bad pool size: %v", err)
	}
}
