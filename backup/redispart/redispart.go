// Package redispart backs up and restores Redis (single node or Cluster) as
// parts of a backup, in the RDB format Redis itself loads.
//
// The Source scans every master with SCAN, reads each key with DUMP and
// PTTL (pipelined in batches) and writes a valid RDB file: the header of the
// RDB version the servers' DUMP payloads carry, SELECTDB 0, each key with
// its absolute expiry (EXPIRETIME_MS), type and value bytes taken as they
// are from the DUMP payload (its CRC-64 checked and its trailer stripped),
// EOF and the CRC-64 trailer. redis-check-rdb accepts the part, and Redis
// loads it with standard tools alone:
//
//	age -d -i key.txt redis.rdb.zst.age | zstd -d > dump.rdb
//	redis-server --dir . --dbfilename dump.rdb
//
// Source.Prefixes backs up only some key families, filtered by the servers
// (SCAN MATCH with the prefix's glob characters escaped); Restorer.Include
// restores only some of a file's keys, and Prefix with Rename moves them
// into another key space.
//
// The Restorer reads any RDB file — this package's parts, `redis-cli --rdb`,
// a server's BGSAVE dump.rdb, or Lucid's Python service's gzipped
// dump.rdb.gz (gzip is detected by its magic) — and splits it into keys
// without decoding their values: only the length of each encoding is parsed
// (strings plain, integer and LZF; lists as linked lists, ziplists,
// quicklists and listpacks; sets, intsets and listpacks; sorted sets and
// their ziplists/listpacks; hashes and their zipmaps/ziplists/listpacks;
// streams of all three layouts with consumer groups). Each key becomes a
// DUMP payload again and is written with RESTORE ... REPLACE ABSTTL into a
// running server, no restart needed. Module values, module aux data and
// RDB versions above MaxRDBVersion are refused with ErrUnsupported naming
// them.
//
// The package is apart from backup so that importing backup links no
// Redis client.
package redispart

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/backup"
)

// Kind is the part kind this package writes ("redis"), the key of its
// Checker in backup.Config.Checkers.
const Kind = "redis"

// Format names the part's format ("rdb", also the object's extension).
// The part's FormatVersion is the RDB version it was written in.
const Format = "rdb"

// Meta keys the Source records.
const (
	MetaMasters  = "masters"  // how many masters were scanned
	MetaMatch    = "match"    // the SCAN MATCH pattern, when not every key
	MetaPrefixes = "prefixes" // the key prefixes selected, as a JSON array, when not every key
)

// DefaultBatch is the SCAN COUNT and the number of keys per pipeline when
// Source.Batch or Restorer.Batch is 0.
const DefaultBatch = 256

// emptyVersion is the RDB version of a part with no key (no DUMP payload
// to take it from): 9, which Redis 5 and later load.
const emptyVersion = 9

var (
	_ backup.Source   = (*Source)(nil)
	_ backup.Restorer = Restorer{}
	_ backup.Checker  = Checker{}
)

// Source is a Redis keyspace as a part: every key of the client's
// database on a single node, or of every master of a Cluster.
type Source struct {
	// Client is the server: a *redis.Client (single node, Sentinel
	// failover client) or a *redis.ClusterClient, whose masters are each
	// scanned. cache.Client.Redis returns one.
	Client redis.UniversalClient
	// Match is the SCAN MATCH pattern (default: every key).
	Match string
	// Prefixes, when not empty, backs up only the keys that start with one
	// of them ("lucid:session:", "lucid:user:"), byte for byte: each is
	// scanned with a MATCH of the prefix, its glob characters escaped, so
	// the servers do the filtering; a prefix that another one covers is
	// scanned once, with it. Each prefix costs one SCAN of every master's
	// whole keyspace (SCAN visits every key whatever its MATCH). Set Match
	// or Prefixes, not both.
	Prefixes []string
	// Batch is the SCAN COUNT and the keys per DUMP/PTTL pipeline
	// (default DefaultBatch).
	Batch int
	// Now is the clock that turns PTTL into absolute expiries (default
	// time.Now).
	Now func() time.Time

	mu   sync.Mutex
	info backup.SourceInfo // once a master answered Describe
}

