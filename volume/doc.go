// Package volume manages directories on the host as Lucid data volumes: usage
// and quotas from statfs and a parallel walk, a monitor, health, performance,
// safe archive/restore/migrate and integrity manifests.
package volume
