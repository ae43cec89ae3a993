package volume

import (
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// DefaultRoot is the directory volumes live under when Config.Root is empty.
// A volume named after its type then sits at Lucid's path for that type:
// a "mongodb" volume is /data/mongodb (lucidkeys.VolumeMongoDB.DefaultPath()).
const DefaultRoot = "/data"

// Environment variables read by FromEnv. The size and threshold names are
// those Lucid services already read; LUCID_VOLUME_ROOT is the SDK's.
const (
	EnvRoot             = "LUCID_VOLUME_ROOT"   // root directory, e.g. /data
	EnvDefaultSize      = "DEFAULT_VOLUME_SIZE" // e.g. "10G"
	EnvMaxSize          = "MAX_VOLUME_SIZE"     // e.g. "100G"
	EnvWarningThreshold = "WARNING_THRESHOLD"   // percent, e.g. "80"
)

// Config configures a DirManager. The zero value is valid and means the
// documented default of every field.
type Config struct {
	// Root is the directory holding the volumes, one subdirectory each.
	// Default DefaultRoot ("/data"). It is created on the first Create.
	Root string
	// DefaultQuota is the quota, in bytes, of a volume created with quota 0.
	// Default lucidkeys.DefaultVolumeSize (10 GiB).
	DefaultQuota int64
	// MaxQuota is the largest quota Create and Resize accept.
	// Default lucidkeys.MaxVolumeSize (100 GiB).
	MaxQuota int64
	// WarningPercent is the usage, in percent of the quota, at which health
	// reports and monitors warn. Default lucidkeys.WarningThresholdPercent (80).
	WarningPercent int
	// Workers bounds the goroutines of a usage walk or a manifest build.
	// Default 4 × GOMAXPROCS for walks (they wait on the disk) and GOMAXPROCS
	// for hashing.
	Workers int
	// Logger receives debug and warning messages. Default: discard.
	Logger *slog.Logger
}

// FromEnv returns a Config read from the environment: LUCID_VOLUME_ROOT,
// DEFAULT_VOLUME_SIZE and MAX_VOLUME_SIZE (sizes such as "10G", see
// ParseSize) and WARNING_THRESHOLD (a percent, 1-100). Unset variables keep
// their zero value, which New turns into the default. A malformed value is
// an error wrapping ErrInvalid that names the variable.
func FromEnv() (Config, error) {
	var c Config
	c.Root = strings.TrimSpace(os.Getenv(EnvRoot))
	for _, v := range []struct {
		name string
		dst  *int64
	}{{EnvDefaultSize, &c.DefaultQuota}, {EnvMaxSize, &c.MaxQuota}} {
		s := os.Getenv(v.name)
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := ParseSize(s)
		if err != nil {
			return Config{}, wrapErr(ErrInvalid, err, "%s", v.name)
		}
		*v.dst = n
	}
	if s := strings.TrimSpace(os.Getenv(EnvWarningThreshold)); s != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
		if err != nil || n < 1 || n > 100 {
			return Config{}, newErr(ErrInvalid, "%s=%q: want a percent from 1 to 100", EnvWarningThreshold, s)
		}
		c.WarningPercent = n
	}
	return c, nil
}

// withDefaults returns c with zero fields replaced by defaults, or an error
// if a field is out of range.
func (c Config) withDefaults() (Config, error) {
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if c.DefaultQuota == 0 {
		c.DefaultQuota = lucidkeys.DefaultVolumeSize
	}
	if c.MaxQuota == 0 {
		c.MaxQuota = lucidkeys.MaxVolumeSize
	}
	if c.WarningPercent == 0 {
		c.WarningPercent = lucidkeys.WarningThresholdPercent
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	switch {
	case c.DefaultQuota < 0 || c.MaxQuota < 0:
		return c, newErr(ErrInvalid, "negative quota in config")
	case c.DefaultQuota > c.MaxQuota:
		return c, newErr(ErrInvalid, "default quota %s is above the maximum %s", FormatSize(c.DefaultQuota), FormatSize(c.MaxQuota))
	case c.WarningPercent < 1 || c.WarningPercent > 100:
		return c, newErr(ErrInvalid, "warning threshold %d%% is outside 1-100", c.WarningPercent)
	case c.Workers < 0:
		return c, newErr(ErrInvalid, "negative worker count %d", c.Workers)
	}
	return c, nil
}

// walkWorkers is the default parallelism of directory walks.
func walkWorkers(n int) int {
	if n > 0 {
		return n
	}
	return 4 * runtime.GOMAXPROCS(0)
}

// hashWorkers is the default parallelism of checksum computation.
func hashWorkers(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}
