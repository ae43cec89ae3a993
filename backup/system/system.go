// Package system takes full system backups of the Lucid data tier: one backup
// set — one manifest — holding a MongoDB part, a Redis part, a search part
// and one part per volume, built from the SDK's own clients
// (*mongostore.DB, *cache.Client, *search.Client, volume.Manager), and
// restores all of it or a selection (parts, databases and collections, key
// prefixes, indices, volumes) into the original place or a scratch one.
//
//	cfg, err := system.FromEnv()               // BACKUP_*, LUCID_BACKUP_*, LUCID_S3_*
//	b, err := cfg.Open()                       // a *backup.Manager on the local or S3 sink
//	sys, err := system.New(b, system.Sources{Mongo: db, Cache: rc, Search: sc, Volumes: vols})
//	man, err := sys.Backup(ctx, &backup.BackupOptions{Parallel: cfg.Parallel}) // parts stream concurrently
//	rep, err := sys.Restore(ctx, man.ID, system.RestoreOptions{
//		Parts: []string{"mongodb", "redis"},
//		Mongo: system.MongoRestore{Namespaces: []string{"lucid.users"}, Rename: map[string]string{"lucid": "scratch"}},
//		Redis: system.RedisRestore{Prefixes: []string{"lucid:auth:"}, Rename: map[string]string{"lucid:auth:": "scratch:auth:"}},
//	})
//
// The parts are those of the part packages, in their standard formats
// (backup/mongopart: a mongodump archive; backup/redispart: an RDB file;
// backup/searchpart: index definitions and _bulk NDJSON in a tar;
// backup/volumepart: a tar), so every part of a set restores with standard
// tools alone as those packages describe. This package only assembles them:
// it names the parts (PartMongo, PartRedis, PartSearch and VolumePartPrefix
// followed by the volume's name), records which volume a part was taken
// from, and on restore picks each part's Restorer from its kind.
//
// The name: Lucid's Python backup service calls this operation
// full_system_backup, and "system" here means the whole data tier of one
// host, as opposed to the per-service part packages.
package system

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/backup/redispart"
	"github.com/HamiGames/lucid-data/backup/searchpart"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/search"
	"github.com/HamiGames/lucid-data/volume"
)

// Part names of a system backup set. A volume's part is VolumePartPrefix
// followed by the volume's name ("volume-chunks").
const (
	PartMongo        = "mongodb"
	PartRedis        = "redis"
	PartSearch       = "search"
	VolumePartPrefix = "volume-"
)

// Manifest labels a system backup carries.
const (
	// LabelSet is the label naming the kind of set; Backup sets it to
	// SetFull unless the caller's labels set it.
	LabelSet = "set"
	// SetFull is LabelSet's value for a full system backup.
	SetFull = "full"
)

// Meta keys the volume parts of a set carry beside volumepart's own, so a
// restore can find (or create) the volume again.
const (
	MetaVolume     = "volume"      // the volume's name
	MetaVolumeType = "volume_type" // its lucidkeys.VolumeType
)

// Sources are the clients a set is taken from and restored into. A nil
// client leaves its part out of a backup, and a restore of such a part fails
// with backup.ErrInvalid.
type Sources struct {
	// Mongo is the MongoDB store; MongoNamespaces selects what its part
	// holds ("db" or "db.coll", see mongopart.Source), by default the
	// store's database.
	Mongo           *mongostore.DB
	MongoNamespaces []string

	// Cache is the Redis client; its part holds every key, or those
	// matching RedisMatch (a SCAN MATCH pattern, "lucid:*"), or those
	// starting with one of RedisPrefixes (not both).
	Cache         *cache.Client
	RedisMatch    string
	RedisPrefixes []string

	// Search is the search engine; SearchIndices are the names, aliases
	// or patterns of its part (see searchpart.Source), by default every
	// Lucid index, "{prefix}lucid-*" with the client's index prefix.
	Search        *search.Client
	SearchIndices []string

	// Volumes is the volume manager; VolumeNames are the volumes backed
	// up, by default every volume it lists. Each is one part.
	Volumes     volume.Manager
	VolumeNames []string
	// VolumeChain, when positive, makes volume parts incremental
	// (volumepart.Next): each stores only what changed since the newest
	// backup holding that volume, and a self-contained part is taken again
	// once a chain holds VolumeChain parts, which bounds what a restore
	// reads. 0: every volume part is self-contained. It needs the
	// Backupper to be a *backup.Manager (chains are read through it), whose
	// identities decrypt the bases' indexes.
	VolumeChain int
}

