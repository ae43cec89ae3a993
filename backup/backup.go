package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
)

// Backupper is what services program against: back up named parts, list,
// verify, restore and delete backups. [*Manager] implements it over any
// [Sink]; [NewLocal] gives the local-directory one services' own tests use.
type Backupper interface {
	// Backup streams each part through compression and encryption to the
	// sink and then writes the manifest; the backup exists only once that
	// returned. A failed or cancelled part leaves no manifest and removes
	// what was written.
	Backup(ctx context.Context, parts []Part, opts *BackupOptions) (*Manifest, error)
	// List returns the complete backups, oldest first.
	List(ctx context.Context) ([]*Manifest, error)
	// Open returns one backup's manifest.
	Open(ctx context.Context, id string) (*Manifest, error)
	// Verify checks a backup end to end (see [Manager.Verify]).
	Verify(ctx context.Context, id string) (*Report, error)
	// Restore streams one part of a backup into r.
	Restore(ctx context.Context, id, part string, r Restorer) (Stats, error)
	// Delete removes a backup.
	Delete(ctx context.Context, id string) error
}

var _ Backupper = (*Manager)(nil)

// Incomplete returns the IDs of backups that have objects in the sink but
// no manifest: a crash mid-backup, or a failed backup whose objects could
// not be removed (the sink was down). They are never listed; Delete
// removes them.
func (m *Manager) Incomplete(ctx context.Context) ([]string, error) {
	if err := m.check("list"); err != nil {
		return nil, err
	}
	names, err := m.sink.List(ctx, "")
	if err != nil {
		return nil, wrap(ctx, err, "list", "", "")
	}
	has := map[string]bool{}
	var ids []string
	for _, n := range names {
		id, obj, ok := splitName(n)
		if !ok {
			continue
		}
		if _, seen := has[id]; !seen {
			ids = append(ids, id)
			has[id] = false
		}
		if obj == ManifestName {
			has[id] = true
		}
	}
	var out []string
	for _, id := range ids {
		if !has[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// Part is one named stream of a backup ("mongodb", "volume-chunks").
type Part struct {
	Name   string // see ValidName; unique within the backup
	Source Source
}

// Source writes a part's plaintext. Part kinds live in subpackages
// (backup/volumepart, ...) so that this package links no database client.
type Source interface {
	// Describe returns what the source writes; it is recorded in the
	// manifest.
	Describe() SourceInfo
	// Stream writes the part to w and returns what it holds. It must
	// stop with ctx's error when ctx is done; writes to w fail once it is.
	Stream(ctx context.Context, w io.Writer) (Stats, error)
}

// SourceInfo describes a part's format.
type SourceInfo struct {
	Kind          string            // "volume", "mongodb", "redis", "search"
	Format        string            // "tar", "archive", "rdb", "ndjson" (also the object's extension)
	FormatVersion int               // the format's version, as the kind defines it
	Source        string            // product read from ("volume", "MongoDB", "Redis")
	SourceVersion string            // its version, when known
	Meta          map[string]string // what a restore needs to find the original place; no secrets
	// Base is the ID of the backup this part is incremental on ("" =
	// self-contained). Backup checks that Base names a complete backup
	// holding a part of the same Name and Kind; restoring the part needs
	// its chain (see [Manager.Chain]).
	Base string
}

// Stats counts what a part holds: Records is the kind's unit (entries of a
// tar, documents, keys); Counts details it by class.
type Stats struct {
	Records int64
	Counts  map[string]int64
}

// Restorer consumes a part's plaintext on restore.
type Restorer interface {
	// Restore reads the part from r (decrypted, decompressed) and returns
	// what it restored. p is the part's manifest entry.
	Restore(ctx context.Context, p PartManifest, r io.Reader) (Stats, error)
}

// Checker parses a part's plaintext without writing anything, for Verify.
// Config.Checkers maps a kind to its checker.
type Checker interface {
	Check(ctx context.Context, p PartManifest, r io.Reader) (Stats, error)
}

// Config configures a Manager. The zero value is not usable on its own:
// encryption must be chosen (Recipients, Passphrase, or Plaintext).
type Config struct {
	// Compression of new parts: Zstd (default), Gzip or None.
	Compression Compression
	// Level: zstd 1..22 (default 3; klauspost/compress maps it to its four
	// encoders: 1 fastest, 2-5 default, 6-9 better, 10+ best), gzip 1..9
	// (default 6).
	Level int
	// Concurrency of the zstd encoder (0: GOMAXPROCS). Above 1 it
	// compresses that many 4 MiB jobs in parallel (about 25 MiB of heap
	// each); 1 streams on one core with the least memory.
	Concurrency int

	// Recipients encrypt new parts with age (X25519 recipients from
	// age.ParseX25519Recipient, or any age.Recipient).
	Recipients []age.Recipient
	// Passphrase encrypts new parts with age's scrypt recipient instead.
	// age allows a passphrase only as the sole recipient, so it cannot be
	// combined with Recipients. It also decrypts.
	Passphrase string
	// ScryptWorkFactor is the scrypt work factor (log2 N) for new parts
	// (0: age's default, 18).
	ScryptWorkFactor int
	// Identities decrypt parts on Verify and Restore (age.ParseIdentities
	// of an identity file, or age.X25519Identity values).
	Identities []age.Identity
	// PlainSHA256 also records the SHA-256 of each part's plaintext
	// (PartManifest.Plain.SHA256), checked by Verify and Restore, so that
	// `age -d | zstd -d | sha256sum` can be compared by hand. It costs a
	// second SHA-256 pass over the plaintext (about a tenth of the
	// pipeline's CPU at zstd level 1), so it is off by default: the
	// plaintext is pinned without it. The stored SHA-256 fixes every byte
	// of the object; age authenticates each 64 KiB chunk and the last one
	// (no chunk altered, reordered, dropped or added decrypts); zstd frames
	// carry a checksum of their content and gzip a CRC-32 and the length,
	// both checked while decoding; and decoding is deterministic. So an
	// object whose stored digest matches decodes to exactly the plaintext
	// written, and Verify still checks its size and record count.
	PlainSHA256 bool
	// Plaintext allows backups without encryption when neither Recipients
	// nor Passphrase is set; without it New refuses, so that a missing key
	// never silently produces a plaintext backup.
	Plaintext bool

	// Checkers parse parts by kind in Verify (volumepart.Checker{} for
	// "volume"). A part whose kind has none is still decrypted,
	// decompressed and hashed in full, and reported as not parsed.
	Checkers map[string]Checker
	// Logger receives progress and failures (default: discard). Nothing
	// secret is logged.
	Logger *slog.Logger
	// Host is recorded in manifests (default: os.Hostname).
	Host string
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// LogValue keeps secrets out of logs when a Config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("compression", string(c.Compression)),
		slog.Int("level", c.Level),
		slog.Int("recipients", len(c.Recipients)),
		slog.Bool("passphrase", c.Passphrase != ""),
		slog.Int("identities", len(c.Identities)),
		slog.Bool("plaintext", c.Plaintext),
	)
}

// BackupOptions are the optional settings of one backup.
type BackupOptions struct {
	// Labels are recorded in the manifest (e.g. "set": "full").
	Labels map[string]string
	// Permanent is recorded as Manifest.Permanent: retention never deletes
	// such a backup (Delete still does when asked).
	Permanent bool
	// Parallel is how many parts stream at once (0 or 1: one after the
	// other). Each part in flight holds its own pipeline, bounded as the
	// package doc states: the zstd encoder's Config.Concurrency jobs
	// (about 25 MiB each, one block with Concurrency 1), the 3 MiB stage
	// before age (gzip, zstd on one core), age's 64 KiB chunk and the sink's buffer (local: none;
	// S3: PartSize × (Concurrency+1)). The total is Parallel times that
	// bound. The first part to fail cancels the others.
	Parallel int
	// BeforeCommit, when set, runs after every part's object is committed
	// and before the manifest is written; m is the manifest about to be
	// written and must not be modified. An error fails the backup exactly
	// like a part error: objects removed, no manifest, the error wrapped
	// (its cause kept). The scheduler uses it to prove it still holds its
	// lock (fencing) right before the commit.
	BeforeCommit func(ctx context.Context, m *Manifest) error
	// Progress, when set, receives each part's progress: about once a
	// second while the part streams (ProgressInterval), and once with Done
	// when its object is committed. It is called from the goroutine
	// streaming the part — concurrently for different parts with Parallel
	// — so it must be safe for that, return quickly and not call the
	// Manager.
	Progress func(Progress)
	// ProgressInterval is the least time between two reports of one part
	// (default one second).
	ProgressInterval time.Duration
}

// Progress is one part's progress in a backup, for BackupOptions.Progress.
type Progress struct {
	Backup      string // the backup's ID
	Part        string
	PlainBytes  int64 // the source's bytes streamed so far
	StoredBytes int64 // bytes written to the sink so far (compressed, encrypted)
	Done        bool  // the part's last report: its object is committed
}

// Manager runs backups into one Sink. It is safe for concurrent use.
type Manager struct {
	sink        Sink
	comp        Compression
	level       int
	concurrency int
	// zstdEncoders holds idle zstd encoders for the next parts (see newEncoder).
	zstdEncoders sync.Pool
	recipients   []age.Recipient
	recipKind    string
	plainSHA     bool
	identities   []age.Identity
	checkers     map[string]Checker
	log          *slog.Logger
	host         string
	now          func() time.Time
	version      string
	closed       atomic.Bool
}

// New returns a Manager writing to sink.
func New(sink Sink, cfg Config) (*Manager, error) {
	if sink == nil {
		return nil, newErr(ErrInvalid, "config", "", "", "nil sink")
	}
	comp, err := parseCompression(string(cfg.Compression))
	if err != nil {
		return nil, err
	}
	level := cfg.Level
	if level == 0 {
		level = defaultLevel(comp)
	}
	if err := checkLevel(comp, level); err != nil {
		return nil, err
	}
	m := &Manager{sink: sink, comp: comp, level: level, concurrency: defaultConcurrency(cfg.Concurrency),
		identities: append([]age.Identity(nil), cfg.Identities...), checkers: cfg.Checkers,
		log: cfg.Logger, host: cfg.Host, now: cfg.Now, plainSHA: cfg.PlainSHA256}
	switch {
	case cfg.Passphrase != "" && len(cfg.Recipients) > 0:
		return nil, newErr(ErrInvalid, "config", "", "", "age allows a passphrase only as the sole recipient: set Recipients or Passphrase, not both")
	case cfg.Passphrase != "":
		r, err := age.NewScryptRecipient(cfg.Passphrase)
		if err != nil {
			return nil, newErr(ErrInvalid, "config", "", "", "passphrase refused by age")
		}
		if cfg.ScryptWorkFactor != 0 {
			if cfg.ScryptWorkFactor < 10 || cfg.ScryptWorkFactor > 30 {
				return nil, newErr(ErrInvalid, "config", "", "", "scrypt work factor %d (10..30)", cfg.ScryptWorkFactor)
			}
			r.SetWorkFactor(cfg.ScryptWorkFactor)
		}
		m.recipients = []age.Recipient{r}
		id, err := age.NewScryptIdentity(cfg.Passphrase)
		if err != nil {
			return nil, newErr(ErrInvalid, "config", "", "", "passphrase refused by age")
		}
		m.identities = append(m.identities, id)
	case len(cfg.Recipients) > 0:
		for _, r := range cfg.Recipients {
			if r == nil {
				return nil, newErr(ErrInvalid, "config", "", "", "nil recipient")
			}
		}
		m.recipients = append([]age.Recipient(nil), cfg.Recipients...)
	case !cfg.Plaintext:
		return nil, newErr(ErrInvalid, "config", "", "", "no encryption configured: set Recipients or Passphrase, or Plaintext to store backups unencrypted")
	}
	m.recipKind = describeRecipients(m.recipients)
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.host == "" {
		m.host, _ = os.Hostname()
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.version = "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == modulePath && bi.Main.Version != "" {
			m.version = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				m.version = d.Version
			}
		}
	}
	return m, nil
}

