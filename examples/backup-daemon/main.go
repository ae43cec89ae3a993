// Command backup-daemon takes full system backups of the Lucid data tier
// (MongoDB, Redis, search and every volume in one backup set, see
// backup/system) on a cron schedule, and answers the backup operations of
// Lucid's backup service from the command line.
//
//	BACKUP_SCHEDULE='0 2 * * *' LUCID_BACKUP_AGE_IDENTITY_FILE=key.txt \
//	  go run ./examples/backup-daemon -addr 127.0.0.1:9110
//	curl -s localhost:9110/status            # the last run, the next tick, each part's last success
//	curl -s localhost:9110/metrics | grep lucid_backup_
//	curl -s -X POST localhost:9110/run       # a run now (under the same lock)
//
// One-shot commands (they print JSON on stdout and exit):
//
//	backup-daemon -once                                  # one backup set now, recorded like a scheduled run
//	backup-daemon -list                                  # the complete backups, oldest first
//	backup-daemon -verify ID                             # decrypt, decompress and parse every part
//	backup-daemon -restore ID -parts redis -redis-prefix lucid:auth: -redis-rename lucid:auth:=scratch:auth:
//	backup-daemon -restore ID -parts volume -volumes chunks -volume-rename chunks=chunks-scratch
//	backup-daemon -cleanup                               # the retention plan (dry run)
//	backup-daemon -cleanup -yes                          # and delete what it says
//
// Everything else comes from the environment: where backups go and how
// (system.FromEnv: BACKUP_SCHEDULE, BACKUP_RETENTION_DAYS,
// BACKUP_STORAGE_TYPE, BACKUP_COMPRESSION, BACKUP_ENCRYPTION and the
// LUCID_BACKUP_* and LUCID_S3_* variables) and the clients of each part
// (mongostore.FromEnv, cache.FromEnv, search.FromEnv, volume.FromEnv);
// LUCID_BACKUP_PARTS leaves parts out. The schedule's lock lives in Redis
// (cache's Locker with its fencing token), so several hosts sharing one
// target run each tick once between them; every run is recorded in the
// target (backup/schedule), and so is a tick no host ran. Logs are slog
// text on stderr. SIGINT or SIGTERM stop it, waiting for a running backup.
package main

import (
	"context"
	"encoding/json"
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
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/schedule"
	"github.com/HamiGames/lucid-data/backup/system"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/health"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/search"
	"github.com/HamiGames/lucid-data/volume"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], os.Stdout, log, nil); err != nil {
		log.Error("backup-daemon stopped", "err", err)
		os.Exit(1)
	}
}

// mapFlag is a repeatable old=new flag.
type mapFlag map[string]string

func (m mapFlag) String() string { return fmt.Sprint(map[string]string(m)) }

func (m mapFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want old=new")
	}
	m[k] = v
	return nil
}

// listFlag is a comma-separated, repeatable list flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*l = append(*l, x)
		}
	}
	return nil
}

