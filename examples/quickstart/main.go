// Command quickstart walks a real Lucid flow through the whole data tier, one
// short line per step with its timing, using only the SDK: it ensures the
// MongoDB schema, registers a user (and shows a duplicate and an invalid one
// refused, with their errkind), logs in to a login session, hits a rate
// limit, takes a lock and shows its fencing token, indexes and searches
// session events, measures a volume and checks its health, backs the tier up
// in one backup (the MongoDB database, the Redis keyspace when Redis is
// configured, the volume) to a local directory or S3, verifies it, restores
// the database under a scratch name and the volume into a scratch directory
// and compares both with their originals, and prints the health aggregator's
// summary.
//
//	go run ./examples/quickstart
//
// With no server URL set it runs on embedded defaults: an in-process
// MongoDB-wire server (mongostore/embedded: FerretDB on SQLite in a temporary
// directory), the in-memory cache (cache.NewMemory), volumes under a
// temporary root and a backup directory next to them; search is skipped with
// one line. Point it at real servers with
//
//	LUCID_MONGO_URI=mongodb://127.0.0.1:27017/  (LUCID_MONGO_DATABASE, default lucid_quickstart)
//	LUCID_REDIS_URL=redis://127.0.0.1:6379/0    (REDIS_URL is read when it is unset)
//	LUCID_SEARCH_URL=http://127.0.0.1:9200      (comma-separated nodes; LUCID_SEARCH_INDEX_PREFIX, default quickstart-)
//	LUCID_S3_BUCKET=lucid-backups               (an existing bucket: backups go there instead of the local directory;
//	                                             LUCID_S3_ENDPOINT for an S3-compatible service, path-style,
//	                                             LUCID_S3_REGION, LUCID_S3_ACCESS_KEY, LUCID_S3_SECRET_KEY,
//	                                             LUCID_S3_PREFIX, default quickstart/)
//
// Volumes, and backups without LUCID_S3_BUCKET, go under a temporary
// directory, which is removed at the end (a backup in S3 is deleted after it
// was restored and compared). Every name the run writes carries a random run id, so
// runs against the same servers never collide. It exits non-zero on any
// failure.
package main

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/backup/redispart"
	"github.com/HamiGames/lucid-data/backup/s3sink"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/mongostore/embedded"
	"github.com/HamiGames/lucid-data/search"
	"github.com/HamiGames/lucid-data/volume"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Environment variables the quickstart reads.
const (
	envMongoURI      = "LUCID_MONGO_URI"
	envMongoDatabase = "LUCID_MONGO_DATABASE"
	envRedisURL      = cache.EnvURL
	envRedisFallback = cache.EnvURLFallback
	envSearchURL     = "LUCID_SEARCH_URL"
	envSearchPrefix  = "LUCID_SEARCH_INDEX_PREFIX"
	envS3Bucket      = "LUCID_S3_BUCKET"
	envS3Endpoint    = "LUCID_S3_ENDPOINT"
	envS3Region      = "LUCID_S3_REGION"
	envS3AccessKey   = "LUCID_S3_ACCESS_KEY"
	envS3SecretKey   = "LUCID_S3_SECRET_KEY"
	envS3Prefix      = "LUCID_S3_PREFIX"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart: FAILED:", err)
		os.Exit(1)
	}
}

// user is a Lucid user document (Lucid's users_schema.js): the fields the
// quickstart sets.
type user struct {
	UserID       string    `bson:"user_id"`
	Email        string    `bson:"email"`
	Username     string    `bson:"username"`
	PasswordHash string    `bson:"password_hash"`
	Roles        []string  `bson:"roles"`
	Status       string    `bson:"status"`
	CreatedAt    time.Time `bson:"created_at"`
	UpdatedAt    time.Time `bson:"updated_at"`
}