// System takes and restores system backup sets through a backup.Backupper
// (a *backup.Manager over a local directory or S3). It is safe for
// concurrent use as far as its clients are.
type System struct {
	b   backup.Backupper
	src Sources
}

// New returns a System backing src up into b. At least one source must be
// set.
func New(b backup.Backupper, src Sources) (*System, error) {
	if b == nil {
		return nil, invalid("new", "", "no Backupper")
	}
	if src.Mongo == nil && src.Cache == nil && src.Search == nil && src.Volumes == nil {
		return nil, invalid("new", "", "no source: set Mongo, Cache, Search or Volumes")
	}
	return &System{b: b, src: src}, nil
}

// Backupper returns the Backupper the System writes to (List, Open, Verify
// and Delete of sets go through it).
func (s *System) Backupper() backup.Backupper { return s.b }

// Parts returns the parts a backup of the System holds now, in the order
// MongoDB, Redis, search, then the volumes by name. The volume list is read
// from the manager when VolumeNames is empty, so a volume created since the
// last backup is in the next one.
func (s *System) Parts(ctx context.Context) ([]backup.Part, error) {
	var parts []backup.Part
	if s.src.Mongo != nil {
		ns := s.src.MongoNamespaces
		if len(ns) == 0 {
			ns = []string{s.src.Mongo.Database().Name()}
		}
		parts = append(parts, mongopart.Part(PartMongo, s.src.Mongo.Client(), ns...))
	}
	if s.src.Cache != nil {
		parts = append(parts, backup.Part{Name: PartRedis, Source: &redispart.Source{Client: s.src.Cache.Redis(),
			Match: s.src.RedisMatch, Prefixes: s.src.RedisPrefixes}})
	}
	if s.src.Search != nil {
		idx := s.src.SearchIndices
		if len(idx) == 0 {
			p, err := lucidPattern(s.src.Search)
			if err != nil {
				return nil, err
			}
			idx = []string{p}
		}
		parts = append(parts, searchpart.Part(PartSearch, s.src.Search, idx...))
	}
	if s.src.Volumes != nil {
		names := s.src.VolumeNames
		if len(names) == 0 {
			vs, err := s.src.Volumes.List(ctx)
			if err != nil {
				return nil, &backup.Error{Op: "system backup", Msg: "list volumes", Err: err}
			}
			for _, v := range vs {
				names = append(names, v.Name)
			}
		}
		for _, n := range names {
			v, err := s.src.Volumes.Get(ctx, n)
			if err != nil {
				return nil, &backup.Error{Op: "system backup", Part: VolumePartPrefix + n, Msg: "volume " + n, Err: err}
			}
			p := volumepart.Part(VolumePartPrefix+v.Name, v.Path)
			if s.src.VolumeChain > 0 {
				m, ok := s.b.(*backup.Manager)
				if !ok {
					return nil, invalid("system backup", p.Name, "VolumeChain needs a *backup.Manager")
				}
				if p, err = volumepart.Next(ctx, m, p.Name, v.Path, s.src.VolumeChain); err != nil {
					return nil, err
				}
			}
			parts = append(parts, backup.Part{Name: p.Name, Source: volumeSource{Source: p.Source, name: v.Name, typ: v.Type}})
		}
	}
	return parts, nil
}

// lucidPattern returns "{prefix}lucid-*": every Lucid index under the
// client's index prefix. search.Client does not export its prefix; its
// IndexPattern of any entity is "{prefix}lucid-{entity}-*".
func lucidPattern(c *search.Client) (string, error) {
	const probe = "x"
	p, err := c.IndexPattern(probe)
	if err != nil {
		return "", &backup.Error{Op: "system backup", Part: PartSearch, Err: err}
	}
	return strings.TrimSuffix(p, probe+"-*") + "*", nil
}

// volumeSource is volumepart's source with the volume's name and type
// recorded in the part's Meta.
type volumeSource struct {
	backup.Source
	name string
	typ  lucidkeys.VolumeType
}

func (v volumeSource) Describe() backup.SourceInfo {
	info := v.Source.Describe()
	meta := make(map[string]string, len(info.Meta)+2)
	for k, x := range info.Meta {
		meta[k] = x
	}
	meta[MetaVolume] = v.name
	meta[MetaVolumeType] = string(v.typ)
	info.Meta = meta
	return info
}

