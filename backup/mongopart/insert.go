package mongopart

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DefaultWorkers is how many InsertMany calls a Restorer keeps in flight:
// one, while the archive is read and the next batch filled. More may help
// a server that inserts concurrently (MongoDB); against FerretDB v1, whose
// SQLite writes contend, two measured 0.59-0.74x of mongorestore's speed
// where one measured 0.79-1.70x (BenchmarkRestoreVsMongorestore, load
// average about 25 on 2 cores).
const DefaultWorkers = 1

// inserter runs a restore's InsertMany calls on a few goroutines, so the
// archive is read, checked and batched while the server inserts the
// previous batches. Batches go through an unbuffered channel: at most
// workers batches are in flight and one is being filled.
type inserter struct {
	ctx    context.Context
	cancel context.CancelFunc
	jobs   chan insertJob
	wg     sync.WaitGroup
	once   sync.Once

	mu  sync.Mutex
	res *Result
	err error
}

type insertJob struct {
	coll *mongo.Collection
	docs []any
}

func newInserter(ctx context.Context, workers int, res *Result) *inserter {
	if workers <= 0 {
		workers = DefaultWorkers
	}
	ctx, cancel := context.WithCancel(ctx)
	in := &inserter{ctx: ctx, cancel: cancel, jobs: make(chan insertJob), res: res}
	in.wg.Add(workers)
	for range workers {
		go in.work()
	}
	return in
}

func (in *inserter) work() {
	defer in.wg.Done()
	for j := range in.jobs {
		if in.ctx.Err() != nil {
			continue // failed or cancelled: drain
		}
		ins, dups, err := insertMany(in.ctx, j.coll, j.docs)
		in.mu.Lock()
		in.res.Inserted += ins
		in.res.Duplicates += dups
		if err != nil && in.err == nil {
			in.err = err
			in.cancel()
		}
		in.mu.Unlock()
	}
}

// submit hands docs to a worker; the caller must not touch docs again.
func (in *inserter) submit(coll *mongo.Collection, docs []any) error {
	select {
	case in.jobs <- insertJob{coll: coll, docs: docs}:
		return nil
	case <-in.ctx.Done():
		return in.failure()
	}
}

// failure is the first insert error, or the context's.
func (in *inserter) failure() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.err != nil {
		return in.err
	}
	return in.ctx.Err()
}

// wait ends the workers once every submitted batch is done and returns
// the first insert error. It may be called more than once.
func (in *inserter) wait() error {
	in.once.Do(func() {
		close(in.jobs)
		in.wg.Wait()
	})
	in.mu.Lock()
	defer in.mu.Unlock()
	in.cancel()
	return in.err
}

// insertMany inserts docs unordered and counts what went in; duplicates of
// an existing _id (merge mode) are counted, not failed.
func insertMany(ctx context.Context, c *mongo.Collection, docs []any) (inserted, dups int64, err error) {
	n := int64(len(docs))
	_, err = c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return n, 0, nil
	}
	var bw mongo.BulkWriteException
	if errors.As(err, &bw) && bw.WriteConcernError == nil {
		for _, we := range bw.WriteErrors {
			if we.Code == 11000 {
				dups++
			}
		}
		inserted = n - int64(len(bw.WriteErrors))
		if dups < int64(len(bw.WriteErrors)) {
			return inserted, dups, fmt.Errorf("mongopart: insert into %s: %w", c.Name(), err)
		}
		return inserted, dups, nil
	}
	return 0, 0, fmt.Errorf("mongopart: insert into %s: %w", c.Name(), err)
}
