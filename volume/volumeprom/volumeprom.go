// Package volumeprom exports a volume.Monitor's last measurements as
// Prometheus metrics. It lives apart from package volume so that importing
// volume links no Prometheus client.
//
// Every metric carries the labels volume (the volume's name) and type (its
// Lucid volume type):
//
//	lucid_volume_used_bytes                          apparent size of the contents (du -sb)
//	lucid_volume_allocated_bytes                     disk space allocated to the contents
//	lucid_volume_files                               regular files
//	lucid_volume_quota_bytes                         soft quota
//	lucid_volume_usage_ratio                         used bytes / quota
//	lucid_volume_fs_size_bytes                       size of the filesystem holding the volume
//	lucid_volume_fs_free_bytes                       free bytes, root's reserve included
//	lucid_volume_fs_available_bytes                  bytes available to unprivileged users
//	lucid_volume_fs_inodes_free                      free inodes
//	lucid_volume_level{scope="quota"|"disk"}         0 ok, 1 warning, 2 critical
//	lucid_volume_last_check_timestamp_seconds        Unix time of the last tick
//	lucid_volume_usage_measured_timestamp_seconds{source}  when the used bytes were measured
//
// All are gauges. Collecting never measures or walks a volume: it reads
// Monitor.Last.
package volumeprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/HamiGames/lucid-data/volume"
)

// Collector is a prometheus.Collector of one Monitor's last measurements.
type Collector struct {
	mon *volume.Monitor
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector of mon. Register it with a
// prometheus.Registerer; it stays valid after mon is closed (it then
// reports the last measurements mon made).
func NewCollector(mon *volume.Monitor) *Collector { return &Collector{mon: mon} }

// Metric descriptors. Labels: volume name and type.
var (
	volLabels    = []string{"volume", "type"}
	descUsed     = prometheus.NewDesc("lucid_volume_used_bytes", "Apparent size of the volume's contents (du -sb).", volLabels, nil)
	descAlloc    = prometheus.NewDesc("lucid_volume_allocated_bytes", "Disk space allocated to the volume's contents.", volLabels, nil)
	descFiles    = prometheus.NewDesc("lucid_volume_files", "Regular files in the volume.", volLabels, nil)
	descQuota    = prometheus.NewDesc("lucid_volume_quota_bytes", "Soft quota of the volume.", volLabels, nil)
	descRatio    = prometheus.NewDesc("lucid_volume_usage_ratio", "Used bytes divided by the quota.", volLabels, nil)
	descFSSize   = prometheus.NewDesc("lucid_volume_fs_size_bytes", "Size of the filesystem holding the volume.", volLabels, nil)
	descFSFree   = prometheus.NewDesc("lucid_volume_fs_free_bytes", "Free bytes on the filesystem, root's reserve included.", volLabels, nil)
	descFSAvail  = prometheus.NewDesc("lucid_volume_fs_available_bytes", "Bytes available to unprivileged users on the filesystem.", volLabels, nil)
	descFSInodes = prometheus.NewDesc("lucid_volume_fs_inodes_free", "Free inodes on the filesystem.", volLabels, nil)
	descLevel    = prometheus.NewDesc("lucid_volume_level", "0 ok, 1 warning, 2 critical.", append(volLabels, "scope"), nil)
	descChecked  = prometheus.NewDesc("lucid_volume_last_check_timestamp_seconds", "Unix time of the last tick.", volLabels, nil)
	descMeasured = prometheus.NewDesc("lucid_volume_usage_measured_timestamp_seconds", "Unix time the used bytes were measured (the last walk, or the tick with quota accounting); absent before the first.", append(volLabels, "source"), nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsed, descAlloc, descFiles, descQuota, descRatio, descFSSize, descFSFree, descFSAvail, descFSInodes, descLevel, descChecked, descMeasured} {
		ch <- d
	}
}

// Collect implements prometheus.Collector with the last measurements.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	g := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	for _, m := range c.mon.Last() {
		n, t, u := m.Volume.Name, string(m.Volume.Type), m.Usage
		g(descUsed, float64(u.Bytes), n, t)
		g(descAlloc, float64(u.AllocatedBytes), n, t)
		g(descFiles, float64(u.Files), n, t)
		g(descQuota, float64(m.Volume.Quota), n, t)
		g(descRatio, u.Percent/100, n, t)
		g(descFSSize, float64(u.FS.Total), n, t)
		g(descFSFree, float64(u.FS.Free), n, t)
		g(descFSAvail, float64(u.FS.Available), n, t)
		g(descFSInodes, float64(u.FS.InodesFree), n, t)
		g(descLevel, float64(m.Quota), n, t, "quota")
		g(descLevel, float64(m.Disk), n, t, "disk")
		g(descChecked, float64(m.Checked.UnixNano())/1e9, n, t)
		if !u.Measured.IsZero() {
			g(descMeasured, float64(u.Measured.UnixNano())/1e9, n, t, u.Source)
		}
	}
}
