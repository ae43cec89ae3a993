// Command volume-monitor watches Lucid data volumes with a volume.Monitor:
// it logs every threshold event (usage crossing the warning threshold or the
// quota, a filesystem filling up, and each dropping back) through log/slog,
// serves the monitor's Prometheus metrics on /metrics, and answers /livez and
// /readyz from a health.Aggregator over the volumes (ready while every volume
// is up or degraded, 503 once one is down: at its quota, full, read-only or
// not writable). SIGINT or SIGTERM stop it gracefully.
//
//	go run ./examples/volume-monitor -root /data -addr 127.0.0.1:9108
//	curl -s localhost:9108/metrics | grep lucid_volume_
//	curl -s localhost:9108/readyz
//
// The root comes from -root, else LUCID_VOLUME_ROOT (volume.FromEnv, which
// also reads DEFAULT_VOLUME_SIZE, MAX_VOLUME_SIZE and WARNING_THRESHOLD),
// else /data. -create name:type[:quota] creates volumes that do not exist
// yet (try -root /tmp/vols -create sessions:sessions:1G). A tick is a statfs
// per volume, cheap at any interval; the full walks that measure usage where
// the filesystem keeps no project quota accounting run every -walk-interval.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/volume"
	"github.com/HamiGames/lucid-data/volume/volumeprom"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], log, nil); err != nil {
		log.Error("volume-monitor stopped", "err", err)
		os.Exit(1)
	}
}

// logEvent logs a monitor event: a rise to warning is a WARN, to critical an
// ERROR, a drop back an INFO.
func logEvent(log *slog.Logger, e volume.Event) {
	level := slog.LevelInfo
	switch {
	case e.To > e.From && e.To == volume.LevelCritical:
		level = slog.LevelError
	case e.To > e.From:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("volume", e.Volume), slog.String("scope", e.Scope.String()),
		slog.String("from", e.From.String()), slog.String("to", e.To.String()),
	}
	if e.Scope == volume.ScopeQuota {
		attrs = append(attrs, slog.Int64("used_bytes", e.Usage.Bytes), slog.Int64("quota_bytes", e.Usage.Quota),
			slog.Float64("used_percent", e.Usage.Percent), slog.String("source", e.Usage.Source),
			slog.Time("measured", e.Usage.Measured))
	} else {
		attrs = append(attrs, slog.Float64("fs_used_percent", e.Usage.FS.UsedPercent),
			slog.Uint64("fs_available_bytes", e.Usage.FS.Available))
	}
	log.LogAttrs(context.Background(), level, "volume threshold", attrs...)
}

// createSpec is one -create value: name:type[:quota].
type createSpec struct {
	name  string
	typ   lucidkeys.VolumeType
	quota int64
}

type createFlag []createSpec

func (c *createFlag) String() string { return fmt.Sprint(*c) }

func (c *createFlag) Set(s string) error {
	f := strings.Split(s, ":")
	if len(f) < 2 || len(f) > 3 {
		return errors.New("want name:type[:quota], e.g. sessions:sessions:1G")
	}
	typ, err := lucidkeys.ParseVolumeType(f[1])
	if err != nil {
		return err
	}
	var q int64
	if len(f) == 3 {
		if q, err = volume.ParseSize(f[2]); err != nil {
			return err
		}
	}
	*c = append(*c, createSpec{name: f[0], typ: typ, quota: q})
	return nil
}

// run serves until ctx is done or the process gets SIGINT or SIGTERM. ready,
// if set, is told the listening address.
func run(ctx context.Context, args []string, log *slog.Logger, ready func(addr string)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := flag.NewFlagSet("volume-monitor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:9108", "listen address of /metrics, /livez and /readyz")
	root := fs.String("root", "", "volume root (default: LUCID_VOLUME_ROOT, else "+volume.DefaultRoot+")")
	interval := fs.Duration("interval", volume.DefaultMonitorInterval, "time between ticks (a statfs per volume)")
	walk := fs.Duration("walk-interval", volume.DefaultWalkInterval, "time between full usage walks")
	only := fs.String("volumes", "", "comma-separated volumes to watch (default: every volume under the root)")
	var creates createFlag
	fs.Var(&creates, "create", "create a volume if missing: name:type[:quota] (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	cfg, err := volume.FromEnv()
	if err != nil {
		return err
	}
	if *root != "" {
		cfg.Root = *root
	}
	cfg.Logger = log
	vols, err := volume.New(cfg)
	if err != nil {
		return err
	}
	for _, c := range creates {
		// The manager logs the creation; an existing volume is kept as is.
		if _, err := vols.Create(ctx, c.name, c.typ, c.quota); err != nil && !errors.Is(err, volume.ErrExists) {
			return err
		}
	}
	list, err := vols.List(ctx)
	if err != nil {
		return err
	}
	log.Info("watching volumes", "root", vols.Root(), "volumes", len(list), "interval", *interval, "walk_interval", *walk)

	opts := volume.MonitorOptions{Interval: *interval, WalkInterval: *walk, OnEvent: func(e volume.Event) { logEvent(log, e) }}
	if *only != "" {
		opts.Volumes = strings.Split(*only, ",")
	}
	mon := vols.NewMonitor(opts)
	defer mon.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(volumeprom.NewCollector(mon), volumeprom.NewIOCollector(vols), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	agg := health.NewAggregator(health.Options{Logger: log})
	if err := agg.Register("volumes", vols, health.CheckOptions{}); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	mux.Handle("GET /livez", agg.LiveHandler())
	mux.Handle("GET /readyz", agg.ReadyHandler())

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	mon.Start(ctx)
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	mon.Close() // waits for a walk in progress
	log.Info("stopped")
	return nil
}