// Backup takes one system backup set: every part of Parts in one backup,
// one manifest, through b.Backup with opts (opts.Parallel parts stream at
// once; nil opts: one after the other). The manifest is labelled
// LabelSet=SetFull unless opts.Labels sets LabelSet. A part that fails fails
// the whole set: no manifest, nothing left in the sink (see
// backup.Manager.Backup).
func (s *System) Backup(ctx context.Context, opts *backup.BackupOptions) (*backup.Manifest, error) {
	parts, err := s.Parts(ctx)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, invalid("system backup", "", "nothing to back up (no volume, and no other source)")
	}
	o := backup.BackupOptions{}
	if opts != nil {
		o = *opts
	}
	labels := make(map[string]string, len(o.Labels)+1)
	for k, v := range o.Labels {
		labels[k] = v
	}
	if _, ok := labels[LabelSet]; !ok {
		labels[LabelSet] = SetFull
	}
	o.Labels = labels
	return s.b.Backup(ctx, parts, &o)
}

// RestoreOptions select what Restore restores and where. The zero value
// restores every part of the set into its original place: MongoDB documents
// merged into their collections (existing _ids kept), Redis keys replaced;
// a search index that exists, or a volume that holds data, is refused with
// backup.ErrExists unless Search.Overwrite or Volume.Overwrite.
type RestoreOptions struct {
	// Parts restores only the parts named, by name ("volume-chunks") or
	// by kind ("mongodb", "redis", "search", "volume": every part of that
	// kind). Empty: every part. A name that matches no part of the set is
	// backup.ErrNotFound before anything is restored.
	Parts []string
	// Verify runs Backupper.Verify on the whole set before restoring
	// anything, so a corrupted set is refused before any target changes
	// (the Redis and search restorers write as they read).
	Verify bool

	Mongo  MongoRestore
	Redis  RedisRestore
	Search SearchRestore
	Volume VolumeRestore
}

// MongoRestore selects and places the MongoDB part (see mongopart.Restorer).
type MongoRestore struct {
	// Namespaces restores only these source databases or collections
	// ("lucid", "lucid.users"); empty: all of the part. Exclude leaves
	// out namespaces Namespaces would select.
	Namespaces, Exclude []string
	// Rename maps a source database ("lucid" → "scratch") or collection
	// ("lucid.users" → "scratch.people") to its target.
	Rename map[string]string
	// Drop drops each target collection first; without it documents are
	// merged and existing _ids left as they are.
	Drop bool
	// NoSchema restores Lucid collections as the archive describes them.
	// By default a collection restored into the Mongo store's own database
	// under a name of its schema registry gets the registry's validator
	// and indexes (mongopart.Restorer.Lucid), as the service's own start
	// would give it; collections renamed into another database never do.
	NoSchema bool
}

// RedisRestore selects and places the Redis part (see redispart.Restorer).
type RedisRestore struct {
	// Prefixes restores only keys starting with one of them; empty:
	// every key.
	Prefixes []string
	// Rename maps a prefix of Prefixes to the prefix its keys are restored
	// under ("lucid:" → "scratch:lucid:"); a prefix it does not name keeps
	// its keys' names. The prefixes kept are restored in one pass over the
	// part, each renamed one in a pass of its own.
	Rename map[string]string
}

// SearchRestore selects and places the search part (see searchpart.Restorer).
type SearchRestore struct {
	// Indices restores only these indices of the part: names, or patterns
	// whose '*' matches any run of characters, as the part's source named
	// them (before renaming); empty: every index.
	Indices []string
	// Rename maps an index or alias to its target name.
	Rename map[string]string
	// Prefix and NewPrefix rename every index and alias starting with
	// Prefix to start with NewPrefix.
	Prefix, NewPrefix string
	// Overwrite replaces target indices that exist; without it an
	// existing target is refused before anything is written.
	Overwrite bool
}

// VolumeRestore selects and places volume parts.
type VolumeRestore struct {
	// Names restores only the volumes named (their part names are
	// VolumePartPrefix + name); empty: every volume part selected by
	// Parts.
	Names []string
	// Rename maps a volume to the volume it is restored into, which is
	// created (with the source's type and the manager's default quota)
	// when missing: a scratch volume.
	Rename map[string]string
	// Dir, when set, restores each volume into Dir/<target name> as plain
	// directories instead of into the volume manager.
	Dir string
	// Overwrite replaces a target volume (or directory) that holds data;
	// without it such a target is refused with backup.ErrExists.
	Overwrite bool
}

// RestoreReport is what Restore restored, part by part in the set's order.
type RestoreReport struct {
	ID    string
	Parts []PartRestore
}

// PartRestore is one restored part.
type PartRestore struct {
	Name   string
	Kind   string
	Target string // where it went: database map, key prefixes, index names, volume or directory
	Stats  backup.Stats
}