// Part returns a backup.Part named name for c's keyspace.
func Part(name string, c redis.UniversalClient) backup.Part {
	return backup.Part{Name: name, Source: &Source{Client: c}}
}

// Checkers returns the Config.Checkers entry of this kind, to merge with
// others' (or use as is).
func Checkers() map[string]backup.Checker { return map[string]backup.Checker{Kind: Checker{}} }

// Describe implements backup.Source. The format version is the RDB version
// of the servers' DUMP payloads, so Describe asks a master for one (it
// falls back to 0, unknown, when none answers; Stream then fails anyway,
// and the next Describe asks again). Within one backup the answer is kept,
// so the manifest and the file agree.
func (s *Source) Describe() backup.SourceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info.FormatVersion != 0 {
		return s.info
	}
	s.info = backup.SourceInfo{Kind: Kind, Format: Format, Source: "Redis", Meta: map[string]string{}}
	func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		nodes, err := s.masters(ctx)
		if err != nil || len(nodes) == 0 {
			return
		}
		s.info.Meta[MetaMasters] = strconv.Itoa(len(nodes))
		if s.Match != "" {
			s.info.Meta[MetaMatch] = s.Match
		}
		if len(s.Prefixes) > 0 {
			b, _ := json.Marshal(normPrefixes(s.Prefixes))
			s.info.Meta[MetaPrefixes] = string(b)
		}
		if info, err := nodes[0].Info(ctx, "server").Result(); err == nil {
			s.info.SourceVersion = infoField(info, "redis_version")
		}
		v := 0
		for _, n := range nodes {
			for _, match := range s.patterns() {
				nv, err := s.probeVersion(ctx, n, match)
				if err != nil {
					return
				}
				v = max(v, nv)
			}
		}
		if v == 0 {
			v = emptyVersion
		}
		s.info.FormatVersion = v
	}()
	return s.info
}

func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}

// probeVersion returns the RDB version of a master's DUMP payloads (0 when
// it holds no key matching match): DUMP of the first key SCAN finds.
func (s *Source) probeVersion(ctx context.Context, n redis.Cmdable, match string) (int, error) {
	var cursor uint64
	for {
		keys, next, err := n.Scan(ctx, cursor, match, int64(s.batch())).Result()
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			p, err := n.Dump(ctx, k).Result()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				return 0, err
			}
			_, _, v, err := splitDump([]byte(p))
			if err != nil {
				return 0, err
			}
			return v, nil
		}
		if cursor = next; cursor == 0 {
			return 0, nil
		}
	}
}

// patterns returns the SCAN MATCH patterns that select the Source's keys:
// Match alone, or one per prefix (normPrefixes: no key matches two).
func (s *Source) patterns() []string {
	if len(s.Prefixes) == 0 {
		return []string{s.Match}
	}
	ps := normPrefixes(s.Prefixes)
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = escapeGlob(p) + "*"
	}
	return out
}