const modulePath = "github.com/HamiGames/lucid-data"

// NewLocal returns a Manager over a LocalSink in dir.
func NewLocal(dir string, cfg Config) (*Manager, error) {
	s, err := NewLocalSink(dir)
	if err != nil {
		return nil, err
	}
	return New(s, cfg)
}

// Sink returns the Manager's sink.
func (m *Manager) Sink() Sink { return m.sink }

// Close marks the Manager closed; calls after it fail with ErrClosed. It is
// idempotent and does not close the sink.
func (m *Manager) Close() error {
	m.closed.Store(true)
	return nil
}

func (m *Manager) check(op string) error {
	if m.closed.Load() {
		return &Error{Op: op, Kind: ErrClosed}
	}
	return nil
}

func (m *Manager) newID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Backup implements Backupper. Each part is one stream from its source to
// the sink: no temporary file, memory bounded by the pipeline (see the
// package doc), whatever the part's size. opts.Parallel parts stream at
// once (default one after the other). Every part is described and checked
// (names, objects, bases) before any is written. The manifest is written
// after the last part's object is committed and opts.BeforeCommit
// returned. On any failure — a source error, the sink failing or full, ctx
// cancelled, BeforeCommit refusing — the parts being written are aborted
// (a failure in one cancels the others), the parts already written are
// deleted (with a context of its own if ctx is done, bounded to a minute)
// and no manifest exists; the error names the part that failed first.
func (m *Manager) Backup(ctx context.Context, parts []Part, opts *BackupOptions) (*Manifest, error) {
	if err := m.check("backup"); err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, newErr(ErrInvalid, "backup", "", "", "no parts")
	}
	if len(parts) > maxParts {
		return nil, newErr(ErrInvalid, "backup", "", "", "%d parts, at most %d", len(parts), maxParts)
	}
	if opts == nil {
		opts = &BackupOptions{}
	}
	if opts.Parallel < 0 {
		return nil, newErr(ErrInvalid, "backup", "", "", "parallel %d", opts.Parallel)
	}
	seen := map[string]bool{}
	for _, p := range parts {
		if !ValidName(p.Name) {
			return nil, newErr(ErrInvalid, "backup", "", "", "bad part name %.60q", p.Name)
		}
		if seen[p.Name] {
			return nil, newErr(ErrInvalid, "backup", "", p.Name, "duplicate part name")
		}
		if p.Source == nil {
			return nil, newErr(ErrInvalid, "backup", "", p.Name, "nil source")
		}
		seen[p.Name] = true
	}
	start := m.now().UTC()
	man := &Manifest{Format: ManifestFormat, Version: ManifestVersion, ID: m.newID(start),
		Product: "lucid-data", ProductVersion: m.version, Host: m.host, Start: start, Permanent: opts.Permanent}
	if len(opts.Labels) > 0 {
		man.Labels = make(map[string]string, len(opts.Labels))
		for k, v := range opts.Labels {
			man.Labels[k] = v
		}
	}
	// Describe every part and check its base before writing anything, so
	// that a bad part fails the backup before the others spent their time.
	pms := make([]PartManifest, len(parts))
	objects := map[string]bool{}
	bases := map[string]*Manifest{}
	for i, p := range parts {
		pm, err := m.planPart(ctx, man.ID, p, objects, bases)
		if err != nil {
			return nil, wrap(ctx, err, "backup", man.ID, p.Name)
		}
		pms[i] = pm
	}
	m.log.InfoContext(ctx, "backup: start", "backup", man.ID, "parts", len(parts), "parallel", max(opts.Parallel, 1))

	var (
		mu        sync.Mutex
		written   []string
		firstErr  error
		firstPart string
		wg        sync.WaitGroup
	)
	fail := func(err error, part string) (*Manifest, error) {
		err = wrap(ctx, err, "backup", man.ID, part)
		m.log.ErrorContext(ctx, "backup: failed, removing what was written", "backup", man.ID, "part", part, "err", err)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, o := range written {
			if derr := m.sink.Delete(cctx, o); derr != nil {
				m.log.WarnContext(ctx, "backup: could not remove an object of a failed backup", "backup", man.ID, "object", o, "err", derr)
			}
		}
		return nil, err
	}
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(opts.Parallel, 1))
	for i := range parts {
		select {
		case sem <- struct{}{}:
		case <-pctx.Done():
		}
		if pctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			pm, err := m.writePart(pctx, man.ID, parts[i], pms[i], opts)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// The first failure cancels the others; their errors
				// (the cancellation) are not the cause.
				if firstErr == nil {
					firstErr, firstPart = err, parts[i].Name
					cancel(err)
				}
				return
			}
			written = append(written, joinName(man.ID, pm.Object))
			pms[i] = pm
			m.log.InfoContext(ctx, "backup: part written", "backup", man.ID, "part", pm.Name,
				"plain_bytes", pm.Plain.Size, "stored_bytes", pm.Stored.Size, "records", pm.Records)
		}(i)
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return fail(firstErr, firstPart)
	}
	man.Parts = pms
	man.End = m.now().UTC()
	if man.End.Before(man.Start) {
		man.End = man.Start // a clock stepped back must not make the manifest invalid
	}
	if opts.BeforeCommit != nil {
		if err := opts.BeforeCommit(ctx, man); err != nil {
			return fail(err, "")
		}
	}
	b, err := MarshalManifest(man)
	if err != nil {
		return fail(err, "")
	}
	if err := m.writeObject(ctx, joinName(man.ID, ManifestName), b); err != nil {
		return fail(err, "")
	}
	m.log.InfoContext(ctx, "backup: complete", "backup", man.ID, "bytes", man.Size())
	return man, nil
}

