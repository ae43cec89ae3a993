package system

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/robfig/cron/v3"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/backup/redispart"
	"github.com/HamiGames/lucid-data/backup/s3sink"
	"github.com/HamiGames/lucid-data/backup/searchpart"
	"github.com/HamiGames/lucid-data/backup/volumepart"
)

// The environment FromEnv reads. The BACKUP_* names are those of Lucid's
// Python backup service; the others follow the SDK's LUCID_* scheme (the
// LUCID_S3_* names are the examples' S3 settings).
const (
	EnvSchedule      = "BACKUP_SCHEDULE"       // cron expression, 5 fields or a descriptor (default DefaultSchedule)
	EnvRetentionDays = "BACKUP_RETENTION_DAYS" // keep backups this many days (default DefaultRetentionDays)
	EnvStorageType   = "BACKUP_STORAGE_TYPE"   // "local" (default) or "s3"
	EnvCompression   = "BACKUP_COMPRESSION"    // "zstd" (default), "gzip" or "none"
	EnvEncryption    = "BACKUP_ENCRYPTION"     // boolean (default true): encrypt with age

	EnvLevel       = "LUCID_BACKUP_COMPRESSION_LEVEL" // zstd 1..22, gzip 1..9
	EnvDir         = "LUCID_BACKUP_DIR"               // local storage directory (default DefaultDir)
	EnvRecipients  = "LUCID_BACKUP_AGE_RECIPIENTS"    // age1… public keys, comma- or space-separated
	EnvRecipFile   = "LUCID_BACKUP_AGE_RECIPIENTS_FILE"
	EnvIdentity    = "LUCID_BACKUP_AGE_IDENTITY_FILE" // age identities (age-keygen output): decrypt, and encrypt to their recipients when no recipient is set
	EnvPassphrase  = "LUCID_BACKUP_PASSPHRASE"        // age scrypt passphrase (instead of recipients)
	EnvPassFile    = "LUCID_BACKUP_PASSPHRASE_FILE"   // the passphrase in a file (its first line)
	EnvParallel    = "LUCID_BACKUP_PARALLEL"          // parts streamed at once (default DefaultParallel)
	EnvJitter      = "LUCID_BACKUP_JITTER"            // random delay before a scheduled run, a Go duration
	EnvKeepLast    = "LUCID_BACKUP_KEEP_LAST"         // retention: keep the newest N (beside the days)
	EnvKeepDaily   = "LUCID_BACKUP_KEEP_DAILY"
	EnvKeepWeekly  = "LUCID_BACKUP_KEEP_WEEKLY"
	EnvKeepMonthly = "LUCID_BACKUP_KEEP_MONTHLY"
	EnvParts       = "LUCID_BACKUP_PARTS"            // which sources a set holds: mongodb,redis,search,volume (default all)
	EnvMongoNS     = "LUCID_BACKUP_MONGO_NAMESPACES" // "db" or "db.coll", comma-separated
	EnvRedisMatch  = "LUCID_BACKUP_REDIS_MATCH"      // SCAN MATCH pattern
	EnvRedisPre    = "LUCID_BACKUP_REDIS_PREFIXES"   // key prefixes, comma-separated (instead of a pattern)
	EnvIndices     = "LUCID_BACKUP_SEARCH_INDICES"   // names or patterns, comma-separated
	EnvVolumes     = "LUCID_BACKUP_VOLUMES"          // volume names, comma-separated (default every volume)
	EnvVolumeChain = "LUCID_BACKUP_VOLUME_CHAIN"     // incremental volume parts, chains of at most N parts (default 0: self-contained)

	EnvS3Bucket    = "LUCID_S3_BUCKET"
	EnvS3Endpoint  = "LUCID_S3_ENDPOINT" // S3-compatible endpoint; buckets then addressed path-style
	EnvS3Region    = "LUCID_S3_REGION"
	EnvS3AccessKey = "LUCID_S3_ACCESS_KEY"
	EnvS3SecretKey = "LUCID_S3_SECRET_KEY"
	EnvS3Session   = "LUCID_S3_SESSION_TOKEN"
	EnvS3Prefix    = "LUCID_S3_PREFIX"     // key prefix, ending in "/"
	EnvS3PathStyle = "LUCID_S3_PATH_STYLE" // boolean (default: true when LUCID_S3_ENDPOINT is set)
)

// Defaults of FromEnv.
const (
	DefaultSchedule      = "0 2 * * *" // daily at 02:00, as Lucid's service
	DefaultRetentionDays = 30
	DefaultDir           = "/data/backups"
	DefaultParallel      = 2
)

// Storage types of BACKUP_STORAGE_TYPE.
const (
	StorageLocal = "local"
	StorageS3    = "s3"
)