// normPrefixes sorts ps and drops repeats and every prefix that another one
// covers ("lucid:" covers "lucid:session:"), so no key has two of them.
func normPrefixes(ps []string) []string {
	s := slices.Clone(ps)
	slices.Sort(s)
	out := s[:0]
	for _, p := range s {
		// Sorted, a prefix comes right before the strings it covers.
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// escapeGlob escapes the characters Redis's glob matching gives a meaning
// (* ? [ ] \), so the pattern matches s literally.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (s *Source) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return DefaultBatch
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// masters returns the clients to scan: each master of a Cluster, or the
// client itself.
func (s *Source) masters(ctx context.Context) ([]redis.Cmdable, error) {
	switch c := s.Client.(type) {
	case nil:
		return nil, &backup.Error{Op: "redis part", Kind: backup.ErrInvalid, Msg: "no client"}
	case *redis.ClusterClient:
		var mu sync.Mutex
		var nodes []redis.Cmdable
		err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			nodes = append(nodes, n)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return nil, err
		}
		return nodes, nil
	case *redis.Ring:
		return nil, &backup.Error{Op: "redis part", Kind: backup.ErrInvalid, Msg: "a Ring has no single keyspace to back up"}
	default:
		return []redis.Cmdable{c}, nil
	}
}

// Stream implements backup.Source: the RDB file of every master's keys,
// in the RDB version Describe found (the one the manifest records).
// A key that expires or is deleted between SCAN and DUMP is left out; a
// server that stops answering fails the part.
func (s *Source) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	info := s.Describe()
	defer func() { // the next backup asks the servers again
		s.mu.Lock()
		s.info = backup.SourceInfo{}
		s.mu.Unlock()
	}()
	if s.Match != "" && len(s.Prefixes) > 0 {
		return backup.Stats{}, &backup.Error{Op: "redis part", Kind: backup.ErrInvalid, Msg: "both Match and Prefixes set"}
	}
	nodes, err := s.masters(ctx)
	if err != nil {
		return backup.Stats{}, err
	}
	if info.FormatVersion == 0 {
		return backup.Stats{}, &backup.Error{Op: "redis part", Msg: "no master answered"}
	}
	rw := newRDBWriter(w)
	rw.header(info.FormatVersion, map[string]string{"redis-ver": info.SourceVersion, "lucid-data": "redispart"})
	st := backup.Stats{Counts: map[string]int64{}}
	for _, n := range nodes {
		for _, match := range s.patterns() {
			if err := s.streamNode(ctx, n, match, info.FormatVersion, rw, &st); err != nil {
				return backup.Stats{}, err
			}
		}
	}
	if err := rw.finish(); err != nil {
		return backup.Stats{}, err
	}
	return st, nil
}

// streamNode writes one master's keys. Each pipeline carries the DUMP and
// PTTL of one batch and the SCAN of the next, so a batch costs one round
// trip.
func (s *Source) streamNode(ctx context.Context, n redis.Cmdable, match string, version int, rw *rdbWriter, st *backup.Stats) error {
	keys, cursor, err := n.Scan(ctx, 0, match, int64(s.batch())).Result()
	if err != nil {
		return err
	}
	for {
		var scan *redis.ScanCmd
		for {
			batch := keys[:min(len(keys), s.batch())]
			keys = keys[len(batch):]
			last := len(keys) == 0
			if scan, err = s.dumpBatch(ctx, n, batch, match, last && cursor != 0, cursor, version, rw, st); err != nil {
				return err
			}
			if last {
				break
			}
		}
		if scan == nil {
			return rw.err
		}
		if keys, cursor, err = scan.Result(); err != nil {
			return err
		}
	}
}