func (m *Manager) writeObject(ctx context.Context, name string, b []byte) error {
	w, err := m.sink.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Commit()
}

// planPart describes part p and checks it: its format, its object's name
// (unique within the backup) and its base, which must be a complete
// backup holding a part of the same name and kind. bases caches the
// manifests read.
func (m *Manager) planPart(ctx context.Context, id string, p Part, objects map[string]bool, bases map[string]*Manifest) (pm PartManifest, err error) {
	info := p.Source.Describe()
	if info.Kind == "" || info.Format == "" || !objRE.MatchString(info.Format) || strings.Contains(info.Format, "/") {
		return pm, newErr(ErrInvalid, "backup", id, p.Name, "source describes no kind or a bad format %.20q", info.Format)
	}
	pm = PartManifest{Name: p.Name, Kind: info.Kind, Format: info.Format, FormatVersion: info.FormatVersion,
		Source: info.Source, SourceVersion: info.SourceVersion, Meta: info.Meta, Base: info.Base,
		Compression: string(m.comp), Encryption: "none", Recipients: m.recipKind}
	if m.comp != None {
		pm.Level = m.level
	}
	if len(m.recipients) > 0 {
		pm.Encryption = "age"
	}
	pm.Object = objectName(p.Name, info.Format, m.comp, len(m.recipients) > 0)
	if objects[pm.Object] {
		return pm, newErr(ErrInvalid, "backup", id, p.Name, "two parts would share the object %s", pm.Object)
	}
	objects[pm.Object] = true
	if info.Base != "" {
		if !ValidID(info.Base) {
			return pm, newErr(ErrInvalid, "backup", id, p.Name, "bad base id %.60q", info.Base)
		}
		base, ok := bases[info.Base]
		if !ok {
			base, err = m.Open(ctx, info.Base)
			if err != nil {
				if ctx.Err() != nil {
					return pm, err
				}
				return pm, newErr(ErrInvalid, "backup", id, p.Name, "base %s is not a complete backup (%s)", info.Base, trimPkg(err.Error()))
			}
			bases[info.Base] = base
		}
		bp, ok := base.Part(p.Name)
		if !ok || bp.Kind != info.Kind {
			return pm, newErr(ErrInvalid, "backup", id, p.Name, "base %s holds no %s part of that name", info.Base, info.Kind)
		}
	}
	return pm, nil
}