// options are the command line.
type options struct {
	addr, job    string
	poll         time.Duration
	once, list   bool
	verify       string
	restore      string
	cleanup, yes bool
	ro           system.RestoreOptions
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("backup-daemon", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9110", "listen address of /status, /metrics, /run, /livez and /readyz")
	fs.StringVar(&o.job, "job", "system", "the schedule's job name (hosts sharing a target and a job name run each tick once)")
	fs.DurationVar(&o.poll, "poll", 15*time.Second, "how often the run records are read for /status and /metrics (runs of other hosts included)")
	fs.BoolVar(&o.once, "once", false, "take one backup set now and exit")
	fs.BoolVar(&o.list, "list", false, "list the complete backups and exit")
	fs.StringVar(&o.verify, "verify", "", "verify backup `ID` and exit")
	fs.StringVar(&o.restore, "restore", "", "restore backup `ID` (all parts, or those the filters select) and exit")
	fs.BoolVar(&o.cleanup, "cleanup", false, "print the retention plan (BACKUP_RETENTION_DAYS, LUCID_BACKUP_KEEP_*) and exit")
	fs.BoolVar(&o.yes, "yes", false, "with -cleanup: delete what the plan removes")
	var parts, ns, exclude, prefixes, vols listFlag
	mrename, rrename, srename, vrename := mapFlag{}, mapFlag{}, mapFlag{}, mapFlag{}
	fs.Var(&parts, "parts", "restore: parts by name or kind (mongodb, redis, search, volume, volume-NAME)")
	fs.BoolVar(&o.ro.Verify, "verify-first", false, "restore: verify the whole set before writing anything")
	fs.Var(&ns, "mongo-ns", "restore: MongoDB databases or collections (db, db.coll)")
	fs.Var(&exclude, "mongo-exclude", "restore: MongoDB namespaces to leave out")
	fs.Var(mrename, "mongo-rename", "restore: db=newdb or db.coll=newdb.coll (repeatable)")
	fs.BoolVar(&o.ro.Mongo.Drop, "mongo-drop", false, "restore: drop each target collection first (default: merge)")
	fs.Var(&prefixes, "redis-prefix", "restore: only keys with these prefixes")
	fs.Var(rrename, "redis-rename", "restore: prefix=newprefix (repeatable; the prefix must be a -redis-prefix)")
	fs.Var(srename, "search-rename", "restore: index=newindex (repeatable)")
	fs.StringVar(&o.ro.Search.Prefix, "search-prefix", "", "restore: rename indices starting with this prefix ...")
	fs.StringVar(&o.ro.Search.NewPrefix, "search-new-prefix", "", "restore: ... to start with this one")
	fs.Var(&vols, "volumes", "restore: only these volumes")
	fs.Var(vrename, "volume-rename", "restore: volume=scratchvolume (repeatable; created when missing)")
	fs.StringVar(&o.ro.Volume.Dir, "volume-dir", "", "restore: volumes into DIR/<name> instead of the volume manager")
	overwrite := fs.Bool("overwrite", false, "restore: replace search indices and volumes that exist")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	n := 0
	for _, b := range []bool{o.once, o.list, o.verify != "", o.restore != "", o.cleanup} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("-once, -list, -verify, -restore and -cleanup exclude each other")
	}
	if o.yes && !o.cleanup {
		return nil, errors.New("-yes goes with -cleanup")
	}
	o.ro.Parts, o.ro.Mongo.Namespaces, o.ro.Mongo.Exclude, o.ro.Redis.Prefixes, o.ro.Volume.Names = parts, ns, exclude, prefixes, vols
	o.ro.Mongo.Rename, o.ro.Redis.Rename, o.ro.Search.Rename, o.ro.Volume.Rename = mrename, rrename, srename, vrename
	o.ro.Search.Overwrite, o.ro.Volume.Overwrite = *overwrite, *overwrite
	return o, nil
}

// tier is the connected clients.
type tier struct {
	mongo *mongostore.DB
	cache *cache.Client
	srch  *search.Client
	vols  volume.Manager
}

// connect connects the clients of the parts cfg holds, and Redis when lock
// asks for it (the schedule's lock lives there).
func connect(ctx context.Context, cfg system.Config, lock bool, log *slog.Logger) (*tier, error) {
	t := &tier{}
	ok := false
	defer func() {
		if !ok {
			t.close()
		}
	}()
	if cfg.Has(system.PartMongo) {
		mc, err := mongostore.FromEnv()
		if err != nil {
			return nil, err
		}
		mc.Logger = log
		if t.mongo, err = mongostore.Connect(ctx, mc); err != nil {
			return nil, err
		}
	}
	if lock || cfg.Has(system.PartRedis) {
		rc, err := cache.FromEnv()
		if err != nil {
			return nil, err
		}
		rc.Logger = log
		if t.cache, err = cache.Connect(ctx, rc); err != nil {
			return nil, err
		}
	}
	if cfg.Has(system.PartSearch) {
		sc, err := search.FromEnv()
		if err != nil {
			return nil, err
		}
		sc.Logger = log
		if t.srch, err = search.Connect(ctx, sc); err != nil {
			return nil, err
		}
	}
	if cfg.Has("volume") {
		vc, err := volume.FromEnv()
		if err != nil {
			return nil, err
		}
		vc.Logger = log
		if t.vols, err = volume.New(vc); err != nil {
			return nil, err
		}
	}
	ok = true
	return t, nil
}