// Restore restores the parts of set id that o selects, one after the other
// in the set's order, each with its kind's Restorer over the System's
// clients. It stops at the first part that fails and returns the parts
// restored before it with the error.
func (s *System) Restore(ctx context.Context, id string, o RestoreOptions) (*RestoreReport, error) {
	man, err := s.b.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	sel, err := selectParts(man, o)
	if err != nil {
		return nil, err
	}
	// Build every restorer before anything is written, so a missing client
	// fails the restore up front.
	type job struct {
		p      backup.PartManifest
		target string
		rs     []backup.Restorer
		before func(context.Context) error
	}
	var jobs []job
	for _, p := range sel {
		j := job{p: p}
		switch p.Kind {
		case mongopart.Kind:
			if s.src.Mongo == nil {
				return nil, invalid("system restore", p.Name, "no MongoDB client in Sources")
			}
			r := mongopart.Restorer{Client: s.src.Mongo.Client(), Include: o.Mongo.Namespaces, Exclude: o.Mongo.Exclude,
				Rename: o.Mongo.Rename, Drop: o.Mongo.Drop}
			if !o.Mongo.NoSchema {
				r.Lucid = s.src.Mongo
			}
			j.rs = []backup.Restorer{r}
			j.target = describe("namespaces", o.Mongo.Namespaces, o.Mongo.Rename)
		case redispart.Kind:
			if s.src.Cache == nil {
				return nil, invalid("system restore", p.Name, "no Redis client in Sources")
			}
			if len(o.Redis.Prefixes) == 0 && len(o.Redis.Rename) > 0 {
				return nil, invalid("system restore", p.Name, "Redis.Rename needs Redis.Prefixes")
			}
			for k := range o.Redis.Rename {
				if !slices.Contains(o.Redis.Prefixes, k) {
					return nil, invalid("system restore", p.Name, fmt.Sprintf("Redis.Rename names %q, which is not in Redis.Prefixes", k))
				}
			}
			// The prefixes kept under their names go in one pass (Include);
			// each renamed one needs a pass of its own.
			var keep []string
			for _, pre := range o.Redis.Prefixes {
				if pre == "" {
					return nil, invalid("system restore", p.Name, "empty Redis prefix")
				}
				if to, ok := o.Redis.Rename[pre]; ok && to == "" {
					return nil, invalid("system restore", p.Name, fmt.Sprintf("Redis.Rename of %q to an empty prefix", pre))
				} else if ok && to != pre {
					j.rs = append(j.rs, redispart.Restorer{Client: s.src.Cache.Redis(), Prefix: pre, Rename: to})
				} else {
					keep = append(keep, pre)
				}
			}
			if len(keep) > 0 || len(o.Redis.Prefixes) == 0 {
				j.rs = append(j.rs, redispart.Restorer{Client: s.src.Cache.Redis(), Include: keep})
			}
			j.target = describe("keys", o.Redis.Prefixes, o.Redis.Rename)
		case searchpart.Kind:
			if s.src.Search == nil {
				return nil, invalid("system restore", p.Name, "no search client in Sources")
			}
			j.rs = []backup.Restorer{searchpart.Restorer{Client: s.src.Search, Include: o.Search.Indices, Rename: o.Search.Rename,
				Prefix: o.Search.Prefix, NewPrefix: o.Search.NewPrefix, Overwrite: o.Search.Overwrite}}
			ren := maps.Clone(o.Search.Rename)
			if o.Search.Prefix != "" {
				if ren == nil {
					ren = map[string]string{}
				}
				ren[o.Search.Prefix+"*"] = o.Search.NewPrefix + "*"
			}
			j.target = describe("indices", o.Search.Indices, ren)
		case volumepart.Kind:
			if _, ok := s.b.(*backup.Manager); p.Base != "" && !ok {
				return nil, &backup.Error{Op: "system restore", Backup: id, Part: p.Name, Kind: backup.ErrUnsupported,
					Msg: "an incremental volume part restores through a *backup.Manager"}
			}
			name := p.Meta[MetaVolume]
			if name == "" {
				name = strings.TrimPrefix(p.Name, VolumePartPrefix)
			}
			to := name
			if r, ok := o.Volume.Rename[name]; ok {
				to = r
			}
			if err := lucidkeys.ValidateVolumeName(to); err != nil {
				return nil, invalid("system restore", p.Name, "target volume: "+err.Error())
			}
			if o.Volume.Dir != "" {
				dir := filepath.Join(o.Volume.Dir, to)
				j.rs = []backup.Restorer{volumepart.Restorer{Dir: dir, Overwrite: o.Volume.Overwrite}}
				j.target = dir
				break
			}
			if s.src.Volumes == nil {
				return nil, invalid("system restore", p.Name, "no volume manager in Sources (or set Volume.Dir)")
			}
			typ := lucidkeys.VolumeType(p.Meta[MetaVolumeType])
			vols := s.src.Volumes
			j.before = func(ctx context.Context) error {
				_, err := vols.Get(ctx, to)
				if errors.Is(err, volume.ErrNotFound) {
					if typ == "" {
						return invalid("system restore", p.Name, "volume "+to+" does not exist and the part records no type to create it with")
					}
					_, err = vols.Create(ctx, to, typ, 0)
				}
				if err != nil {
					return &backup.Error{Op: "system restore", Backup: id, Part: p.Name, Msg: "volume " + to, Err: err}
				}
				return nil
			}
			j.rs = []backup.Restorer{volumepart.VolumeRestorer{Volumes: vols, Name: to, Overwrite: o.Volume.Overwrite}}
			j.target = "volume " + to
		default:
			return nil, &backup.Error{Op: "system restore", Backup: id, Part: p.Name, Kind: backup.ErrUnsupported, Msg: "part kind " + p.Kind}
		}
		jobs = append(jobs, j)
	}
	if o.Verify {
		if _, err := s.b.Verify(ctx, id); err != nil {
			return nil, err
		}
	}
	rep := &RestoreReport{ID: id}
	for _, j := range jobs {
		if j.before != nil {
			if err := j.before(ctx); err != nil {
				return rep, err
			}
		}
		pr := PartRestore{Name: j.p.Name, Kind: j.p.Kind, Target: j.target}
		for _, r := range j.rs {
			var st backup.Stats
			var err error
			if j.p.Kind == volumepart.Kind && j.p.Base != "" {
				// An incremental volume part: its chain, oldest first.
				st, err = volumepart.RestoreChain(ctx, s.b.(*backup.Manager), id, j.p.Name, r)
			} else {
				st, err = s.b.Restore(ctx, id, j.p.Name, r)
			}
			if err != nil {
				return rep, err
			}
			pr.Stats = st
		}
		rep.Parts = append(rep.Parts, pr)
	}
	return rep, nil
}