// writePart streams part p into its object, described by pm (planPart),
// and returns pm completed with digests, counts and times.
func (m *Manager) writePart(ctx context.Context, id string, p Part, pm PartManifest, opts *BackupOptions) (PartManifest, error) {
	pm.Start = m.now().UTC()
	w, err := m.sink.Create(ctx, joinName(id, pm.Object))
	if err != nil {
		return pm, err
	}
	enc, err := newEncoder(ctx, w, m.comp, m.level, m.concurrency, m.recipients, m.plainSHA, &m.zstdEncoders)
	if err != nil {
		_ = w.Abort()
		return pm, err
	}
	in := enc.in
	report := func(done bool) {}
	if opts.Progress != nil {
		report = func(done bool) {
			opts.Progress(Progress{Backup: id, Part: p.Name, PlainBytes: enc.plain.n.Load(), StoredBytes: enc.stored.n.Load(), Done: done})
		}
		every := opts.ProgressInterval
		if every <= 0 {
			every = time.Second
		}
		in = &progressWriter{w: enc.in, every: every, last: time.Now(), now: time.Now, report: func() { report(false) }}
	}
	st, err := p.Source.Stream(ctx, in)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = enc.close()
	}
	if err != nil {
		enc.abandon()
		if aerr := w.Abort(); aerr != nil {
			m.log.WarnContext(ctx, "backup: abort failed", "backup", id, "part", p.Name, "err", aerr)
		}
		return pm, err
	}
	if err := w.Commit(); err != nil {
		return pm, err
	}
	pm.Stored, pm.Plain = enc.stored.digest(), enc.plain.digest()
	report(true)
	pm.Records, pm.Counts = st.Records, st.Counts
	pm.End = m.now().UTC()
	if pm.End.Before(pm.Start) {
		pm.End = pm.Start
	}
	return pm, nil
}

