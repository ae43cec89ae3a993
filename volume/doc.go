// Package volume manages directories on the host as Lucid data volumes: the
// seed's nine volume types (lucidkeys.VolumeType), each a directory under a
// root (/data by default, so a "mongodb" volume is /data/mongodb) with a
// small metadata file holding its type, quota and creation time, written
// atomically (temp file, fsync, rename).
//
// # Managing volumes
//
// A DirManager (behind the small Manager interface) creates, lists,
// resizes and deletes volumes. Config's zero value gives the seed's
// defaults — DEFAULT_VOLUME_SIZE 10G, MAX_VOLUME_SIZE 100G,
// WARNING_THRESHOLD 80 — and FromEnv reads those variables plus
// LUCID_VOLUME_ROOT. Sizes are written "10G", "512M", "1.5GiB" (ParseSize,
// binary units).
//
// # Usage, quotas, health and performance
//
// Usage walks a volume with a bounded pool of goroutines (getdents and
// fstatat, no symlinks followed, hard links counted once) and reports bytes
// as `du -sb` does, allocated bytes and file counts, with statfs figures of
// the filesystem (StatFS). Quotas are soft, enforced by this package:
// Reserve or Check before a large write refuses it with ErrQuotaExceeded
// (over the quota) or ErrNoSpace (over the filesystem). SetHardQuota says
// plainly, with ErrUnsupported, when the kernel cannot enforce one.
//
// Health returns one report: the volume exists, a probe file can be written
// and fsync'd, the filesystem is not read-only or full, and usage against
// the quota. Performance samples /proc/diskstats for the device under the
// volume (throughput, IOPS, latency, utilisation) and times an fsync.
//
// A Monitor checks volumes periodically and emits an Event each time a
// volume's usage crosses the warning threshold or the quota, or its
// filesystem fills up, and again when it drops back; it is also a
// prometheus.Collector of the last measurements.
//
// # Archive, restore, migrate, integrity
//
// Archive and Extract move a directory as a tar stream over any io.Writer
// and io.Reader, so the backup package can compress and encrypt it. Extract
// is safe against hostile archives: it reaches every entry through
// directory descriptors without following a symlink, so nothing is written
// outside the target; absolute paths, "..", symlinks that could resolve
// outside the target (now or once later entries arrive), hard links to
// anything but a file inside it, device files and oversized headers are
// refused with ErrUnsafePath or ErrCorrupt; its space limit counts what the
// filesystem allocates. Snapshot writes a timestamped
// tar file; Restore swaps a fully extracted copy in, leaving the volume as it
// was on any error. Migrate copies a volume to another root, verifies the
// copy against the source with SHA-256 manifests and only then switches,
// leaving the source intact until the copy is verified. CreateManifest and
// VerifyIntegrity record and check a volume's checksums, reporting files
// added, removed and changed.
//
// # Maintenance
//
// Cleanup removes temporary files and files older than an age under a glob;
// Defragment runs e4defrag on ext4 and returns ErrUnsupported elsewhere.
//
// # Errors
//
// Errors start with "volume: " and wrap one sentinel (ErrNotFound,
// ErrExists, ErrNotEmpty, ErrQuotaExceeded, ErrNoSpace, ErrInvalid,
// ErrUnsupported, ErrUnsafePath, ErrCorrupt) and the underlying cause, for
// errors.Is and errors.As. Every call doing I/O takes a context and stops
// when it is cancelled.
//
// The package is written for Linux (amd64, arm64 and 32-bit arm, as on a
// Raspberry Pi); on other systems it builds, and the Linux-only parts
// (statfs, disk statistics, defragment, hard quotas) return ErrUnsupported.
package volume
