package mongopart

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart/internal/archive"
)

// RestoreDumpDir restores the directory layout `mongodump --out DIR
// [--gzip]` writes — what Lucid's Python backup service produced: one
// folder per database under dir holding <coll>.bson[.gz] and
// <coll>.metadata.json[.gz] — with r's settings (Lucid, Rename, Drop,
// Include, Exclude, NoIndexes, batches). Collections named system.* are
// skipped. It returns
// the documents read by source namespace. A file that does not parse is an
// error wrapping ErrFormat and naming the file.
func (r Restorer) RestoreDumpDir(ctx context.Context, dir string) (backup.Stats, error) {
	r, err := r.prepare()
	if err != nil {
		return backup.Stats{}, err
	}
	res := r.Result
	if res == nil {
		res = &Result{}
	}
	st := backup.Stats{Counts: map[string]int64{}}
	dbs, err := os.ReadDir(dir)
	if err != nil {
		return st, fmt.Errorf("mongopart: dump directory: %w", err)
	}
	// Every namespace is listed first, so an Include entry the dump does
	// not hold fails before anything is written.
	var all [][2]string
	for _, d := range dbs {
		if !d.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, d.Name()))
		if err != nil {
			return st, fmt.Errorf("mongopart: dump directory: %w", err)
		}
		var colls []string
		for _, f := range files {
			name := f.Name()
			for _, ext := range []string{".bson.gz", ".bson"} {
				if c, ok := strings.CutSuffix(name, ext); ok && !f.IsDir() && !strings.HasSuffix(c, ".metadata") {
					colls = append(colls, c)
					break
				}
			}
		}
		slices.Sort(colls)
		for _, coll := range slices.Compact(colls) {
			if !strings.HasPrefix(coll, "system.") {
				all = append(all, [2]string{d.Name(), coll})
			}
		}
	}
	if len(all) == 0 {
		return st, &backup.Error{Op: "restore", Kind: backup.ErrNotFound, Msg: "mongopart: no <db>/<coll>.bson[.gz] under " + dir}
	}
	if err := r.checkIncluded(all); err != nil {
		return st, err
	}
	var done []restored
	ins := newInserter(ctx, r.Workers, res)
	defer ins.wait()
	ictx := ins.ctx // cancelled when an insert fails: the read stops
	for _, ns := range all {
		if !r.included(ns[0], ns[1]) {
			continue
		}
		n, err := r.restoreDumpFile(ictx, ins, filepath.Join(dir, ns[0]), ns[0], ns[1], &done)
		st.Records += n
		st.Counts[ns[0]+"."+ns[1]] = n
		if err != nil {
			if ierr := ins.wait(); ierr != nil {
				return st, ierr
			}
			return st, err
		}
	}
	return st, r.complete(ctx, ins, done, res)
}

// openMaybeGzip opens base+".gz" (gunzipped) or base; nil, nil when
// neither exists.
func openMaybeGzip(base string) (io.ReadCloser, error) {
	f, err := os.Open(base + ".gz")
	if err == nil {
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %s.gz: %v", errFormat, base, err)
		}
		return readCloser{zr, f}, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err = os.Open(base)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (r Restorer) restoreDumpFile(ctx context.Context, ins *inserter, dbDir, db, coll string, done *[]restored) (int64, error) {
	var meta Metadata
	mf, err := openMaybeGzip(filepath.Join(dbDir, coll+".metadata.json"))
	if err != nil {
		return 0, err
	}
	if mf != nil {
		b, err := io.ReadAll(io.LimitReader(mf, 64<<20))
		mf.Close()
		if err != nil {
			return 0, fmt.Errorf("mongopart: %s.%s metadata: %w", db, coll, err)
		}
		if meta, err = ParseMetadata(b); err != nil {
			return 0, fmt.Errorf("%w: %s.%s: %v", errFormat, db, coll, err)
		}
	}
	f, err := openMaybeGzip(filepath.Join(dbDir, coll+".bson"))
	if err != nil || f == nil {
		return 0, err
	}
	defer f.Close()
	b, err := r.open(ctx, ins, db, coll, meta)
	if err != nil {
		return 0, err
	}
	ar := archive.NewDocReader(bufio.NewReader(f))
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		doc, err := ar.Next(true)
		if err == io.EOF {
			break
		}
		if err == nil && doc == nil {
			err = formatErr("not a BSON document")
		}
		if err != nil {
			return n, fmt.Errorf("mongopart: %s: %w", filepath.Join(dbDir, coll+".bson"), err)
		}
		n++
		if err := b.add(doc); err != nil {
			return n, err
		}
	}
	return n, b.finish(meta.Indexes, done)
}