// selectParts returns the parts of man that o selects, in the manifest's
// order.
func selectParts(man *backup.Manifest, o RestoreOptions) ([]backup.PartManifest, error) {
	for _, want := range o.Parts {
		if !slices.ContainsFunc(man.Parts, func(p backup.PartManifest) bool { return p.Name == want || p.Kind == want }) {
			return nil, &backup.Error{Op: "system restore", Backup: man.ID, Part: want, Kind: backup.ErrNotFound, Msg: "no such part or kind in the set"}
		}
	}
	for _, v := range o.Volume.Names {
		if _, ok := man.Part(VolumePartPrefix + v); !ok {
			return nil, &backup.Error{Op: "system restore", Backup: man.ID, Part: VolumePartPrefix + v, Kind: backup.ErrNotFound, Msg: "no such volume in the set"}
		}
	}
	var out []backup.PartManifest
	for _, p := range man.Parts {
		if len(o.Parts) > 0 && !slices.Contains(o.Parts, p.Name) && !slices.Contains(o.Parts, p.Kind) {
			continue
		}
		if p.Kind == volumepart.Kind && len(o.Volume.Names) > 0 && !slices.Contains(o.Volume.Names, strings.TrimPrefix(p.Name, VolumePartPrefix)) {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, &backup.Error{Op: "system restore", Backup: man.ID, Kind: backup.ErrNotFound, Msg: "the selection holds no part"}
	}
	return out, nil
}

// describe says where a part goes: what of it (every item, or those
// selected) and under which names.
func describe(what string, sel []string, rename map[string]string) string {
	s := "every " + strings.TrimSuffix(what, "s")
	if what == "indices" {
		s = "every index"
	}
	if len(sel) > 0 {
		s = what + " " + strings.Join(sel, ", ")
	}
	if len(rename) == 0 {
		return s + ", original names"
	}
	var r []string
	for _, k := range slices.Sorted(maps.Keys(rename)) {
		r = append(r, k+" → "+rename[k])
	}
	return s + ", renamed " + strings.Join(r, ", ")
}

func invalid(op, part, msg string) error {
	return &backup.Error{Op: op, Part: part, Kind: backup.ErrInvalid, Msg: msg}
}