// sessionEvent is a Lucid session as the search package's sessions mapping
// indexes it.
type sessionEvent struct {
	SessionID   string    `json:"session_id"`
	UserID      string    `json:"user_id"`
	Status      string    `json:"status"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Tags        []string  `json:"tags"`
	CreatedAt   time.Time `json:"created_at"`
	ChunkCount  int64     `json:"chunk_count"`
}

// report prints the step lines. Each starts with the step's name, padded so
// the messages line up, and ends with the step's duration.
type report struct {
	w     io.Writer
	start time.Time
}

func (r *report) line(step string, took time.Duration, format string, args ...any) {
	fmt.Fprintf(r.w, "%-10s %s (%s)\n", step+":", fmt.Sprintf(format, args...), round(took))
}

func (r *report) skip(step, format string, args ...any) {
	fmt.Fprintf(r.w, "%-10s %s\n", step+":", fmt.Sprintf(format, args...))
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// kindOf renders an error's errkind for the report.
func kindOf(err error) string { return "errkind " + errkind.Of(err).String() }

// run does the work of main, writing its report to w; getenv is os.Getenv
// (a parameter so tests choose the environment).
func run(ctx context.Context, w io.Writer, getenv func(string) string) (err error) {
	r := &report{w: w, start: time.Now()}
	fmt.Fprintln(w, "lucid-data quickstart")
	runID := randomHex(4)

	tmp, err := os.MkdirTemp("", "lucid-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	agg := health.NewAggregator(health.Options{})

	// MongoDB: the configured server or an in-process FerretDB.
	t := time.Now()
	uri, where := getenv(envMongoURI), "configured by "+envMongoURI
	if uri == "" {
		srv, err := embedded.Start(ctx, embedded.Config{Dir: filepath.Join(tmp, "mongodb")})
		if err != nil {
			return fmt.Errorf("embedded MongoDB-wire server: %w", err)
		}
		defer srv.Close()
		uri, where = srv.URI(), "embedded FerretDB "+embedded.FerretDBVersion()+" on SQLite"
	}
	dbName := getenv(envMongoDatabase)
	if dbName == "" {
		dbName = "lucid_quickstart"
	}
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: uri, Database: dbName, AppName: "lucid-quickstart"})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	r.line("mongodb", time.Since(t), "connected, %s, database %s", where, dbName)
	if err := agg.Register("mongodb", mongoChecker(db), health.CheckOptions{}); err != nil {
		return err
	}

	if err := schemaStep(ctx, r, db); err != nil {
		return err
	}
	u, password, err := registerStep(ctx, r, db, runID)
	if err != nil {
		return err
	}

	// Redis: the configured server or the in-memory backend.
	t = time.Now()
	var b cache.Backend
	redisURL := getenv(envRedisURL)
	if redisURL == "" {
		redisURL = getenv(envRedisFallback)
	}
	if redisURL != "" {
		c, err := cache.Connect(ctx, cache.Config{URL: redisURL})
		if err != nil {
			return err
		}
		b = c
		rep := c.Check(ctx)
		r.line("cache", time.Since(t), "connected, %s, configured by %s", rep.Version, envRedisURL)
	} else {
		b = cache.NewMemory()
		r.line("cache", time.Since(t), "in memory (cache.NewMemory; set %s to use Redis)", envRedisURL)
	}
	defer b.Close()
	if err := agg.Register("cache", b, health.CheckOptions{}); err != nil {
		return err
	}

	if err := loginStep(ctx, r, db, b, u.Email, password); err != nil {
		return err
	}
	if err := rateLimitStep(ctx, r, b, u.UserID); err != nil {
		return err
	}
	if err := lockStep(ctx, r, b, runID); err != nil {
		return err
	}

	// Search: only when configured; there is no embedded engine.
	if addrs := getenv(envSearchURL); addrs != "" {
		prefix := getenv(envSearchPrefix)
		if prefix == "" {
			prefix = "quickstart-"
		}
		sc, err := searchStep(ctx, r, strings.Split(addrs, ","), prefix, u.UserID, runID)
		if err != nil {
			return err
		}
		defer sc.Close()
		if err := agg.Register("search", sc, health.CheckOptions{Optional: true}); err != nil {
			return err
		}
	} else {
		r.skip("search", "skipped (set %s to an Elasticsearch 8 or OpenSearch 2/3 URL)", envSearchURL)
	}

	vols, vol, err := volumeStep(ctx, r, filepath.Join(tmp, "volumes"))
	if err != nil {
		return err
	}
	if err := agg.Register("volumes", vols, health.CheckOptions{}); err != nil {
		return err
	}
	var sink backup.Sink
	where = "local directory"
	if bucket := getenv(envS3Bucket); bucket != "" {
		prefix := getenv(envS3Prefix)
		if prefix == "" {
			prefix = "quickstart/"
		}
		s3, err := s3sink.New(s3sink.Config{
			Bucket: bucket, Prefix: prefix, Endpoint: getenv(envS3Endpoint), Region: getenv(envS3Region),
			AccessKey: getenv(envS3AccessKey), SecretKey: getenv(envS3SecretKey), UsePathStyle: getenv(envS3Endpoint) != "",
		})
		if err != nil {
			return err
		}
		sink, where = s3, "S3 bucket "+bucket
	} else {
		local, err := backup.NewLocalSink(filepath.Join(tmp, "backups"))
		if err != nil {
			return err
		}
		sink = local
	}
	if err := backupStep(ctx, r, tier{db: db, dbName: dbName, cache: b, vol: vol}, sink, where, filepath.Join(tmp, "scratch"), runID); err != nil {
		return err
	}

	t = time.Now()
	sum := agg.Check(ctx)
	var parts []string
	for _, name := range agg.Names() {
		rep := sum.Checks[name]
		p := name + " " + rep.Status.String()
		if rep.Err != nil {
			p += " (" + rep.Err.Error() + ")"
		}
		parts = append(parts, p)
	}
	r.line("health", time.Since(t), "%s: %s", sum.Status, strings.Join(parts, ", "))
	if sum.Status == health.Down {
		return errors.New("health: the tier is down")
	}
	fmt.Fprintf(w, "ok: every step passed in %s\n", round(time.Since(r.start)))
	return nil
}

// mongoChecker adapts a DB's Health to the aggregator's Checker.
func mongoChecker(db *mongostore.DB) health.Checker {
	return health.CheckerFunc(func(ctx context.Context) health.Report {
		t := time.Now()
		h, err := db.Health(ctx)
		if err != nil {
			return health.DownReport(err, time.Since(t))
		}
		return health.Report{Status: health.Up, Latency: h.Latency, Version: strings.TrimSpace(h.Product + " " + h.Version)}
	})
}

func schemaStep(ctx context.Context, r *report, db *mongostore.DB) error {
	t := time.Now()
	rep, err := db.EnsureSchema(ctx)
	if err != nil {
		return err
	}
	cols := 0
	for _, it := range rep.Items {
		if it.Kind == mongostore.KindCollection {
			cols++
		}
	}
	r.line("schema", time.Since(t), "%d collections, %d items (collections, validators, indexes): %d created, %d unchanged, %d adopted, %d unsupported by this server",
		cols, len(rep.Items), rep.Count(mongostore.ActionCreated), rep.Count(mongostore.ActionUnchanged),
		rep.Count(mongostore.ActionAdopted), rep.Count(mongostore.ActionUnsupported))
	return nil
}

// hashPassword derives a storable hash: PBKDF2-SHA256 with a random salt.
// The quickstart uses 100,000 iterations to stay quick on a Raspberry Pi; a
// service follows current guidance (OWASP: 600,000) or uses argon2id.
func hashPassword(password string, salt []byte) (string, error) {
	if salt == nil {
		salt = make([]byte, 16)
		rand.Read(salt)
	}
	k, err := pbkdf2.Key(sha256.New, password, salt, pbkdfIter, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", pbkdfIter, hex.EncodeToString(salt), hex.EncodeToString(k)), nil
}

const pbkdfIter = 100_000

func checkPassword(stored, password string) bool {
	f := strings.Split(stored, "$")
	if len(f) != 4 || f[0] != "pbkdf2-sha256" || f[1] != fmt.Sprint(pbkdfIter) {
		return false
	}
	salt, err := hex.DecodeString(f[2])
	if err != nil {
		return false
	}
	h, err := hashPassword(password, salt)
	return err == nil && subtle.ConstantTimeCompare([]byte(h), []byte(stored)) == 1
}

func registerStep(ctx context.Context, r *report, db *mongostore.DB, runID string) (user, string, error) {
	t := time.Now()
	password := "correct horse " + runID
	hash, err := hashPassword(password, nil)
	if err != nil {
		return user{}, "", err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := user{
		UserID: "u-" + runID, Email: "ada+" + runID + "@example.org", Username: "ada-" + runID,
		PasswordHash: hash, Roles: []string{"User"}, Status: "active", CreatedAt: now, UpdatedAt: now,
	}
	if _, err := db.InsertOne(ctx, lucidkeys.CollUsers, u); err != nil {
		return user{}, "", fmt.Errorf("register: %w", err)
	}
	r.line("register", time.Since(t), "user %s <%s> stored in %s", u.UserID, u.Email, lucidkeys.CollUsers)

	t = time.Now()
	dup := u
	dup.UserID = "u-" + runID + "-again"
	_, err = db.InsertOne(ctx, lucidkeys.CollUsers, dup)
	if !errors.Is(err, mongostore.ErrDuplicate) {
		return user{}, "", fmt.Errorf("duplicate: want mongostore.ErrDuplicate, got %v", err)
	}
	r.line("duplicate", time.Since(t), "refused: %v [%s]", err, kindOf(err))

	t = time.Now()
	bad := u
	bad.UserID, bad.Email = "u-"+runID+"-bad", "not-an-email"
	_, err = db.InsertOne(ctx, lucidkeys.CollUsers, bad)
	if !errors.Is(err, mongostore.ErrValidation) {
		return user{}, "", fmt.Errorf("invalid: want mongostore.ErrValidation, got %v", err)
	}
	r.line("invalid", time.Since(t), "refused: %v [%s]", err, kindOf(err))
	return u, password, nil
}

func loginStep(ctx context.Context, r *report, db *mongostore.DB, b cache.Backend, email, password string) error {
	t := time.Now()
	f, err := mongostore.NewFilter().Eq("email", email).Build()
	if err != nil {
		return err
	}
	var u user
	if err := db.FindOne(ctx, lucidkeys.CollUsers, f, &u, nil); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if u.Status != "active" || !checkPassword(u.PasswordHash, password) {
		return errors.New("login: wrong password")
	}
	logins, err := b.Sessions(cache.SessionOptions{})
	if err != nil {
		return err
	}
	s, err := logins.Create(ctx, u.UserID, map[string]string{"role": u.Roles[0]}, 15*time.Minute)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	got, err := logins.Get(ctx, s.Token)
	if err != nil || got.UserID != u.UserID {
		return fmt.Errorf("login: the new session does not read back: %v", err)
	}
	r.line("login", time.Since(t), "password checked, session %s… for %s, expires %s (token stored only as its SHA-256)",
		s.ID[:8], u.UserID, s.ExpiresAt.UTC().Format(time.TimeOnly))

	t = time.Now()
	if err := logins.Delete(ctx, s.Token); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	_, err = logins.Get(ctx, s.Token)
	if !errors.Is(err, cache.ErrNotFound) {
		return fmt.Errorf("logout: want cache.ErrNotFound after Delete, got %v", err)
	}
	r.line("logout", time.Since(t), "session ended; the token now gets %q [%s]", err, kindOf(err))
	return nil
}

func rateLimitStep(ctx context.Context, r *report, b cache.Backend, userID string) error {
	t := time.Now()
	l, err := b.Limiter(cache.LimiterOptions{Entity: "login"})
	if err != nil {
		return err
	}
	const limit = 5
	key := cache.UserKey(userID)
	for i := 1; i <= limit+1; i++ {
		res, err := l.Allow(ctx, key, limit, time.Minute)
		if err != nil {
			return fmt.Errorf("ratelimit: %w", err)
		}
		if i <= limit && !res.Allowed {
			return fmt.Errorf("ratelimit: request %d of %d denied", i, limit)
		}
		if i == limit+1 {
			if res.Allowed {
				return fmt.Errorf("ratelimit: request %d admitted past the limit of %d", i, limit)
			}
			r.line("ratelimit", time.Since(t), "%d logins a minute admitted, the %dth denied, retry after %s",
				limit, i, res.RetryAfter.Round(time.Second))
		}
	}
	return l.Reset(ctx, key)
}

func lockStep(ctx context.Context, r *report, b cache.Backend, runID string) error {
	t := time.Now()
	locker, err := b.Locker(cache.LockerOptions{Entity: "payout"})
	if err != nil {
		return err
	}
	name := "batch-" + runID
	lock, err := locker.Obtain(ctx, name, cache.LockOptions{TTL: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	first := lock.Fence()
	_, err = locker.Obtain(ctx, name, cache.LockOptions{TTL: 10 * time.Second})
	if !errors.Is(err, cache.ErrLockNotObtained) {
		lock.Release(ctx)
		return fmt.Errorf("lock: a second owner got the lock (err %v)", err)
	}
	second := err
	if err := lock.Release(ctx); err != nil {
		return fmt.Errorf("lock: release: %w", err)
	}
	again, err := locker.Obtain(ctx, name, cache.LockOptions{TTL: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer again.Release(context.Background())
	if again.Fence() <= first {
		return fmt.Errorf("lock: fencing token went from %d to %d", first, again.Fence())
	}
	r.line("lock", time.Since(t), "%s held with fencing token %d; a second owner refused [%s]; next holder's token %d",
		name, first, kindOf(second), again.Fence())
	return nil
}

func searchStep(ctx context.Context, r *report, addrs []string, prefix, userID, runID string) (*search.Client, error) {
	t := time.Now()
	sc, err := search.Connect(ctx, search.Config{Addresses: addrs, IndexPrefix: prefix})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	events := []sessionEvent{
		{Title: "Merkle proof upload", Description: "chunks anchored with a merkle proof", Status: "completed", Tags: []string{"upload"}},
		{Title: "Screen share", Description: "remote desktop session", Status: "active", Tags: []string{"rdp"}},
		{Title: "Merkel proof retry", Description: "second attempt of the proof", Status: "active", Tags: []string{"upload", "retry"}},
	}
	for i := range events {
		e := &events[i]
		e.SessionID = fmt.Sprintf("s-%s-%d", runID, i)
		e.UserID, e.CreatedAt, e.ChunkCount = userID, now.Add(time.Duration(i)*time.Second), int64(10*(i+1))
		wo := &search.WriteOptions{}
		if i == len(events)-1 {
			wo.Refresh = search.RefreshWaitFor // the last write waits until all are searchable
		}
		if _, err := sc.IndexEntity(ctx, lucidkeys.EntitySessions, e.SessionID, e, e.CreatedAt, wo); err != nil {
			sc.Close()
			return nil, fmt.Errorf("search: index: %w", err)
		}
	}
	res, err := sc.SearchSessions(ctx, userID, search.SessionFilter{Text: "merkle proof"})
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("search: %w", err)
	}
	if res.Total < 2 {
		sc.Close()
		return nil, fmt.Errorf("search: 'merkle proof' found %d sessions, want 2 (one spelled Merkel)", res.Total)
	}
	var titles []string
	for _, h := range res.Hits {
		var e sessionEvent
		if err := h.Decode(&e); err == nil {
			titles = append(titles, fmt.Sprintf("%q", e.Title))
		}
	}
	rep := sc.Check(ctx)
	r.line("search", time.Since(t), "%s: indexed %d session events, 'merkle proof' (fuzzy) found %d: %s",
		rep.Version, len(events), res.Total, strings.Join(titles, ", "))
	return sc, nil
}

func volumeStep(ctx context.Context, r *report, root string) (volume.Manager, volume.Volume, error) {
	t := time.Now()
	vols, err := volume.New(volume.Config{Root: root, DefaultQuota: 64 << 20})
	if err != nil {
		return nil, volume.Volume{}, err
	}
	v, err := vols.Create(ctx, "sessions", lucidkeys.VolumeSessions, 0)
	if err != nil {
		return nil, volume.Volume{}, err
	}
	// Lucid session data: a manifest and a few chunks.
	for i := range 8 {
		dir := filepath.Join(v.Path, "s-1", "chunks")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, volume.Volume{}, err
		}
		buf := make([]byte, 256<<10)
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d.chunk", i)), buf, 0o644); err != nil {
			return nil, volume.Volume{}, err
		}
	}
	if err := os.WriteFile(filepath.Join(v.Path, "s-1", "manifest.json"), []byte(`{"session_id":"s-1","chunk_count":8}`+"\n"), 0o644); err != nil {
		return nil, volume.Volume{}, err
	}
	if err := os.Symlink("chunks/0000.chunk", filepath.Join(v.Path, "s-1", "first")); err != nil {
		return nil, volume.Volume{}, err
	}
	u, err := vols.Usage(ctx, v.Name)
	if err != nil {
		return nil, volume.Volume{}, err
	}
	rep := vols.CheckVolume(ctx, v.Name)
	if rep.Status != health.Up {
		return nil, volume.Volume{}, fmt.Errorf("volume: %s is %s: %v", v.Name, rep.Status, rep.Err)
	}
	r.line("volume", time.Since(t), "%s: %d files, %s of %s quota (%.1f %%), filesystem %s %.0f %% used; health %s",
		v.Name, u.Files, humanBytes(u.Bytes), humanBytes(v.Quota), u.Percent, u.FS.Type, u.FS.UsedPercent, rep.Status)
	return vols, v, nil
}

// tier is what the backup step backs up.
type tier struct {
	db     *mongostore.DB
	dbName string
	cache  cache.Backend // backed up when it is Redis (*cache.Client)
	vol    volume.Volume
}

// backupStep takes one backup of the whole tier — the MongoDB database, the
// Redis keyspace when Redis is configured, the volume — verifies it, restores
// the database into a scratch one and the volume into a scratch directory,
// and compares each with its original.
func backupStep(ctx context.Context, r *report, tr tier, sink backup.Sink, where, scratch, runID string) error {
	t := time.Now()
	// age X25519: the recipient encrypts, the identity (kept apart from the
	// backups in a real deployment) decrypts.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	checkers := volumepart.Checkers()
	for k, c := range mongopart.Checkers() {
		checkers[k] = c
	}
	for k, c := range redispart.Checkers() {
		checkers[k] = c
	}
	bk, err := backup.New(sink, backup.Config{
		Recipients: []age.Recipient{id.Recipient()},
		Identities: []age.Identity{id},
		Checkers:   checkers,
	})
	if err != nil {
		return err
	}
	defer bk.Close()
	volPart := "volume-" + tr.vol.Name
	parts := []backup.Part{mongopart.Part("mongodb", tr.db.Client(), tr.dbName)}
	if c, ok := tr.cache.(*cache.Client); ok {
		parts = append(parts, redispart.Part("redis", c.Redis()))
	}
	parts = append(parts, volumepart.Part(volPart, tr.vol.Path))
	m, err := bk.Backup(ctx, parts, &backup.BackupOptions{Labels: map[string]string{"by": "quickstart"}})
	if err != nil {
		return err
	}
	var desc []string
	for _, p := range m.Parts {
		desc = append(desc, fmt.Sprintf("%s %d %s", p.Name, p.Records, unit(p.Kind)))
	}
	r.line("backup", time.Since(t), "%s to the %s: %s; %s plain -> %s stored (zstd, age)",
		m.ID, where, strings.Join(desc, ", "), humanBytes(plainSize(m)), humanBytes(m.Size()))

	t = time.Now()
	rep, err := bk.Verify(ctx, m.ID)
	if err != nil {
		return err
	}
	var recs int64
	for _, pr := range rep.Parts {
		recs += pr.Stats.Records
	}
	r.line("verify", time.Since(t), "%d parts decrypted, decompressed, parsed; %d records and every checksum match the manifest", len(rep.Parts), recs)

	t = time.Now()
	// The database comes back under another name, so the original stays
	// untouched and the two can be compared.
	scratchDB := tr.dbName + "_restore_" + runID
	defer tr.db.Client().Database(scratchDB).Drop(context.WithoutCancel(ctx))
	var res mongopart.Result
	if _, err := bk.Restore(ctx, m.ID, "mongodb", mongopart.Restorer{Client: tr.db.Client(),
		Rename: map[string]string{tr.dbName: scratchDB}, Drop: true, Result: &res}); err != nil {
		return err
	}
	docs, err := compareDatabases(ctx, tr.db.Client().Database(tr.dbName), tr.db.Client().Database(scratchDB))
	if err != nil {
		return err
	}
	if _, err := bk.Restore(ctx, m.ID, volPart, volumepart.Restorer{Dir: scratch}); err != nil {
		return err
	}
	want, err := volume.CreateManifest(ctx, tr.vol.Path, 0)
	if err != nil {
		return err
	}
	diff, err := volume.VerifyManifest(ctx, scratch, want, 0)
	if err != nil {
		return err
	}
	if !diff.OK() {
		return fmt.Errorf("restore: the copy differs: added %v, removed %v, changed %v", diff.Added, diff.Removed, diff.Changed)
	}
	if _, local := sink.(*backup.LocalSink); !local {
		if err := bk.Delete(ctx, m.ID); err != nil {
			return err
		}
	}
	if res.Inserted != docs {
		return fmt.Errorf("restore: %d documents inserted, %d in the database", res.Inserted, docs)
	}
	r.line("restore", time.Since(t), "database into %s: %d documents identical; volume into a scratch directory: %d entries identical (SHA-256 manifests)",
		scratchDB, docs, diff.Checked)
	return nil
}

// compareDatabases checks that every collection of a holds the same
// documents as the one of the same name in b, byte for byte in _id order,
// and returns how many it compared.
func compareDatabases(ctx context.Context, a, b *mongo.Database) (int64, error) {
	names, err := a.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, name := range names {
		read := func(db *mongo.Database) ([]bson.Raw, error) {
			cur, err := db.Collection(name).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
			if err != nil {
				return nil, err
			}
			var docs []bson.Raw
			err = cur.All(ctx, &docs)
			return docs, err
		}
		da, err := read(a)
		if err != nil {
			return n, err
		}
		db, err := read(b)
		if err != nil {
			return n, err
		}
		if len(da) != len(db) {
			return n, fmt.Errorf("restore: %s holds %d documents, the restored copy %d", name, len(da), len(db))
		}
		for i := range da {
			if !bytes.Equal(da[i], db[i]) {
				return n, fmt.Errorf("restore: %s: document %d differs after the restore", name, i)
			}
		}
		n += int64(len(da))
	}
	return n, nil
}

func unit(kind string) string {
	switch kind {
	case "mongodb":
		return "documents"
	case "redis":
		return "keys"
	default:
		return "entries"
	}
}

func plainSize(m *backup.Manifest) int64 {
	var n int64
	for _, p := range m.Parts {
		n += p.Plain.Size
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// humanBytes renders n bytes in binary units with one decimal.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	d, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		d *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(d), "KMGTPE"[exp])
}
