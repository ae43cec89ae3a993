// Package schedule runs backups on cron schedules across a fleet of hosts
// that share one backup target, so that each tick of a job is backed up
// once, a stale runner cannot commit, and every run — and every tick that
// nobody ran — leaves a record in the target.
//
//	sch, _ := schedule.New(manager, locker, schedule.Options{})
//	_ = sch.Add(schedule.Job{Name: "nightly", Schedule: "0 2 * * *", Parts: parts})
//	_ = sch.Start()
//	defer sch.Close()
//
// # Schedules
//
// Job.Schedule is parsed by github.com/robfig/cron/v3: the standard five
// fields (minute hour day-of-month month day-of-week), an optional leading
// seconds field, descriptors (@daily, @hourly, @every 1h30m) and a
// CRON_TZ=<zone> prefix; without one, fields are read in Options.Location
// (UTC by default). @every ticks are aligned to the Unix epoch (@every 1h
// fires on the hour on every host) so that hosts started at different
// times agree on the ticks; robfig's own @every counts from whenever it is
// asked. A Job.Jitter delays each host's start by a random duration up to
// it, spreading a fleet's load on the sources.
//
// # One run per tick
//
// Every host runs the same loop. When tick T of job J is due, a host:
//
//  1. obtains the job's lock, named "<LockPrefix>.<J>", through Locker
//     (the cache package's Locker satisfies it), waiting at most
//     Options.LockWait; if another host holds it, that host is running J
//     and this one does nothing;
//  2. lists J's run records in the target: if one exists for T or a later
//     tick, T was run (or reported) already and it does nothing;
//  3. reports as missed every tick of J before T that has no record, and T
//     itself when it is later than its tick plus Jitter plus Grace;
//  4. otherwise runs the backup, writes its run record, then releases the
//     lock.
//
// The record is written before the lock is released, so a host that gets
// the lock after a run finished sees the record: exactly one run per tick,
// whatever the hosts' clocks and wake-up delays within Grace. The lock is
// named after the job, not after the job and the tick: a run still going
// when the next tick comes holds it, so two runs of one job never overlap
// anywhere in the fleet (that tick is reported as missed, see below), and
// the lock's fencing token increases from run to run of the job with every
// Locker, the in-memory one too (it counts per name). The tick a run claims
// is the run record's name, checked under the lock.
//
// # Fencing: a stale runner cannot commit
//
// A run's context is the lock's Context: the cache Locker's watchdog
// refreshes the lease every TTL/3 and cancels it the moment the lease is
// known to be lost, so the backup aborts without a manifest. A runner that
// was paused (a stopped process, a swapped-out VM) may resume with a lease
// that ran out and timers that have not fired yet; for that case the
// backup's BackupOptions.BeforeCommit, which runs after every part is
// committed and before the manifest is written, checks again:
//
//   - the lock's Context is not done, and Refresh succeeds: the lease is
//     still this runner's on the lock server, and now extends a full TTL
//     from this moment;
//   - no run record of the job carries a fencing token above this run's:
//     the target itself has not seen a newer holder (which the lock server
//     may have forgotten after a failover, as the cache package warns).
//
// Either failing fails the backup with ErrLockLost or ErrFenced: its objects
// are removed, no manifest is written, and the run is recorded as failed.
//
// The remaining window: between BeforeCommit's checks and the manifest's
// single write, the runner could stall again for longer than the TTL it
// just renewed, while another host takes the lock and runs the job (its
// next tick, or the same one if that is still within Jitter plus Grace).
// Both manifests then exist. This is safe: objects are written once and
// backup IDs are unique, so neither backup overwrites or corrupts the
// other — each is a complete, consistent backup of its own time — and the
// only cost is one extra backup. Readers resolve it by the fencing token,
// which every manifest carries in its labels (LabelFence, beside LabelJob,
// LabelTick and LabelHost) and every run record in its name and Fence
// field: among the backups and runs of one job the higher token is the
// newer holder. The window is the time to write one small object, against a
// TTL of 30 s by default.
//
// # Records
//
// Each run is kept in the target as a record of kind "run"
// (backup.Manager.PutRecord) named "<job>.<tick>.<fence>" — tick as
// 20060102T150405Z in UTC, fence as 20 digits, so names sort by job, tick,
// token — holding a Run: job, tick, status, start, end, backup ID, bytes,
// parts, error, fencing token, host. Scheduler.Runs and Scheduler.Last read
// them back.
//
// A failed run is recorded as failed and not retried before the next tick.
// A tick nobody ran — every host down over it or cut off from the lock
// server, a clock that jumped forward, or the job's previous run still
// holding the lock — is not silently skipped: the
// next host to hold the job's lock (at its next tick, or at its Start)
// writes a record with status StatusMissed for it and logs a warning.
// A tick counts as missed once its Jitter plus Grace has passed, because no
// host starts a tick later than that. At most Options.MaxMissed missed ticks
// are recorded per check (the log line gives the total). Missed ticks are
// reported, not run late: the next tick's run is the catch-up. A clock
// stepped back runs nothing twice: the loop waits for its next tick, and a
// tick with a record is never run again.
//
// Close stops scheduling and waits for running backups; Shutdown bounds the
// wait and cancels what is still running after it.
package schedule