// List implements Backupper: the backups whose manifest is written, oldest
// first. A manifest that does not parse is logged and left out (Open and
// Verify of its ID report why); objects without a manifest are never
// listed.
func (m *Manager) List(ctx context.Context) ([]*Manifest, error) {
	if err := m.check("list"); err != nil {
		return nil, err
	}
	names, err := m.sink.List(ctx, "")
	if err != nil {
		return nil, wrap(ctx, err, "list", "", "")
	}
	var out []*Manifest
	for _, n := range names {
		id, obj, ok := splitName(n)
		if !ok || obj != ManifestName {
			continue
		}
		man, err := m.Open(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return nil, wrap(ctx, err, "list", "", "")
			}
			m.log.WarnContext(ctx, "backup: unreadable manifest left out of the list", "backup", id, "err", err)
			continue
		}
		out = append(out, man)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Open implements Backupper: it reads and checks the manifest of id
// (ErrNotFound when there is none, ErrCorrupt when it does not parse, its
// checksum fails or it names another backup).
func (m *Manager) Open(ctx context.Context, id string) (*Manifest, error) {
	if err := m.check("open"); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, newErr(ErrInvalid, "open", "", "", "bad backup id %.60q", id)
	}
	r, err := m.sink.Open(ctx, joinName(id, ManifestName))
	if err != nil {
		return nil, wrap(ctx, err, "open", id, "")
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return nil, wrap(ctx, err, "open", id, "")
	}
	man, err := ParseManifest(b)
	if err != nil {
		return nil, wrap(ctx, err, "open", id, "")
	}
	if man.ID != id {
		return nil, newErr(ErrCorrupt, "open", id, "", "manifest names backup %s", man.ID)
	}
	return man, nil
}

