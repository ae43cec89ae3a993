package system

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
)

// TestFromEnv runs FromEnv's parsing over table cases: the defaults, the
// values of Lucid's service, every source of a key, and each malformed value, whose
// error must wrap backup.ErrInvalid, name the variable and never hold the
// value (some are secrets).
func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(dir, "key.txt")
	writeFile(t, idFile, "# created: today\n"+id.String()+"\n")
	recFile := filepath.Join(dir, "recipients.txt")
	writeFile(t, recFile, "# two\n"+id.Recipient().String()+"\n"+id2.Recipient().String()+"\n")
	badID := filepath.Join(dir, "bad-key.txt")
	const secretish = "AGE-SECRET-KEY-1NOTAREALKEYBUTLOOKSLIKEONEQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
	writeFile(t, badID, secretish+"\n")
	passFile := filepath.Join(dir, "pass.txt")
	writeFile(t, passFile, "correct horse battery\nsecond line ignored\n")
	emptyPass := filepath.Join(dir, "empty.txt")
	writeFile(t, emptyPass, "\n")

	type check func(t *testing.T, c Config)
	cases := []struct {
		name string
		env  map[string]string
		// wantVar, when set, is the variable the error must name.
		wantVar string
		check   check
	}{
		{name: "identity file only: defaults, recipients from the identity", env: map[string]string{EnvIdentity: idFile},
			check: func(t *testing.T, c Config) {
				if c.Schedule != DefaultSchedule || c.RetentionDays != 30 || c.StorageType != StorageLocal || c.Dir != DefaultDir ||
					c.Parallel != DefaultParallel || c.Backup.Compression != backup.Zstd || c.Backup.Plaintext {
					t.Fatalf("defaults: %+v", c)
				}
				if len(c.Backup.Recipients) != 1 || c.Backup.Recipients[0].(*age.X25519Recipient).String() != id.Recipient().String() ||
					len(c.Backup.Identities) != 1 {
					t.Fatalf("keys: %d recipients, %d identities", len(c.Backup.Recipients), len(c.Backup.Identities))
				}
				if len(c.Parts) != 4 || len(c.Backup.Checkers) != 4 {
					t.Fatalf("parts %v, checkers %d", c.Parts, len(c.Backup.Checkers))
				}
			}},
		{name: "Lucid's configuration", env: map[string]string{EnvSchedule: "0 2 * * *", EnvRetentionDays: "30", EnvStorageType: "S3",
			EnvCompression: "gzip", EnvEncryption: "True", EnvS3Bucket: "lucid", EnvRecipients: id.Recipient().String() + ", " + id2.Recipient().String()},
			check: func(t *testing.T, c Config) {
				if c.StorageType != StorageS3 || c.S3.Bucket != "lucid" || c.S3.UsePathStyle || c.Backup.Compression != backup.Gzip || len(c.Backup.Recipients) != 2 {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "S3 endpoint: path style, credentials, prefix", env: map[string]string{EnvStorageType: "s3", EnvS3Bucket: "b", EnvS3Endpoint: "http://127.0.0.1:7070",
			EnvS3AccessKey: "AK", EnvS3SecretKey: " s3cr3t ", EnvS3Prefix: "lucid/", EnvS3Region: "eu-west-1", EnvRecipFile: recFile,
			EnvLevel: "19", EnvParallel: "4", EnvJitter: "90s"},
			check: func(t *testing.T, c Config) {
				s := c.S3
				if !s.UsePathStyle || s.Endpoint != "http://127.0.0.1:7070" || s.AccessKey != "AK" || s.SecretKey != " s3cr3t " || s.Prefix != "lucid/" ||
					s.Region != "eu-west-1" || c.Backup.Level != 19 || c.Parallel != 4 || c.Jitter.Seconds() != 90 || len(c.Backup.Recipients) != 2 {
					t.Fatalf("%+v", c)
				}
				if strings.Contains(c.String(), "s3cr3t") {
					t.Fatalf("LogValue shows the secret key: %s", c)
				}
			}},
		{name: "path style off", env: map[string]string{EnvS3Endpoint: "http://h:1", EnvS3PathStyle: "false", EnvPassphrase: "pw"},
			check: func(t *testing.T, c Config) {
				if c.S3.UsePathStyle || c.Backup.Passphrase != "pw" {
					t.Fatalf("%+v", c.S3)
				}
			}},
		{name: "passphrase file", env: map[string]string{EnvPassFile: passFile, EnvIdentity: idFile},
			check: func(t *testing.T, c Config) {
				if c.Backup.Passphrase != "correct horse battery" || len(c.Backup.Recipients) != 0 || len(c.Backup.Identities) != 1 {
					t.Fatalf("passphrase %q, %d recipients", c.Backup.Passphrase, len(c.Backup.Recipients))
				}
			}},
		{name: "plaintext asked for", env: map[string]string{EnvEncryption: "false", EnvCompression: "none"},
			check: func(t *testing.T, c Config) {
				if !c.Backup.Plaintext || c.Backup.Compression != backup.None {
					t.Fatalf("%+v", c.Backup)
				}
			}},
		{name: "plaintext with an identity to read old backups", env: map[string]string{EnvEncryption: "0", EnvIdentity: idFile},
			check: func(t *testing.T, c Config) {
				if !c.Backup.Plaintext || len(c.Backup.Recipients) != 0 {
					t.Fatalf("%+v", c.Backup)
				}
			}},
		{name: "parts and selections", env: map[string]string{EnvPassphrase: "pw", EnvParts: "volumes, redis,redis", EnvVolumes: "chunks,logs",
			EnvRedisMatch: "lucid:*", EnvMongoNS: "lucid,other.c", EnvIndices: "lucid-*"},
			check: func(t *testing.T, c Config) {
				if strings.Join(c.Parts, ",") != "volume,redis" || len(c.Volumes) != 2 || c.RedisMatch != "lucid:*" || len(c.MongoNamespaces) != 2 || len(c.SearchIndices) != 1 {
					t.Fatalf("%+v", c)
				}
				if !c.Has(PartRedis) || c.Has(PartMongo) {
					t.Fatal("Has")
				}
				src := c.Select(Sources{RedisMatch: "x", MongoNamespaces: []string{"y"}})
				if src.RedisMatch != "lucid:*" || len(src.VolumeNames) != 2 {
					t.Fatalf("select %+v", src)
				}
			}},
		{name: "incremental volumes, redis prefixes", env: map[string]string{EnvPassphrase: "pw", EnvVolumeChain: "7", EnvRedisPre: "lucid:auth:, lucid:user:"},
			check: func(t *testing.T, c Config) {
				if src := c.Select(Sources{RedisMatch: "x*"}); c.VolumeChain != 7 || src.VolumeChain != 7 || len(src.RedisPrefixes) != 2 || src.RedisMatch != "" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "retention rules", env: map[string]string{EnvPassphrase: "pw", EnvRetentionDays: "7", EnvKeepLast: "3", EnvKeepDaily: "7", EnvKeepWeekly: "4", EnvKeepMonthly: "12"},
			check: func(t *testing.T, c Config) {
				if c.RetentionDays != 7 || c.KeepLast != 3 || c.KeepDaily != 7 || c.KeepWeekly != 4 || c.KeepMonthly != 12 {
					t.Fatalf("%+v", c)
				}
			}},

		// Encryption without a key is never a plaintext backup.
		{name: "encryption on by default, no key", env: map[string]string{}, wantVar: EnvEncryption},
		{name: "encryption true, no key", env: map[string]string{EnvEncryption: "yes please"}, wantVar: EnvEncryption},
		{name: "encryption True, no key", env: map[string]string{EnvEncryption: "True"}, wantVar: EnvEncryption},
		{name: "encryption false with recipients", env: map[string]string{EnvEncryption: "false", EnvRecipients: id.Recipient().String()}, wantVar: EnvEncryption},
		{name: "encryption false with a passphrase", env: map[string]string{EnvEncryption: "false", EnvPassphrase: "hunter2"}, wantVar: EnvEncryption},
		{name: "passphrase and recipients", env: map[string]string{EnvPassphrase: "hunter2", EnvRecipients: id.Recipient().String()}, wantVar: EnvPassphrase},
		{name: "passphrase twice", env: map[string]string{EnvPassphrase: "hunter2", EnvPassFile: passFile}, wantVar: EnvPassFile},
		{name: "empty passphrase file", env: map[string]string{EnvPassFile: emptyPass}, wantVar: EnvPassFile},
		{name: "missing passphrase file", env: map[string]string{EnvPassFile: filepath.Join(dir, "nope")}, wantVar: EnvPassFile},
		{name: "bad recipient", env: map[string]string{EnvRecipients: "age1notarecipient"}, wantVar: EnvRecipients},
		{name: "a secret key given as recipient", env: map[string]string{EnvRecipients: id.String()}, wantVar: EnvRecipients},
		{name: "bad identity file", env: map[string]string{EnvIdentity: badID}, wantVar: EnvIdentity},
		{name: "identity file missing", env: map[string]string{EnvIdentity: filepath.Join(dir, "nope")}, wantVar: EnvIdentity},
		{name: "recipients file of identities", env: map[string]string{EnvRecipFile: idFile}, wantVar: EnvRecipFile},

		{name: "bad schedule", env: map[string]string{EnvPassphrase: "pw", EnvSchedule: "every night"}, wantVar: EnvSchedule},
		{name: "schedule with seconds", env: map[string]string{EnvPassphrase: "pw", EnvSchedule: "0 0 2 * * *"}, wantVar: EnvSchedule},
		{name: "retention not a number", env: map[string]string{EnvPassphrase: "pw", EnvRetentionDays: "thirty"}, wantVar: EnvRetentionDays},
		{name: "retention zero", env: map[string]string{EnvPassphrase: "pw", EnvRetentionDays: "0"}, wantVar: EnvRetentionDays},
		{name: "retention negative", env: map[string]string{EnvPassphrase: "pw", EnvRetentionDays: "-1"}, wantVar: EnvRetentionDays},
		{name: "keep-last negative", env: map[string]string{EnvPassphrase: "pw", EnvKeepLast: "-3"}, wantVar: EnvKeepLast},
		{name: "storage type", env: map[string]string{EnvPassphrase: "pw", EnvStorageType: "ftp"}, wantVar: EnvStorageType},
		{name: "s3 without bucket", env: map[string]string{EnvPassphrase: "pw", EnvStorageType: "s3"}, wantVar: EnvS3Bucket},
		{name: "s3 prefix without slash", env: map[string]string{EnvPassphrase: "pw", EnvStorageType: "s3", EnvS3Bucket: "b", EnvS3Prefix: "lucid"}, wantVar: EnvS3Prefix},
		{name: "s3 secret without access key", env: map[string]string{EnvPassphrase: "pw", EnvStorageType: "s3", EnvS3Bucket: "b", EnvS3SecretKey: "hunter2"}, wantVar: EnvS3AccessKey},
		{name: "path style not a boolean", env: map[string]string{EnvPassphrase: "pw", EnvS3PathStyle: "sometimes"}, wantVar: EnvS3PathStyle},
		{name: "compression", env: map[string]string{EnvPassphrase: "pw", EnvCompression: "lz4"}, wantVar: EnvCompression},
		{name: "zstd level", env: map[string]string{EnvPassphrase: "pw", EnvLevel: "23"}, wantVar: EnvLevel},
		{name: "gzip level", env: map[string]string{EnvPassphrase: "pw", EnvCompression: "gzip", EnvLevel: "10"}, wantVar: EnvLevel},
		{name: "level without compression", env: map[string]string{EnvPassphrase: "pw", EnvCompression: "none", EnvLevel: "3"}, wantVar: EnvLevel},
		{name: "redis match and prefixes", env: map[string]string{EnvPassphrase: "pw", EnvRedisMatch: "a*", EnvRedisPre: "a:"}, wantVar: EnvRedisPre},
		{name: "volume chain", env: map[string]string{EnvPassphrase: "pw", EnvVolumeChain: "-1"}, wantVar: EnvVolumeChain},
		{name: "parallel", env: map[string]string{EnvPassphrase: "pw", EnvParallel: "0"}, wantVar: EnvParallel},
		{name: "jitter", env: map[string]string{EnvPassphrase: "pw", EnvJitter: "5 minutes"}, wantVar: EnvJitter},
		{name: "parts", env: map[string]string{EnvPassphrase: "pw", EnvParts: "mongodb,postgres"}, wantVar: EnvParts},
		{name: "parts empty", env: map[string]string{EnvPassphrase: "pw", EnvParts: " , "}, wantVar: EnvParts},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := fromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.wantVar == "" {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, c)
				return
			}
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			if !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "backup: ") || !strings.Contains(msg, tc.wantVar) {
				t.Fatalf("error %q does not name %s", msg, tc.wantVar)
			}
			for k, v := range tc.env {
				if v == "false" || v == "none" { // words of the message
					continue
				}
				if len(v) >= 4 && strings.Contains(msg, v) && !strings.HasPrefix(v, dir) {
					t.Fatalf("error %q holds the value of %s", msg, k)
				}
			}
			for _, s := range []string{secretish, id.String(), "hunter2", "correct horse"} {
				if strings.Contains(msg, s) {
					t.Fatalf("error %q holds a secret", msg)
				}
			}
		})
	}
}

// TestFromEnvProcess reads the process environment.
func TestFromEnvProcess(t *testing.T) {
	for _, k := range []string{EnvEncryption, EnvRecipients, EnvRecipFile, EnvIdentity, EnvPassFile, EnvStorageType} {
		t.Setenv(k, "")
	}
	t.Setenv(EnvPassphrase, "from the process")
	t.Setenv(EnvDir, t.TempDir())
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Backup.Passphrase != "from the process" {
		t.Fatalf("%+v", c.Backup)
	}
	m, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := m.Sink().(*backup.LocalSink); !ok || s.Dir() != os.Getenv(EnvDir) {
		t.Fatalf("sink %T", m.Sink())
	}
}

func writeFile(t *testing.T, name, s string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