// Config is a system backup's configuration from the environment: where
// backups go, how they are compressed and encrypted, when they run, how long
// they are kept and what a set holds. Open turns it into a Manager.
type Config struct {
	Schedule      string        // cron expression (checked by robfig/cron's standard parser)
	Jitter        time.Duration // random delay before each scheduled run
	RetentionDays int           // keep backups younger than this many days
	// KeepLast, KeepDaily, KeepWeekly and KeepMonthly keep, beside
	// RetentionDays, the newest N backups and the newest of each of the
	// last N days, weeks and months (restic forget's rules).
	KeepLast, KeepDaily, KeepWeekly, KeepMonthly int

	StorageType string        // StorageLocal or StorageS3
	Dir         string        // the local directory (StorageLocal)
	S3          s3sink.Config // the bucket (StorageS3)

	// Backup is the Manager's configuration: compression, age recipients,
	// identities or passphrase, and the checkers of the four part kinds.
	Backup backup.Config
	// Parallel is BackupOptions.Parallel for the set's backups.
	Parallel int

	// Parts are the source kinds a set holds (PartMongo, PartRedis,
	// PartSearch, "volume"); the selections below narrow each.
	Parts           []string
	MongoNamespaces []string
	RedisMatch      string
	RedisPrefixes   []string
	SearchIndices   []string
	Volumes         []string
	VolumeChain     int // Sources.VolumeChain
}

// allKinds are the kinds of LUCID_BACKUP_PARTS.
func allKinds() []string { return []string{PartMongo, PartRedis, PartSearch, volumepart.Kind} }

// FromEnv reads Config from the environment (see the Env* names): every
// unset variable keeps its default, and a malformed value is an error
// wrapping backup.ErrInvalid that names the variable, never its value.
//
// Encryption is on unless BACKUP_ENCRYPTION says false, and then needs a key:
// recipients (LUCID_BACKUP_AGE_RECIPIENTS or _RECIPIENTS_FILE), an identity
// file whose X25519 identities give the recipients, or a passphrase. On
// without any of them is an error — never a plaintext backup — and so is
// false with recipients or a passphrase set. A passphrase cannot be combined
// with recipients (age allows it only alone).
func FromEnv() (Config, error) { return fromEnv(os.LookupEnv) }

func fromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	c := Config{Schedule: DefaultSchedule, RetentionDays: DefaultRetentionDays, StorageType: StorageLocal,
		Dir: DefaultDir, Parallel: DefaultParallel, Parts: allKinds()}

	if v := get(EnvSchedule); v != "" {
		if _, err := cron.ParseStandard(v); err != nil {
			return Config{}, envErr(EnvSchedule, "not a cron expression (5 fields, or a descriptor such as @daily)")
		}
		c.Schedule = v
	}
	var err error
	if c.Jitter, err = envDuration(get, EnvJitter); err != nil {
		return Config{}, err
	}
	if c.RetentionDays, err = envInt(get, EnvRetentionDays, c.RetentionDays, 1, 36500); err != nil {
		return Config{}, err
	}
	for k, p := range map[string]*int{EnvKeepLast: &c.KeepLast, EnvKeepDaily: &c.KeepDaily, EnvKeepWeekly: &c.KeepWeekly, EnvKeepMonthly: &c.KeepMonthly} {
		if *p, err = envInt(get, k, 0, 0, 1<<20); err != nil {
			return Config{}, err
		}
	}
	if c.Parallel, err = envInt(get, EnvParallel, c.Parallel, 1, 64); err != nil {
		return Config{}, err
	}
	if c.VolumeChain, err = envInt(get, EnvVolumeChain, 0, 0, 1000); err != nil {
		return Config{}, err
	}

	switch v := strings.ToLower(get(EnvStorageType)); v {
	case "", StorageLocal:
	case StorageS3:
		c.StorageType = StorageS3
	default:
		return Config{}, envErr(EnvStorageType, `want "local" or "s3"`)
	}
	if v := get(EnvDir); v != "" {
		c.Dir = v
	}
	c.S3 = s3sink.Config{Bucket: get(EnvS3Bucket), Endpoint: get(EnvS3Endpoint), Region: get(EnvS3Region),
		AccessKey: get(EnvS3AccessKey), SessionToken: get(EnvS3Session), Prefix: get(EnvS3Prefix)}
	// A secret's surrounding spaces may be part of it: read it untrimmed.
	c.S3.SecretKey, _ = lookup(EnvS3SecretKey)
	c.S3.UsePathStyle = c.S3.Endpoint != ""
	if v := get(EnvS3PathStyle); v != "" {
		if c.S3.UsePathStyle, err = strconv.ParseBool(v); err != nil {
			return Config{}, envErr(EnvS3PathStyle, "not a boolean")
		}
	}
	if c.StorageType == StorageS3 {
		if c.S3.Bucket == "" {
			return Config{}, envErr(EnvS3Bucket, "required when "+EnvStorageType+" is s3")
		}
		if c.S3.Prefix != "" && !strings.HasSuffix(c.S3.Prefix, "/") {
			return Config{}, envErr(EnvS3Prefix, `must end in "/"`)
		}
		if (c.S3.AccessKey == "") != (c.S3.SecretKey == "") {
			return Config{}, envErr(EnvS3AccessKey, "and "+EnvS3SecretKey+" go together")
		}
	}

	switch v := strings.ToLower(get(EnvCompression)); v {
	case "":
		c.Backup.Compression = backup.Zstd
	case string(backup.Zstd), string(backup.Gzip), string(backup.None):
		c.Backup.Compression = backup.Compression(v)
	default:
		return Config{}, envErr(EnvCompression, `want "zstd", "gzip" or "none"`)
	}
	switch c.Backup.Compression {
	case backup.Zstd:
		c.Backup.Level, err = envInt(get, EnvLevel, 0, 1, 22)
	case backup.Gzip:
		c.Backup.Level, err = envInt(get, EnvLevel, 0, 1, 9)
	default:
		if get(EnvLevel) != "" {
			err = envErr(EnvLevel, "set, but "+EnvCompression+" is none")
		}
	}
	if err != nil {
		return Config{}, err
	}

	if err := readKeys(&c.Backup, lookup, get); err != nil {
		return Config{}, err
	}
	c.Backup.Checkers = Checkers()

	if v := get(EnvParts); v != "" {
		c.Parts = nil
		for _, k := range list(v) {
			if k == "volumes" {
				k = volumepart.Kind
			}
			if !slices.Contains(allKinds(), k) {
				return Config{}, envErr(EnvParts, "want a comma-separated list of mongodb, redis, search and volume")
			}
			if !slices.Contains(c.Parts, k) {
				c.Parts = append(c.Parts, k)
			}
		}
		if len(c.Parts) == 0 {
			return Config{}, envErr(EnvParts, "empty list")
		}
	}
	c.MongoNamespaces = list(get(EnvMongoNS))
	c.RedisMatch = get(EnvRedisMatch)
	c.RedisPrefixes = list(get(EnvRedisPre))
	if c.RedisMatch != "" && len(c.RedisPrefixes) > 0 {
		return Config{}, envErr(EnvRedisPre, "set together with "+EnvRedisMatch+": choose one")
	}
	c.SearchIndices = list(get(EnvIndices))
	c.Volumes = list(get(EnvVolumes))
	return c, nil
}