func (t *tier) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if t.mongo != nil {
		_ = t.mongo.Close(ctx)
	}
	if t.cache != nil {
		_ = t.cache.Close()
	}
	if t.srch != nil {
		_ = t.srch.Close()
	}
}

// run runs the command until ctx is done or the process gets SIGINT or
// SIGTERM; one-shot commands write to out. ready, if set, is told the
// listening address.
func run(ctx context.Context, args []string, out io.Writer, log *slog.Logger, ready func(addr string)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	cfg, err := system.FromEnv()
	if err != nil {
		return err
	}
	cfg.Backup.Logger = log
	m, err := cfg.Open()
	if err != nil {
		return err
	}
	defer m.Close()
	// Only the scheduler's modes take the lock; the one-shot commands of
	// other parts need no Redis.
	t, err := connect(ctx, cfg, !o.list && o.verify == "" && o.restore == "" && !o.cleanup, log)
	if err != nil {
		return err
	}
	defer t.close()
	src := system.Sources{Mongo: t.mongo, Search: t.srch, Volumes: t.vols}
	if cfg.Has(system.PartRedis) {
		src.Cache = t.cache
	}
	sys, err := system.New(m, cfg.Select(src))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	switch {
	case o.list:
		l, err := m.List(ctx)
		if err != nil {
			return err
		}
		return enc.Encode(l)
	case o.verify != "":
		rep, err := m.Verify(ctx, o.verify)
		if err != nil {
			return err
		}
		log.Info("verified", "backup", o.verify, "parts", len(rep.Parts))
		return enc.Encode(rep)
	case o.restore != "":
		rep, err := sys.Restore(ctx, o.restore, o.ro)
		if rep != nil {
			_ = enc.Encode(rep)
		}
		if err != nil {
			return err
		}
		log.Info("restored", "backup", o.restore, "parts", len(rep.Parts))
		return nil
	case o.cleanup:
		return cleanup(ctx, m, cfg, o.yes, enc, log)
	}

	mx := newMetrics()
	locker, err := t.cache.Locker(cache.LockerOptions{Entity: "backup", Logger: log})
	if err != nil {
		return err
	}
	sched, err := schedule.New(m, locker, schedule.Options{Logger: log})
	if err != nil {
		return err
	}
	defer sched.Close()
	if err := sched.Add(schedule.Job{Name: o.job, Schedule: cfg.Schedule, Jitter: cfg.Jitter,
		Parts: func(ctx context.Context, _ time.Time) ([]backup.Part, error) {
			parts, err := sys.Parts(ctx)
			if err != nil {
				return nil, err
			}
			return mx.instrument(parts), nil
		},
		Options: backup.BackupOptions{Parallel: cfg.Parallel, Labels: map[string]string{system.LabelSet: system.SetFull},
			// A long set on a Pi shows it is moving: each part every 30 s and when committed.
			ProgressInterval: 30 * time.Second,
			Progress: func(p backup.Progress) {
				log.Info("backup: part progress", "backup", p.Backup, "part", p.Part,
					"plain_bytes", p.PlainBytes, "stored_bytes", p.StoredBytes, "done", p.Done)
			}},
	}); err != nil {
		return err
	}
	d := &daemon{m: m, sched: sched, job: o.job, cfg: cfg, mx: mx, log: log}
	if o.once {
		r, err := sched.RunNow(ctx, o.job)
		if r != nil {
			_ = enc.Encode(r)
		}
		return err
	}
	return d.serve(ctx, o, t, ready)
}

