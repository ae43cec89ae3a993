// Package volume manages directories on a Linux host as Lucid data volumes:
// each a directory under a root with a small metadata file holding its
// type, quota and creation time.
//
//	vols, err := volume.New(volume.Config{Root: "/data"}) // or a Config from volume.FromEnv()
//	if err != nil { ... }
//	v, err := vols.Create(ctx, "mongodb", lucidkeys.VolumeMongoDB, 0) // /data/mongodb, 10 GiB quota
//	r, err := vols.Reserve(ctx, "mongodb", 512<<20)                   // before a large write
//	defer r.Release()
//	mon := vols.NewMonitor(volume.MonitorOptions{OnEvent: alert})
//	mon.Start(ctx)
//	defer mon.Close()
//	agg.Register("volumes", vols, health.CheckOptions{})               // health.Aggregator
//
// # Managing volumes
//
// New returns a [Manager], the interface a program holds (the
// implementation is [*DirManager]). It creates, lists, resizes and deletes
// volumes of the nine Lucid volume types (lucidkeys.VolumeType); a volume
// named after its type sits at Lucid's path for it, so a "mongodb" volume
// is /data/mongodb. Metadata is written atomically (temp file, fsync,
// rename). Config's zero value gives Lucid's defaults — 10 GiB default
// quota, 100 GiB maximum, a warning at 80 % — and FromEnv reads
// LUCID_VOLUME_ROOT, DEFAULT_VOLUME_SIZE, MAX_VOLUME_SIZE and
// WARNING_THRESHOLD. Sizes are written "10G", "512M", "1.5GiB" (ParseSize,
// binary units).
//
// # Usage, quotas, health and monitoring
//
// Usage walks a volume with a bounded pool of goroutines (getdents and
// fstatat, no symlinks followed, hard links counted once) and reports bytes
// as `du -sb` does, allocated bytes and file counts, with statfs figures of
// the filesystem (StatFS). Quotas are soft, enforced by this package:
// Reserve or CheckSpace before a large write refuses it with
// ErrQuotaExceeded (over the quota) or ErrNoSpace (over the filesystem).
// SetHardQuota asks the kernel to enforce the quota with ext4 or xfs
// project quotas and says plainly, with ErrUnsupported, when it cannot.
//
// Check and CheckVolume return a health.Report cheap enough for a
// readiness probe (a statfs, a probe write, no walk): a volume at its
// warning threshold is Degraded; one at its quota, on a full or read-only
// filesystem, or not writable is Down. Health is the in-depth check of one
// volume, a fresh walk included. Performance samples /proc/diskstats for
// the device under the volume (throughput, IOPS, latency, utilisation) and
// times an fsync.
//
// A Monitor is statfs-based: each tick reads every volume's filesystem
// (fullness, inodes) and, where the filesystem keeps project quota
// accounting for the volume, its usage from quotactl — instant answers.
// Elsewhere usage comes from full walks on their own, slower schedule
// (MonitorOptions.WalkInterval, 15 minutes by default), and each
// measurement says where its figure came from and when. The monitor emits
// an Event each time a volume's usage crosses the warning threshold or the
// quota, or its filesystem fills up, and again when it drops back; it
// keeps the last measurement of each volume (Monitor.Last), which package
// volumeprom exports as Prometheus metrics.
//
// # Archive, restore, migrate, integrity
//
// Archive and Extract move a directory as a tar stream over any io.Writer
// and io.Reader, so it can be compressed and encrypted on the way. Extract
// is safe against hostile archives: it reaches every entry through
// directory descriptors without following a symlink, so nothing is written
// outside the target; absolute paths, "..", symlinks that could resolve
// outside the target (now or once later entries arrive), hard links to
// anything but a file inside it, device files and oversized headers are
// refused with ErrUnsafePath or ErrCorrupt; its space limit counts what the
// filesystem allocates. Snapshot writes a timestamped tar file; Restore
// swaps a fully extracted copy in, leaving the volume as it was on any
// error. Migrate copies a volume to another root, verifies the copy against
// the source with SHA-256 manifests and only then switches, leaving the
// source intact until the copy is verified. CreateManifest and
// VerifyIntegrity record and check a volume's checksums, reporting files
// added, removed and changed.
//
// Walk is the tree walk Archive reads with, for other readers of a live,
// possibly hostile tree (package backup/volumepart's scan): lexical order,
// each entry stat'ed once relative to its directory's descriptor, nothing
// followed through a symlink, files opened with O_NOFOLLOW and O_NONBLOCK,
// hard links named by their first path.
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
// ErrUnsupported, ErrUnsafePath, ErrCorrupt, ErrClosed), each of an
// errkind.Kind, and the underlying cause, for errors.Is, errors.As and
// errkind.Of. Every call doing I/O takes a context; a call it stops
// returns an error matching context.Canceled or context.DeadlineExceeded.
//
// # Platforms
//
// The package is for Linux: tested on linux/amd64 and built for linux/arm64
// and linux/arm (GOARM=7, as on a Raspberry Pi). Other Linux ports build
// and use the portable directory walk; hard quotas and quota accounting
// answer ErrUnsupported where their system calls are not wired up.
//
// On other systems (cross-built for windows/amd64 and darwin/arm64) the
// package builds, so a service that imports it compiles on a developer's
// machine; what remains there is what the os package does — Create, Get,
// List, Delete, manifests, Cleanup — untested on those systems. StatFS,
// and so Usage,
// CheckSpace, Reserve, Health, Check, CheckVolume and the Monitor's
// measurements; Walk, Archive and Extract, and so Snapshot, Restore and Migrate;
// disk statistics, Defragment and hard quotas all return ErrUnsupported
// (a health report is Down with it). On Windows usage walks, and so
// Resize to a smaller quota, return ErrUnsupported too.
package volume
