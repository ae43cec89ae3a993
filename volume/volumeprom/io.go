package volumeprom

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/HamiGames/lucid-data/volume"
)

// IOCollector exports the cumulative I/O of the block devices holding a
// Manager's volumes, read from /proc/diskstats at each scrape (a few reads
// of small kernel files; no volume is walked):
//
//	lucid_volume_device_info{volume,type,device}        1: which device holds which volume
//	lucid_volume_device_reads_total{device}             reads completed
//	lucid_volume_device_read_bytes_total{device}        bytes read
//	lucid_volume_device_read_seconds_total{device}      time spent reading
//	lucid_volume_device_writes_total{device}            writes completed
//	lucid_volume_device_written_bytes_total{device}     bytes written
//	lucid_volume_device_write_seconds_total{device}     time spent writing
//	lucid_volume_device_io_seconds_total{device}        time the device was busy
//	lucid_volume_device_io_in_flight{device}            requests in flight
//
// A device holding several volumes is exported once. Volumes on no block
// device with statistics (tmpfs, overlay, network filesystems) get no
// metrics; rate() of the counters gives throughput, IOPS and utilisation.
type IOCollector struct {
	vols volume.Manager
}

var _ prometheus.Collector = (*IOCollector)(nil)

// NewIOCollector returns an IOCollector of the volumes of vols.
func NewIOCollector(vols volume.Manager) *IOCollector { return &IOCollector{vols: vols} }

var (
	devLabels     = []string{"device"}
	descDevInfo   = prometheus.NewDesc("lucid_volume_device_info", "The block device holding a volume (always 1).", []string{"volume", "type", "device"}, nil)
	descReads     = prometheus.NewDesc("lucid_volume_device_reads_total", "Reads completed by the device.", devLabels, nil)
	descReadB     = prometheus.NewDesc("lucid_volume_device_read_bytes_total", "Bytes read from the device.", devLabels, nil)
	descReadS     = prometheus.NewDesc("lucid_volume_device_read_seconds_total", "Time the device spent reading.", devLabels, nil)
	descWrites    = prometheus.NewDesc("lucid_volume_device_writes_total", "Writes completed by the device.", devLabels, nil)
	descWriteB    = prometheus.NewDesc("lucid_volume_device_written_bytes_total", "Bytes written to the device.", devLabels, nil)
	descWriteS    = prometheus.NewDesc("lucid_volume_device_write_seconds_total", "Time the device spent writing.", devLabels, nil)
	descIOS       = prometheus.NewDesc("lucid_volume_device_io_seconds_total", "Time the device was busy.", devLabels, nil)
	descInFlight  = prometheus.NewDesc("lucid_volume_device_io_in_flight", "Requests in flight on the device.", devLabels, nil)
	listTimeout   = 5 * time.Second
	ioCollectDesc = []*prometheus.Desc{descDevInfo, descReads, descReadB, descReadS, descWrites, descWriteB, descWriteS, descIOS, descInFlight}
)

// Describe implements prometheus.Collector.
func (c *IOCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range ioCollectDesc {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A volume list that fails (the
// root gone) exports nothing rather than failing the whole scrape.
func (c *IOCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	vs, err := c.vols.List(ctx)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, v := range vs {
		io, err := volume.DirDeviceIO(v.Path)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descDevInfo, prometheus.GaugeValue, 1, v.Name, string(v.Type), io.Device)
		if seen[io.Device] {
			continue
		}
		seen[io.Device] = true
		counter := func(d *prometheus.Desc, x float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, x, io.Device)
		}
		counter(descReads, float64(io.Reads))
		counter(descReadB, float64(io.ReadBytes))
		counter(descReadS, io.ReadTime.Seconds())
		counter(descWrites, float64(io.Writes))
		counter(descWriteB, float64(io.WrittenBytes))
		counter(descWriteS, io.WriteTime.Seconds())
		counter(descIOS, io.IOTime.Seconds())
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(io.InFlight), io.Device)
	}
}