// readKeys fills the encryption settings of bc.
func readKeys(bc *backup.Config, lookup func(string) (string, bool), get func(string) string) error {
	encrypt := true
	if v := get(EnvEncryption); v != "" {
		var err error
		if encrypt, err = strconv.ParseBool(v); err != nil {
			return envErr(EnvEncryption, "not a boolean (true, false, 1, 0)")
		}
	}
	var recips []age.Recipient
	if v := get(EnvRecipients); v != "" {
		for i, s := range list(strings.Join(strings.Fields(v), ",")) {
			r, err := age.ParseX25519Recipient(s)
			if err != nil {
				return envErr(EnvRecipients, fmt.Sprintf("recipient %d is not an age X25519 recipient (age1…)", i+1))
			}
			recips = append(recips, r)
		}
	}
	if f := get(EnvRecipFile); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return &backup.Error{Op: "config", Kind: backup.ErrInvalid, Msg: EnvRecipFile, Err: err}
		}
		rs, err := age.ParseRecipients(bytes.NewReader(b))
		if err != nil {
			return envErr(EnvRecipFile, "not an age recipients file")
		}
		recips = append(recips, rs...)
	}
	if f := get(EnvIdentity); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return &backup.Error{Op: "config", Kind: backup.ErrInvalid, Msg: EnvIdentity, Err: err}
		}
		// age's parse errors may quote the key's text: none is kept.
		ids, err := age.ParseIdentities(bytes.NewReader(b))
		if err != nil {
			return envErr(EnvIdentity, "not an age identity file")
		}
		bc.Identities = ids
	}
	pass, _ := lookup(EnvPassphrase)
	if f := get(EnvPassFile); f != "" {
		if pass != "" {
			return envErr(EnvPassFile, "set together with "+EnvPassphrase+": choose one")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return &backup.Error{Op: "config", Kind: backup.ErrInvalid, Msg: EnvPassFile, Err: err}
		}
		pass, _, _ = strings.Cut(string(b), "\n")
		pass = strings.TrimSuffix(pass, "\r")
		if pass == "" {
			return envErr(EnvPassFile, "empty passphrase")
		}
	}
	if !encrypt {
		if len(recips) > 0 || pass != "" {
			return envErr(EnvEncryption, "false, but recipients or a passphrase are set: remove them or turn encryption on")
		}
		bc.Plaintext = true
		return nil
	}
	if pass != "" && len(recips) > 0 {
		return envErr(EnvPassphrase, "set together with recipients: age allows a passphrase only alone")
	}
	if pass == "" && len(recips) == 0 {
		// The identities' own recipients: a host holding the identity
		// file needs nothing else.
		for _, id := range bc.Identities {
			if x, ok := id.(*age.X25519Identity); ok {
				recips = append(recips, x.Recipient())
			}
		}
	}
	if pass == "" && len(recips) == 0 {
		return envErr(EnvEncryption, "on, but no key: set "+EnvRecipients+", "+EnvRecipFile+", "+EnvIdentity+" or "+EnvPassphrase+" (or "+EnvEncryption+"=false for plaintext)")
	}
	bc.Recipients, bc.Passphrase = recips, pass
	return nil
}