// Delete implements Backupper. The manifest goes first, so the backup stops
// existing before any of its parts does; then every object of the backup
// (those of a failed backup too, which has no manifest), then its verify
// records. ErrNotFound when the sink holds nothing of id; ErrInUse, and
// nothing deleted, when a part of another complete backup is incremental
// on id (delete that one first). A backup being written meanwhile that
// takes id as its base is not seen: the scheduler runs retention and
// backups of one target under one lock.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if err := m.check("delete"); err != nil {
		return err
	}
	if !ValidID(id) {
		return newErr(ErrInvalid, "delete", "", "", "bad backup id %.60q", id)
	}
	names, err := m.sink.List(ctx, id+"/")
	if err != nil {
		return wrap(ctx, err, "delete", id, "")
	}
	if len(names) == 0 {
		return newErr(ErrNotFound, "delete", id, "", "no such backup")
	}
	man := joinName(id, ManifestName)
	if slices.Contains(names, man) {
		all, err := m.List(ctx)
		if err != nil {
			return wrap(ctx, err, "delete", id, "")
		}
		if dep, part := dependent(all, id, nil); dep != "" {
			return newErr(ErrInUse, "delete", id, "", "part %q of backup %s is incremental on it", part, dep)
		}
	}
	return m.deleteObjects(ctx, id, names)
}

// dependent returns a backup of all, other than id and not in gone, with a
// part incremental on id.
func dependent(all []*Manifest, id string, gone map[string]bool) (dep, part string) {
	for _, b := range all {
		if b.ID == id || gone[b.ID] {
			continue
		}
		for _, p := range b.Parts {
			if p.Base == id {
				return b.ID, p.Name
			}
		}
	}
	return "", ""
}

// deleteObjects removes the objects names of backup id, manifest first,
// and then its verify records.
func (m *Manager) deleteObjects(ctx context.Context, id string, names []string) error {
	man := joinName(id, ManifestName)
	for _, n := range names {
		if n == man {
			if err := m.sink.Delete(ctx, man); err != nil {
				return wrap(ctx, err, "delete", id, "")
			}
		}
	}
	for _, n := range names {
		if n != man {
			if err := m.sink.Delete(ctx, n); err != nil {
				return wrap(ctx, err, "delete", id, "")
			}
		}
	}
	recs, err := m.sink.List(ctx, recordsPrefix+RecordVerify+"/"+id+"-")
	if err != nil {
		return wrap(ctx, err, "delete", id, "")
	}
	for _, r := range recs {
		if _, rec, ok := splitRecord(r); ok {
			if rid, _, ok := parseVerifyRecord(rec); ok && rid == id {
				if err := m.sink.Delete(ctx, r); err != nil {
					return wrap(ctx, err, "delete", id, "")
				}
			}
		}
	}
	m.log.InfoContext(ctx, "backup: deleted", "backup", id, "objects", len(names), "verify_records", len(recs))
	return nil
}