// daemon is the serving mode: the scheduler, its status and metrics.
type daemon struct {
	m     *backup.Manager
	sched *schedule.Scheduler
	job   string
	cfg   system.Config
	mx    *metrics
	log   *slog.Logger

	mu      sync.Mutex
	running bool
}

func (d *daemon) serve(ctx context.Context, o *options, t *tier, ready func(string)) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.mx, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	agg := health.NewAggregator(health.Options{Logger: d.log})
	if t.mongo != nil {
		_ = agg.Register("mongodb", t.mongo, health.CheckOptions{})
	}
	if t.cache != nil {
		_ = agg.Register("redis", t.cache, health.CheckOptions{})
	}
	if t.srch != nil {
		_ = agg.Register("search", t.srch, health.CheckOptions{})
	}
	if t.vols != nil {
		_ = agg.Register("volumes", t.vols, health.CheckOptions{})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelError)}))
	mux.Handle("GET /livez", agg.LiveHandler())
	mux.Handle("GET /readyz", agg.ReadyHandler())
	mux.HandleFunc("GET /status", d.status)

	runCtx, cancelRuns := context.WithCancel(ctx)
	defer cancelRuns()
	var wg sync.WaitGroup
	defer wg.Wait()
	mux.HandleFunc("POST /run", func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		busy := d.running
		d.running = true
		d.mu.Unlock()
		if busy {
			writeJSON(w, http.StatusConflict, map[string]string{"error": "a run started here is in progress"})
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { d.mu.Lock(); d.running = false; d.mu.Unlock() }()
			if _, err := d.sched.RunNow(runCtx, d.job); err != nil {
				d.log.Error("manual run failed", "err", err)
			}
			d.refresh(runCtx)
		}()
		writeJSON(w, http.StatusAccepted, map[string]string{"job": d.job, "status": "started"})
	})

	if err := d.sched.Start(); err != nil {
		return err
	}
	d.refresh(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(o.poll)
		defer tk.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-tk.C:
				d.refresh(runCtx)
			}
		}
	}()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	next, _ := d.sched.Next(d.job)
	d.log.Info("listening", "addr", ln.Addr().String(), "job", d.job, "schedule", d.cfg.Schedule, "next", next, "config", d.cfg)
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
	d.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// A scheduled backup in progress gets a minute to finish.
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := d.sched.Shutdown(wctx); err != nil {
		d.log.Warn("scheduler shutdown", "err", err)
	}
	cancelRuns()
	wg.Wait()
	d.log.Info("stopped")
	return nil
}

// refresh reads the job's run records (this host's and the others') and
// the manifest of the newest good run into the metrics.
func (d *daemon) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	runs, err := d.sched.Runs(ctx, d.job)
	if err != nil {
		d.log.Warn("cannot read run records", "err", err)
		return
	}
	var man *backup.Manifest
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Status == schedule.StatusOK && runs[i].Backup != "" {
			if man, err = d.m.Open(ctx, runs[i].Backup); err != nil {
				// Deleted by retention since, or unreadable: older runs
				// may still tell.
				d.log.Debug("cannot open a recorded backup", "backup", runs[i].Backup, "err", err)
				man = nil
				continue
			}
			break
		}
	}
	d.mx.observe(runs, man)
}

// status answers GET /status.
func (d *daemon) status(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	running := d.running
	d.mu.Unlock()
	next, _ := d.sched.Next(d.job)
	s := d.mx.snapshot()
	s.Job, s.Schedule, s.Next, s.RunningHere = d.job, d.cfg.Schedule, next, running || s.RunningHere
	s.Storage = d.cfg.StorageType
	writeJSON(w, http.StatusOK, s)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
