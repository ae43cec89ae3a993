package volume

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// MetadataFile is the name of the metadata file inside each volume
// directory. Files whose names start with reservedPrefix at the top of a
// volume belong to this package: archives, manifests, emptiness checks and
// cleanup leave them out.
const MetadataFile = ".lucid-volume.json"

// reservedPrefix marks the package's own files at the top of a volume.
const reservedPrefix = ".lucid-volume"

// metadataVersion is the version of the metadata file format.
const metadataVersion = 1

// Volume describes one volume: a directory under the manager's root plus its
// metadata.
type Volume struct {
	Name    string               `json:"name"`    // directory name, lucidkeys.ValidateVolumeName rules
	Type    lucidkeys.VolumeType `json:"type"`    // what the volume holds
	Quota   int64                `json:"quota"`   // soft quota in bytes
	Created time.Time            `json:"created"` // when Create ran
	Updated time.Time            `json:"updated"` // last metadata change
	Path    string               `json:"-"`       // absolute directory path
}

// metadata is the on-disk form of a Volume.
type metadata struct {
	Version int `json:"version"`
	Volume
}

// Manager is what a program holds to manage volumes: New returns one. It is
// an interface so that a service stores a volume.Manager, whatever
// implementation serves it, and so that code taking a Manager can be given
// another one (a wrapper that adds metrics, a fake in a caller's test). The
// package's implementation is *DirManager, directories under a root.
//
// The design calls this "the VolumeManager"; in Go it is volume.Manager, as
// volume.VolumeManager would say "volume" twice.
type Manager interface {
	// Root returns the absolute root directory of the volumes.
	Root() string
	// Config returns the configuration with defaults filled in.
	Config() Config
	// Path returns the directory of a volume, whether or not it exists.
	Path(name string) (string, error)

	// Create makes a volume of type typ with the given quota in bytes (0:
	// the configured default).
	Create(ctx context.Context, name string, typ lucidkeys.VolumeType, quota int64) (Volume, error)
	// Get returns a volume's metadata, or ErrNotFound.
	Get(ctx context.Context, name string) (Volume, error)
	// List returns all volumes under the root, sorted by name.
	List(ctx context.Context) ([]Volume, error)
	// Resize changes a volume's quota.
	Resize(ctx context.Context, name string, quota int64) (Volume, error)
	// Delete removes a volume; a volume holding data needs force.
	Delete(ctx context.Context, name string, force bool) error

	// Usage measures a volume's bytes and files (a full walk) and its
	// filesystem.
	Usage(ctx context.Context, name string) (Usage, error)
	// CheckSpace reports whether n more bytes fit in a volume.
	CheckSpace(ctx context.Context, name string, n int64) error
	// Reserve claims n bytes of a volume's quota before a large write.
	Reserve(ctx context.Context, name string, n int64) (*Reservation, error)
	// Reserved returns the bytes currently reserved on a volume.
	Reserved(name string) int64
	// SetHardQuota asks the kernel to enforce a volume's quota.
	SetHardQuota(ctx context.Context, name string, bytes int64) error

	// Health checks a volume in depth (a full walk included) and reports
	// every problem found.
	Health(ctx context.Context, name string) (HealthReport, error)
	// Check reports the health of every volume as one health.Report: the
	// worst volume's status, each volume in Details. It never walks.
	Check(ctx context.Context) health.Report
	// CheckVolume reports the health of one volume; it never walks.
	CheckVolume(ctx context.Context, name string) health.Report
	// Performance samples the disk under a volume.
	Performance(ctx context.Context, name string, interval time.Duration) (Performance, error)
	// NewMonitor returns a monitor of the volumes.
	NewMonitor(opts MonitorOptions) *Monitor

	// Archive writes a volume as a tar stream.
	Archive(ctx context.Context, name string, w io.Writer) (ArchiveStats, error)
	// Snapshot writes a volume to a timestamped tar file in dir.
	Snapshot(ctx context.Context, name, dir string) (string, error)
	// Restore replaces a volume's contents with a snapshot file.
	Restore(ctx context.Context, path, name string) error
	// RestoreFrom replaces a volume's contents with a tar stream.
	RestoreFrom(ctx context.Context, r io.Reader, name string) error
	// Migrate moves a volume to another root, verified before it switches.
	Migrate(ctx context.Context, name, newRoot string, opts MigrateOptions) (Volume, error)
	// CreateManifest records a volume's checksums.
	CreateManifest(ctx context.Context, name string) (*Manifest, error)
	// VerifyIntegrity checks a volume against its recorded manifest.
	VerifyIntegrity(ctx context.Context, name string) (VerifyReport, error)
	// Cleanup removes temporary and old files from a volume.
	Cleanup(ctx context.Context, name string, opts CleanupOptions) (CleanupResult, error)
	// Defragment defragments a volume where the filesystem has a tool.
	Defragment(ctx context.Context, name string) error
}