// dumpBatch reads keys with DUMP and PTTL in one pipeline, with the SCAN
// from cursor when scan is set, and writes them.
func (s *Source) dumpBatch(ctx context.Context, n redis.Cmdable, keys []string, match string, scan bool, cursor uint64,
	version int, rw *rdbWriter, st *backup.Stats) (*redis.ScanCmd, error) {
	dumps := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	var next *redis.ScanCmd
	now := s.now()
	_, err := n.Pipelined(ctx, func(p redis.Pipeliner) error {
		if scan {
			next = p.Scan(ctx, cursor, match, int64(s.batch()))
		}
		for i, k := range keys {
			dumps[i] = p.Dump(ctx, k)
			ttls[i] = p.PTTL(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	for i, k := range keys {
		raw, err := dumps[i].Bytes()
		if errors.Is(err, redis.Nil) {
			continue // gone since SCAN
		}
		if err != nil {
			return nil, err
		}
		ttl, err := ttls[i].Result()
		if err != nil {
			return nil, err
		}
		if ttl == -2 {
			continue // expired or deleted after DUMP
		}
		t, value, v, err := splitDump(raw)
		if err != nil {
			return nil, &backup.Error{Op: "redis part", Kind: backup.ErrCorrupt, Msg: "key " + strconv.Quote(k), Err: err}
		}
		if v > version {
			return nil, &backup.Error{Op: "redis part", Kind: backup.ErrUnsupported,
				Msg: fmt.Sprintf("key %q has RDB version %d, the part was started at %d (servers upgraded mid-backup?)", k, v, version)}
		}
		var exp int64
		if ttl > 0 {
			exp = now.Add(ttl).UnixMilli()
			st.Counts["expires"]++
		}
		rw.key([]byte(k), t, value, exp)
		st.Records++
		st.Counts[typeName(t)]++
	}
	return next, rw.err
}

// Checker parses a Redis part for backup.Manager.Verify: every key's
// encoding is walked, the file's checksum checked, keys counted by type
// as the Source counted them; nothing is written.
type Checker struct{}

// Check implements backup.Checker.
func (Checker) Check(ctx context.Context, _ backup.PartManifest, r io.Reader) (backup.Stats, error) {
	return Count(ctx, r)
}

// Count parses an RDB file (gzipped or not) and counts its keys: Records
// is every key, Counts holds the keys by type ("string", "list", "set",
// "zset", "hash", "stream") and "expires", the keys with an expiry.
func Count(ctx context.Context, r io.Reader) (backup.Stats, error) {
	f, closeFn, err := open(r, false)
	if err != nil {
		return backup.Stats{}, err
	}
	defer closeFn()
	st := backup.Stats{Counts: map[string]int64{}}
	for {
		if err := ctx.Err(); err != nil {
			return backup.Stats{}, err
		}
		k, err := f.next()
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return backup.Stats{}, rdbError("check", err)
		}
		st.Records++
		st.Counts[typeName(k.Type)]++
		if k.ExpireMS > 0 {
			st.Counts["expires"]++
		}
	}
}

// rdbError classifies a parse error: ErrUnsupported for what this package
// cannot read, ErrCorrupt for malformed data, the cause as is otherwise.
func rdbError(op string, err error) error {
	var fe *formatError
	if errors.As(err, &fe) {
		kind := backup.ErrCorrupt
		if fe.unsupported {
			kind = backup.ErrUnsupported
		}
		return &backup.Error{Op: op, Kind: kind, Msg: "redis part", Err: err}
	}
	var ge error = gzip.ErrHeader
	if errors.Is(err, ge) || errors.Is(err, gzip.ErrChecksum) {
		return &backup.Error{Op: op, Kind: backup.ErrCorrupt, Msg: "redis part: gzip", Err: err}
	}
	return err
}

// open starts reading an RDB, through gzip when it starts with gzip's magic.
func open(r io.Reader, capture bool) (*rdbFile, func(), error) {
	var magic [2]byte
	n, err := io.ReadFull(r, magic[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, nil, err
	}
	r = io.MultiReader(bytes.NewReader(magic[:n]), r)
	closeFn := func() {}
	if n == 2 && magic == [2]byte{0x1f, 0x8b} {
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, rdbError("restore", err)
		}
		r, closeFn = z, func() { _ = z.Close() }
	}
	f, err := openRDB(r, capture)
	if err != nil {
		closeFn()
		return nil, nil, rdbError("restore", err)
	}
	return f, closeFn, nil
}

// Restorer writes the keys of an RDB file into a running Redis with
// RESTORE key ttl payload REPLACE ABSTTL, in pipelined batches.
//
// Keys are restored as they are parsed, so a file that turns out bad
// midway (a truncated or corrupt part, an unsupported type or module value,
// a checksum mismatch at the end) fails the restore with the error and the
// Stats of what was written before it — never success. For all or nothing,
// run Count (or backup.Manager.Verify with Checkers) first, or restore into
// a scratch server.
type Restorer struct {
	// Client is the target: a single node (its selected database; the
	// file's SELECTDB numbers are ignored, see DBs) or a Cluster, which
	// routes each key to its slot's master.
	Client redis.UniversalClient
	// DBs, when not empty, restores only the keys the file holds in these
	// databases (its SELECTDB numbers). A server's dump.rdb holds every
	// database, and without DBs their keys all land in the target's one
	// database, where a name used in two of them is written twice and the
	// last one wins. This package's parts hold database 0 only.
	DBs []int
	// Prefix restores only the keys that start with it (default: all).
	Prefix string
	// Rename, when set, replaces Prefix at the start of each restored key
	// ("lucid:" with Prefix "lucid:" and Rename "scratch:").
	Rename string
	// Include, when not empty, restores only the keys that start with one
	// of these prefixes (and with Prefix, when that is set too): a few key
	// families out of a whole keyspace ("lucid:session:", "lucid:user:"),
	// matched byte for byte on the names in the file, before Rename. The
	// others are read, so the file is still checked whole, and counted in
	// RestoreStats.Filtered.
	Include []string
	// Batch is the keys per RESTORE pipeline (default DefaultBatch; a
	// pipeline is also sent once it holds 8 MiB).
	Batch int
	// Now is the clock deciding which keys have already expired (default
	// time.Now).
	Now func() time.Time
}

// included reports whether Include selects key.
func (r Restorer) included(key string) bool {
	if len(r.Include) == 0 {
		return true
	}
	for _, p := range r.Include {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// inDBs reports whether DBs selects the file's database db.
func (r Restorer) inDBs(db uint64) bool {
	if len(r.DBs) == 0 {
		return true
	}
	for _, d := range r.DBs {
		if d >= 0 && uint64(d) == db {
			return true
		}
	}
	return false
}

// RestoreStats is what RestoreRDB read and wrote.
type RestoreStats struct {
	// File counts the keys of the file as Count does (every key, by
	// type, and "expires"), what a part's manifest records.
	File backup.Stats
	// Restored is the keys written, Expired those skipped because their
	// expiry had passed, Filtered those Prefix, Include or DBs left out.
	Restored, Expired, Filtered int64
}

// Restore implements backup.Restorer. It returns the file's counts, which
// backup.Manager.Restore compares with the manifest; RestoreRDB also tells
// how many keys were written and skipped.
func (r Restorer) Restore(ctx context.Context, _ backup.PartManifest, in io.Reader) (backup.Stats, error) {
	rs, err := r.RestoreRDB(ctx, in)
	return rs.File, err
}

// RestoreRDB restores the RDB file (or gzipped RDB file) read from in.
func (r Restorer) RestoreRDB(ctx context.Context, in io.Reader) (RestoreStats, error) {
	rs := RestoreStats{File: backup.Stats{Counts: map[string]int64{}}}
	st := &rs.File
	if r.Client == nil {
		return rs, &backup.Error{Op: "restore", Kind: backup.ErrInvalid, Msg: "redis part: no client"}
	}
	if r.Rename != "" && r.Prefix == "" {
		return rs, &backup.Error{Op: "restore", Kind: backup.ErrInvalid, Msg: "redis part: Rename without Prefix"}
	}
	f, closeFn, err := open(in, true)
	if err != nil {
		return rs, err
	}
	defer closeFn()
	limit := r.Batch
	if limit <= 0 {
		limit = DefaultBatch
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	type item struct {
		key     string
		typ     byte
		ttl     int64
		payload []byte
	}
	var batch []item
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		cmds := make([]*redis.Cmd, len(batch))
		_, err := r.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, it := range batch {
				cmds[i] = p.Do(ctx, "restore", it.key, it.ttl, it.payload, "replace", "absttl")
			}
			return nil
		})
		for i, c := range cmds {
			if c.Err() != nil {
				return &backup.Error{Op: "restore", Msg: "redis part: RESTORE " + strconv.Quote(batch[i].key), Err: c.Err()}
			}
			rs.Restored++
		}
		if err != nil {
			return err
		}
		batch, size = batch[:0], 0
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return rs, err
		}
		k, err := f.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rs, rdbError("restore", err)
		}
		st.Records++
		st.Counts[typeName(k.Type)]++
		if k.ExpireMS > 0 {
			st.Counts["expires"]++
		}
		name := string(k.Key)
		if !strings.HasPrefix(name, r.Prefix) || !r.included(name) || !r.inDBs(k.DB) {
			rs.Filtered++
			continue
		}
		if r.Rename != "" {
			name = r.Rename + name[len(r.Prefix):]
		}
		if k.ExpireMS > 0 && k.ExpireMS <= now().UnixMilli() {
			rs.Expired++
			continue
		}
		p := dumpPayload(k.Type, k.Value, f.Version)
		batch = append(batch, item{key: name, typ: k.Type, ttl: k.ExpireMS, payload: p})
		size += len(p)
		if len(batch) >= limit || size >= 8<<20 {
			if err := flush(); err != nil {
				return rs, err
			}
		}
	}
	if err := flush(); err != nil {
		return rs, err
	}
	return rs, nil
}