// Checkers returns the backup.Config.Checkers of the four part kinds a set
// holds, so Verify parses every part.
func Checkers() map[string]backup.Checker {
	m := map[string]backup.Checker{}
	for _, cs := range []map[string]backup.Checker{mongopart.Checkers(), redispart.Checkers(), searchpart.Checkers(), volumepart.Checkers()} {
		for k, v := range cs {
			m[k] = v
		}
	}
	return m
}

// Has reports whether the set holds parts of kind k (PartMongo, PartRedis,
// PartSearch or "volume").
func (c Config) Has(k string) bool { return slices.Contains(c.Parts, k) }

// Select returns src narrowed to c: the clients of kinds c.Parts leaves out
// are dropped, and the selections c names (MongoNamespaces, RedisMatch or
// RedisPrefixes, SearchIndices, Volumes, VolumeChain) replace src's where set.
func (c Config) Select(src Sources) Sources {
	if !c.Has(PartMongo) {
		src.Mongo = nil
	}
	if !c.Has(PartRedis) {
		src.Cache = nil
	}
	if !c.Has(PartSearch) {
		src.Search = nil
	}
	if !c.Has(volumepart.Kind) {
		src.Volumes = nil
	}
	if len(c.MongoNamespaces) > 0 {
		src.MongoNamespaces = c.MongoNamespaces
	}
	if c.RedisMatch != "" || len(c.RedisPrefixes) > 0 {
		src.RedisMatch, src.RedisPrefixes = c.RedisMatch, c.RedisPrefixes
	}
	if len(c.SearchIndices) > 0 {
		src.SearchIndices = c.SearchIndices
	}
	if len(c.Volumes) > 0 {
		src.VolumeNames = c.Volumes
	}
	if c.VolumeChain > 0 {
		src.VolumeChain = c.VolumeChain
	}
	return src
}

// Sink returns the configured sink: a LocalSink in Dir, or an S3 sink on the
// bucket (which must exist).
func (c Config) Sink() (backup.Sink, error) {
	if c.StorageType == StorageS3 {
		cfg := c.S3
		if cfg.Logger == nil {
			cfg.Logger = c.Backup.Logger
		}
		return s3sink.New(cfg)
	}
	return backup.NewLocalSink(c.Dir)
}

// Open returns a Manager over Sink with Backup's settings.
func (c Config) Open() (*backup.Manager, error) {
	s, err := c.Sink()
	if err != nil {
		return nil, err
	}
	return backup.New(s, c.Backup)
}

// LogValue keeps secrets out of logs when a Config is logged.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("schedule", c.Schedule), slog.Duration("jitter", c.Jitter),
		slog.Int("retention_days", c.RetentionDays), slog.String("storage", c.StorageType),
		slog.Int("parallel", c.Parallel), slog.Any("parts", c.Parts),
		// Resolved here, so that String (which does not resolve nested
		// LogValuers) keeps the secrets out as well.
		{Key: "backup", Value: c.Backup.LogValue()},
	}
	if c.StorageType == StorageS3 {
		attrs = append(attrs, slog.Attr{Key: "s3", Value: c.S3.LogValue()})
	} else {
		attrs = append(attrs, slog.String("dir", c.Dir))
	}
	return slog.GroupValue(attrs...)
}

// String describes c without secrets.
func (c Config) String() string { return c.LogValue().String() }

func envErr(name, msg string) error {
	return &backup.Error{Op: "config", Kind: backup.ErrInvalid, Msg: name + ": " + msg}
}

func envInt(get func(string) string, name string, def, lo, hi int) (int, error) {
	v := get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, envErr(name, fmt.Sprintf("want a whole number from %d to %d", lo, hi))
	}
	return n, nil
}

func envDuration(get func(string) string, name string) (time.Duration, error) {
	v := get(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, envErr(name, `want a duration such as "10m"`)
	}
	return d, nil
}

// list splits a comma-separated value, dropping empty items.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
