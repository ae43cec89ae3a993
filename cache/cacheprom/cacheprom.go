// Package cacheprom exports the connection pool of a cache.Client as
// Prometheus metrics, for programs that scrape Prometheus and use no
// OpenTelemetry meter (cache.Config.MeterProvider gives the same figures,
// and more, through OpenTelemetry). It lives apart from package cache so
// that importing cache links no Prometheus client.
//
// Every metric carries the label client (the name given to NewCollector):
//
//	lucid_redis_pool_hits_total                 a free connection was found in the pool
//	lucid_redis_pool_misses_total               no free connection was found: one was dialled
//	lucid_redis_pool_timeouts_total             a wait for a connection timed out (PoolTimeout)
//	lucid_redis_pool_waits_total                a caller waited for a connection
//	lucid_redis_pool_wait_seconds_total         time spent waiting for connections
//	lucid_redis_pool_stale_connections_total    connections removed as stale
//	lucid_redis_pool_connections                connections open (gauge)
//	lucid_redis_pool_idle_connections           connections idle in the pool (gauge)
//	lucid_redis_pool_pending_requests           callers waiting for a connection now (gauge)
//
// On a Cluster or Ring the figures are the sum over every node's pool, as
// go-redis's PoolStats reports them.
package cacheprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/HamiGames/lucid-data/cache"
)

// Collector is a prometheus.Collector of one cache.Client's pool.
type Collector struct {
	c    *cache.Client
	name string
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector of c's pool, labelled client=name (the
// label tells several clients of one process apart). Collecting reads
// go-redis's counters: it sends nothing to Redis.
func NewCollector(c *cache.Client, name string) *Collector {
	return &Collector{c: c, name: name}
}

var (
	labels       = []string{"client"}
	descHits     = prometheus.NewDesc("lucid_redis_pool_hits_total", "Times a free connection was found in the pool.", labels, nil)
	descMisses   = prometheus.NewDesc("lucid_redis_pool_misses_total", "Times no free connection was found in the pool.", labels, nil)
	descTimeouts = prometheus.NewDesc("lucid_redis_pool_timeouts_total", "Times a wait for a pooled connection timed out.", labels, nil)
	descWaits    = prometheus.NewDesc("lucid_redis_pool_waits_total", "Times a caller waited for a pooled connection.", labels, nil)
	descWaitSecs = prometheus.NewDesc("lucid_redis_pool_wait_seconds_total", "Time spent waiting for pooled connections.", labels, nil)
	descStale    = prometheus.NewDesc("lucid_redis_pool_stale_connections_total", "Connections removed from the pool as stale.", labels, nil)
	descConns    = prometheus.NewDesc("lucid_redis_pool_connections", "Connections open in the pool.", labels, nil)
	descIdle     = prometheus.NewDesc("lucid_redis_pool_idle_connections", "Connections idle in the pool.", labels, nil)
	descPending  = prometheus.NewDesc("lucid_redis_pool_pending_requests", "Callers waiting for a pooled connection.", labels, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHits, descMisses, descTimeouts, descWaits, descWaitSecs, descStale, descConns, descIdle, descPending} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.c.Redis().PoolStats()
	if s == nil {
		return
	}
	m := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
		ch <- prometheus.MustNewConstMetric(d, t, v, c.name)
	}
	m(descHits, prometheus.CounterValue, float64(s.Hits))
	m(descMisses, prometheus.CounterValue, float64(s.Misses))
	m(descTimeouts, prometheus.CounterValue, float64(s.Timeouts))
	m(descWaits, prometheus.CounterValue, float64(s.WaitCount))
	m(descWaitSecs, prometheus.CounterValue, float64(s.WaitDurationNs)/1e9)
	m(descStale, prometheus.CounterValue, float64(s.StaleConns))
	m(descConns, prometheus.GaugeValue, float64(s.TotalConns))
	m(descIdle, prometheus.GaugeValue, float64(s.IdleConns))
	m(descPending, prometheus.GaugeValue, float64(s.PendingRequests))
}
