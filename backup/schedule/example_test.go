//go:build !lucidfuzz

package schedule_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"
	_ "time/tzdata" // CRON_TZ= zones on hosts without zoneinfo

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/schedule"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/cache"
)

// A nightly backup of a volume, shared by every host that runs this
// program against the same target and Redis (here: an in-memory locker
// and a local directory), plus a run on demand and its record.
func ExampleScheduler() {
	ctx := context.Background()
	root, err := os.MkdirTemp("", "schedule-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	data := filepath.Join(root, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "hello.txt"), []byte("hello\n"), 0o600); err != nil {
		log.Fatal(err)
	}

	m, err := backup.NewLocal(filepath.Join(root, "backups"), backup.Config{Plaintext: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	// In production: client, _ := cache.Connect(ctx, cache.FromEnv()); locker, _ := client.Locker(...)
	locker, err := cache.NewMemory().Locker(cache.LockerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := schedule.New(m, locker, schedule.Options{Host: "pi-1"})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Add(schedule.Job{
		Name:     "nightly",
		Schedule: "0 2 * * *", // the seed's BACKUP_SCHEDULE
		Jitter:   5 * time.Minute,
		Parts: func(ctx context.Context, tick time.Time) ([]backup.Part, error) {
			return []backup.Part{volumepart.Part("volume-data", data)}, nil
		},
		Options: backup.BackupOptions{Labels: map[string]string{"set": "nightly"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	run, err := s.RunNow(ctx, "nightly")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(run.Status, run.Parts, run.Host)
	last, err := s.Last(ctx, "nightly")
	if err != nil {
		log.Fatal(err)
	}
	man, err := m.Open(ctx, last.Backup)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(last.Manual, man.Labels["set"], man.Labels[schedule.LabelJob])
	// Output:
	// ok 1 pi-1
	// true nightly nightly
}

// Parse reads a schedule as Job.Schedule is read: five fields, an optional
// seconds field, descriptors, CRON_TZ=; @every is aligned to the epoch.
func ExampleParse() {
	from := time.Date(2026, 3, 1, 10, 17, 33, 0, time.UTC)
	for _, spec := range []string{"0 2 * * *", "*/15 * * * * *", "@hourly", "@every 1h", "CRON_TZ=Etc/GMT-1 0 2 * * *"} {
		sc, err := schedule.Parse(spec, nil)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(sc.Next(from).UTC().Format(time.RFC3339))
	}
	_, err := schedule.Parse("0 25 * * *", nil)
	fmt.Println(err != nil)
	// Output:
	// 2026-03-02T02:00:00Z
	// 2026-03-01T10:17:45Z
	// 2026-03-01T11:00:00Z
	// 2026-03-01T11:00:00Z
	// 2026-03-02T01:00:00Z
	// true
}