var _ Manager = (*DirManager)(nil)

// DirManager is the package's Manager: the volumes under one root
// directory. It is safe for concurrent use by goroutines of one process;
// metadata updates are atomic on disk (temp file, fsync, rename), but
// reservations are held in memory, so two processes sharing a root do not
// see each other's reservations. It holds no descriptor or goroutine, so
// it has nothing to close; a Monitor does.
type DirManager struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex       // guards reserved and serialises metadata updates
	reserved map[string]int64 // outstanding reservations per volume

	usageMu sync.Mutex            // guards walked
	walked  map[string]walkResult // the last full walk of each volume

	// hooks for tests: called between the steps of Migrate and Restore.
	testHookAfterCopy func() error
}

// New returns the Manager of the volumes under cfg.Root (cfg's zero value
// gives the defaults), a *DirManager. It does no I/O: the root is created
// by the first Create.
func New(cfg Config) (Manager, error) {
	m, err := newDirManager(cfg)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func newDirManager(cfg Config) (*DirManager, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(c.Root)
	if err != nil {
		return nil, wrapErr(ErrInvalid, err, "root %q", c.Root)
	}
	c.Root = root
	return &DirManager{cfg: c, log: c.Logger, reserved: make(map[string]int64), walked: make(map[string]walkResult)}, nil
}

// Root returns the absolute root directory of the manager.
func (m *DirManager) Root() string { return m.cfg.Root }

// Config returns the manager's configuration with defaults filled in.
func (m *DirManager) Config() Config { return m.cfg }

// Path returns the directory of the volume called name (whether or not it
// exists), or an ErrInvalid error for a malformed name.
func (m *DirManager) Path(name string) (string, error) {
	if err := lucidkeys.ValidateVolumeName(name); err != nil {
		return "", wrapErr(ErrInvalid, err, "volume name %q", name)
	}
	return filepath.Join(m.cfg.Root, name), nil
}

// checkQuota validates a quota for Create and Resize.
func (m *DirManager) checkQuota(q int64) error {
	switch {
	case q < 0:
		return newErr(ErrInvalid, "quota %d is negative", q)
	case q > m.cfg.MaxQuota:
		return newErr(ErrInvalid, "quota %s is above the maximum %s (MAX_VOLUME_SIZE)", FormatSize(q), FormatSize(m.cfg.MaxQuota))
	}
	return nil
}

// Create makes the volume name of type typ with quota bytes (0 means
// Config.DefaultQuota) and returns it. The root is created if missing. If a
// directory of that name exists without metadata (for example an existing
// /data/mongodb) Create adopts it and keeps its contents; if it already is a
// volume, Create returns ErrExists. Bad names, types or quotas return
// ErrInvalid.
func (m *DirManager) Create(ctx context.Context, name string, typ lucidkeys.VolumeType, quota int64) (Volume, error) {
	if err := ctx.Err(); err != nil {
		return Volume{}, ioErr(err, "create %q", name)
	}
	dir, err := m.Path(name)
	if err != nil {
		return Volume{}, err
	}
	if !typ.Valid() {
		_, perr := lucidkeys.ParseVolumeType(string(typ))
		return Volume{}, wrapErr(ErrInvalid, perr, "volume %q", name)
	}
	if quota == 0 {
		quota = m.cfg.DefaultQuota
	}
	if err := m.checkQuota(quota); err != nil {
		return Volume{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := os.MkdirAll(m.cfg.Root, 0o755); err != nil {
		return Volume{}, ioErr(err, "create root %s", m.cfg.Root)
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
		return Volume{}, ioErr(err, "create %q", name)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return Volume{}, ioErr(err, "create %q", name)
	}
	if !fi.IsDir() {
		return Volume{}, newErr(ErrExists, "create %q: %s exists and is not a directory", name, dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, MetadataFile)); err == nil {
		return Volume{}, newErr(ErrExists, "create %q: volume exists", name)
	}
	now := time.Now().UTC()
	v := Volume{Name: name, Type: typ, Quota: quota, Created: now, Updated: now, Path: dir}
	if err := writeMetadata(v); err != nil {
		return Volume{}, err
	}
	m.log.Info("volume created", "volume", name, "type", string(typ), "quota", FormatSize(quota))
	return v, nil
}

// Get returns the volume called name, ErrNotFound if there is none, or
// ErrCorrupt if its metadata cannot be read.
func (m *DirManager) Get(ctx context.Context, name string) (Volume, error) {
	if err := ctx.Err(); err != nil {
		return Volume{}, ioErr(err, "get %q", name)
	}
	dir, err := m.Path(name)
	if err != nil {
		return Volume{}, err
	}
	return readMetadata(dir, name)
}

// List returns every volume under the root, sorted by name. Directories
// without metadata are not volumes and are left out; a volume whose metadata
// is unreadable makes List fail with ErrCorrupt naming it. A missing root
// gives an empty list.
func (m *DirManager) List(ctx context.Context) ([]Volume, error) {
	if err := ctx.Err(); err != nil {
		return nil, ioErr(err, "list %s", m.cfg.Root)
	}
	ents, err := os.ReadDir(m.cfg.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, ioErr(err, "list %s", m.cfg.Root)
	}
	var out []Volume
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return nil, ioErr(err, "list %s", m.cfg.Root)
		}
		if !e.IsDir() || lucidkeys.ValidateVolumeName(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(m.cfg.Root, e.Name())
		if _, err := os.Lstat(filepath.Join(dir, MetadataFile)); err != nil {
			continue
		}
		v, err := readMetadata(dir, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Resize sets the quota of volume name to quota bytes. The new quota must be
// positive, at most Config.MaxQuota (ErrInvalid) and not below the bytes the
// volume already holds plus its outstanding reservations (ErrQuotaExceeded).
func (m *DirManager) Resize(ctx context.Context, name string, quota int64) (Volume, error) {
	if quota <= 0 {
		return Volume{}, newErr(ErrInvalid, "resize %q: quota must be positive, got %d", name, quota)
	}
	if err := m.checkQuota(quota); err != nil {
		return Volume{}, err
	}
	v, err := m.Get(ctx, name)
	if err != nil {
		return Volume{}, err
	}
	if quota < v.Quota {
		u, err := m.walkVolume(ctx, v, false)
		if err != nil {
			return Volume{}, err
		}
		m.mu.Lock()
		held := m.reserved[name]
		m.mu.Unlock()
		if u.Bytes+held > quota {
			return Volume{}, newErr(ErrQuotaExceeded, "resize %q to %s: it holds %s (plus %s reserved)", name, FormatSize(quota), FormatSize(u.Bytes), FormatSize(held))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, err = readMetadata(v.Path, name) // reread under the lock
	if err != nil {
		return Volume{}, err
	}
	v.Quota = quota
	v.Updated = time.Now().UTC()
	if err := writeMetadata(v); err != nil {
		return Volume{}, err
	}
	m.log.Info("volume resized", "volume", name, "quota", FormatSize(quota))
	return v, nil
}

// Delete removes volume name and everything in it. Without force a volume
// holding anything besides its metadata is refused with ErrNotEmpty. The
// directory is first renamed out of the way, so a crash mid-delete never
// leaves a half-deleted volume listed.
func (m *DirManager) Delete(ctx context.Context, name string, force bool) error {
	v, err := m.Get(ctx, name)
	if err != nil {
		return err
	}
	if !force {
		empty, err := isEmptyVolume(v.Path)
		if err != nil {
			return err
		}
		if !empty {
			return newErr(ErrNotEmpty, "delete %q: volume holds data (use force)", name)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	trash, err := os.MkdirTemp(m.cfg.Root, "."+name+".deleting-")
	if err != nil {
		return ioErr(err, "delete %q", name)
	}
	gone := filepath.Join(trash, name)
	if err := os.Rename(v.Path, gone); err != nil {
		_ = os.Remove(trash)
		return ioErr(err, "delete %q", name)
	}
	delete(m.reserved, name)
	m.usageMu.Lock()
	delete(m.walked, name)
	m.usageMu.Unlock()
	if err := os.RemoveAll(trash); err != nil {
		return ioErr(err, "delete %q: volume removed from the root but %s is left", name, trash)
	}
	_ = syncDir(m.cfg.Root)
	m.log.Info("volume deleted", "volume", name, "forced", force)
	return nil
}

// isEmptyVolume reports whether dir holds nothing but this package's files.
func isEmptyVolume(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, ioErr(err, "open %s", dir)
	}
	defer f.Close()
	for {
		names, err := f.Readdirnames(64)
		for _, n := range names {
			if !strings.HasPrefix(n, reservedPrefix) {
				return false, nil
			}
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, ioErr(err, "read %s", dir)
		}
	}
}

// readMetadata loads the metadata of the volume in dir.
func readMetadata(dir, name string) (Volume, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Volume{}, wrapErr(ErrNotFound, err, "volume %q", name)
		}
		return Volume{}, ioErr(err, "volume %q", name)
	}
	var md metadata
	if err := json.Unmarshal(b, &md); err != nil {
		return Volume{}, wrapErr(ErrCorrupt, err, "volume %q: metadata", name)
	}
	if md.Version != metadataVersion || md.Name != name || !md.Type.Valid() || md.Quota <= 0 {
		return Volume{}, newErr(ErrCorrupt, "volume %q: metadata version %d, name %q, type %q, quota %d", name, md.Version, md.Name, md.Type, md.Quota)
	}
	md.Path = dir
	return md.Volume, nil
}

// writeMetadata stores v's metadata in v.Path atomically.
func writeMetadata(v Volume) error {
	b, err := json.MarshalIndent(metadata{Version: metadataVersion, Volume: v}, "", "  ")
	if err != nil {
		return ioErr(err, "encode metadata of %q", v.Name)
	}
	return writeFileAtomic(filepath.Join(v.Path, MetadataFile), append(b, '\n'), 0o640)
}

// writeFileAtomic writes data to path through a temp file in the same
// directory: write, fsync, rename, fsync the directory. Readers see the old
// file or the new one, never a mix, even after a crash.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-")
	if err != nil {
		return ioErr(err, "write %s", path)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return ioErr(err, "write %s", path)
	}
	if err := f.Chmod(perm); err != nil {
		return ioErr(err, "write %s", path)
	}
	if err := f.Sync(); err != nil {
		return ioErr(err, "fsync %s", path)
	}
	if err := f.Close(); err != nil {
		return ioErr(err, "write %s", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		return ioErr(err, "rename %s", path)
	}
	ok = true
	return syncDir(dir)
}

// syncDir fsyncs a directory so that renames in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return ioErr(err, "open %s", dir)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return ioErr(err, "fsync %s", dir)
	}
	return nil
}
