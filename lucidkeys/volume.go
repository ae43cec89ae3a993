package lucidkeys

// VolumeType is the kind of data a volume holds. Each type has a default
// directory so that every host lays out its disks the same way.
type VolumeType string

// The nine volume types of the Lucid data tier.
const (
	VolumeMongoDB       VolumeType = "mongodb"       // MongoDB data files
	VolumeRedis         VolumeType = "redis"         // Redis RDB/AOF files
	VolumeElasticsearch VolumeType = "elasticsearch" // search engine data
	VolumeSessions      VolumeType = "sessions"      // session data storage
	VolumeChunks        VolumeType = "chunks"        // chunk storage
	VolumeMerkle        VolumeType = "merkle"        // Merkle tree data
	VolumeBlocks        VolumeType = "blocks"        // blockchain data (lucid_blocks)
	VolumeLogs          VolumeType = "logs"          // log files
	VolumeBackups       VolumeType = "backups"       // backup storage
)

// Volume sizes and the usage level at which monitors warn. Sizes are bytes.
const (
	// DefaultVolumeSize is the quota of a volume created without one (10 GiB).
	DefaultVolumeSize int64 = 10 << 30
	// MaxVolumeSize is the largest quota a volume may be given (100 GiB), a
	// guard against typos that would let one volume starve the host.
	MaxVolumeSize int64 = 100 << 30
	// WarningThresholdPercent is the usage, in percent of the quota, at which
	// monitors emit a warning so operators act before the quota is hit.
	WarningThresholdPercent = 80
)

// volumeRoot is the parent directory of every default volume path.
const volumeRoot = "/data/"

// VolumeTypes returns all volume types in a fixed order. The slice is new on
// every call, so callers may modify it.
func VolumeTypes() []VolumeType {
	return []VolumeType{
		VolumeMongoDB, VolumeRedis, VolumeElasticsearch, VolumeSessions,
		VolumeChunks, VolumeMerkle, VolumeBlocks, VolumeLogs, VolumeBackups,
	}
}

// Valid reports whether v is one of the nine known volume types.
func (v VolumeType) Valid() bool {
	switch v {
	case VolumeMongoDB, VolumeRedis, VolumeElasticsearch, VolumeSessions,
		VolumeChunks, VolumeMerkle, VolumeBlocks, VolumeLogs, VolumeBackups:
		return true
	}
	return false
}

// String returns the type's name, e.g. "mongodb".
func (v VolumeType) String() string { return string(v) }

// DefaultPath returns the directory a volume of this type lives in when no
// root is configured: "/data/" followed by the type name, e.g. "/data/mongodb".
// It returns "" for an invalid type so a bad value can never name a real path.
func (v VolumeType) DefaultPath() string {
	if !v.Valid() {
		return ""
	}
	return volumeRoot + string(v)
}

// ParseVolumeType returns the volume type named s. Matching is exact: names
// are lowercase everywhere, and accepting "MongoDB" here would let two
// spellings of one volume coexist in configuration.
func ParseVolumeType(s string) (VolumeType, error) {
	v := VolumeType(s)
	if !v.Valid() {
		return "", invalidf("unknown volume type %q", s)
	}
	return v, nil
}

// maxVolumeName bounds volume names so they fit in a path segment, a Docker
// volume name and a metadata file name with room to spare.
const maxVolumeName = 63

// ValidateVolumeName checks a volume's name: lowercase descriptive names
// matching [a-z0-9][a-z0-9_-]{0,62}. The rule keeps names safe as a single
// directory name (no '/', no '.', no leading '-') on every filesystem.
func ValidateVolumeName(name string) error {
	return checkToken("volume name", name, maxVolumeName, true)
}
