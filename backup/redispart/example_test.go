package redispart_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/redispart"
	"github.com/HamiGames/lucid-data/cache"
)

// Back up a service's Redis (single node or Cluster, as cache.Connect
// configured it) and restore it into another server under a new prefix.
func Example() {
	ctx := context.Background()
	cfg, err := cache.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.Connect(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	m, err := backup.NewLocal("/var/backups/lucid", backup.Config{
		Recipients: []age.Recipient{id.Recipient()},
		Identities: []age.Identity{id},
		Checkers:   redispart.Checkers(),
	})
	if err != nil {
		log.Fatal(err)
	}
	man, err := m.Backup(ctx, []backup.Part{redispart.Part("redis", c.Redis())}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(man.ID, man.Parts[0].Records, "keys")
	// By hand: age -d -i key.txt redis.rdb.zst.age | zstd -d > dump.rdb
	//          redis-server --dir . --dbfilename dump.rdb

	// Restore lucid:* keys as scratch:* into a running server, no restart.
	if _, err := m.Restore(ctx, man.ID, "redis", redispart.Restorer{
		Client: c.Redis(), Prefix: "lucid:", Rename: "scratch:",
	}); err != nil {
		log.Fatal(err)
	}

	// Lucid's Python service's backups are gzipped BGSAVE dumps.
	f, err := os.Open("/backups/redis/redis_backup_20260102_030405/dump.rdb.gz")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := redispart.Restorer{Client: c.Redis()}.RestoreRDB(ctx, f)
	if err != nil {
		log.Fatal(err) // st.Restored keys were written before the error
	}
	fmt.Println(st.Restored, "restored,", st.Expired, "already expired")
}

// Back up two key families only, then restore one of them, renamed, into a
// scratch key space beside the live one.
func ExampleSource_prefixes() {
	ctx := context.Background()
	cfg, err := cache.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.Connect(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	m, err := backup.NewLocal("/var/backups/lucid", backup.Config{Passphrase: "correct horse battery staple"})
	if err != nil {
		log.Fatal(err)
	}
	src := &redispart.Source{Client: c.Redis(), Prefixes: []string{"lucid:auth:session:", "lucid:auth:user:"}}
	man, err := m.Backup(ctx, []backup.Part{{Name: "redis", Source: src}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	r := redispart.Restorer{Client: c.Redis(), Include: []string{"lucid:auth:user:"}, Prefix: "lucid:", Rename: "scratch:"}
	if _, err := m.Restore(ctx, man.ID, "redis", r); err != nil {
		log.Fatal(err)
	}
}
