package search

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// BulkAction is the operation of a bulk item.
type BulkAction string

// Bulk actions.
const (
	BulkIndex  BulkAction = "index"  // create or replace (the default)
	BulkCreate BulkAction = "create" // fail with ErrConflict if the id exists
	BulkUpdate BulkAction = "update" // merge Body into the existing document
	BulkDelete BulkAction = "delete"
)

// BulkItem is one operation queued on a BulkIndexer. Exactly one of its
// callbacks is called once the item is settled (they may be nil): OnSuccess
// when the engine applied it, OnFailure when it was rejected, failed after
// the allowed retries, or the indexer was closed by force. Callbacks run on
// the indexer's worker goroutines and must not block for long.
type BulkItem struct {
	Action BulkAction // default BulkIndex
	Index  string     // index or alias (required)
	ID     string     // required for update and delete; empty lets the engine pick one
	// Body is the document (struct, map, json.RawMessage or []byte holding
	// a JSON object); for BulkUpdate the partial document; unused for
	// BulkDelete.
	Body          any
	IfSeqNo       *int64
	IfPrimaryTerm *int64
	Routing       string

	OnSuccess func(item BulkItem, res BulkItemResult)
	OnFailure func(item BulkItem, res BulkItemResult, err error)
}

// BulkItemResult is the engine's answer for one item.
type BulkItemResult struct {
	Index       string
	ID          string // the engine-generated id when the item had none
	Status      int    // HTTP status of the item; 0 if no answer came
	Result      string // "created", "updated", "deleted", "noop", "not_found"
	Version     int64
	SeqNo       int64
	PrimaryTerm int64
	Attempts    int // how many times the item was sent
}

// BulkConfig configures a BulkIndexer. The zero value means the defaults
// given on each field.
type BulkConfig struct {
	// Workers is the number of concurrent bulk requests; default
	// runtime.NumCPU() (at least 2).
	Workers int
	// FlushBytes triggers a worker's request once its buffer holds this
	// many bytes; default 5 MB.
	FlushBytes int
	// FlushInterval flushes a worker's buffer when it has not been flushed
	// for this long; default 5 s.
	FlushInterval time.Duration
	// MaxAttempts bounds how often an item is sent when the engine rejects
	// it with 429 or 503 or the whole request fails (connection errors,
	// 429, 5xx); default 5. Each retry waits an exponential backoff with
	// jitter, starting at RetryBackoff and capped at MaxBackoff (defaults
	// 100 ms and 5 s).
	MaxAttempts  int
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// Refresh is passed to each bulk request.
	Refresh Refresh
}

// BulkStats are the indexer's counters since it started.
type BulkStats struct {
	Added    uint64 // items accepted by Add
	Flushed  uint64 // item sends, retries included
	Indexed  uint64 // items settled with OnSuccess
	Failed   uint64 // items settled with OnFailure
	Retried  uint64 // item re-sends after 429/503 or a failed request
	Requests uint64 // bulk requests sent
}

// BulkIndexer is a long-lived, concurrent bulk writer. Items are encoded by
// Add, buffered per worker and sent in _bulk requests; every item ends in
// exactly one of its callbacks, including when the engine is down (after
// the retries) and when Close gives up waiting. Create it with
// Client.NewBulkIndexer; it is safe for concurrent use.
type BulkIndexer struct {
	c   *Client
	cfg BulkConfig

	queue   chan *bulkPending
	nudges  []chan struct{}
	wg      sync.WaitGroup
	ctx     context.Context // cancelled when Close gives up
	cancel  context.CancelFunc
	closeMu sync.RWMutex
	closed  bool
	done    chan struct{}

	flushing atomic.Int32
	idleMu   sync.Mutex
	inflight int
	idle     chan struct{} // closed while inflight == 0

	added, flushed, indexed, failed, retried, requests atomic.Uint64
}

type bulkPending struct {
	item     BulkItem
	data     []byte // meta line and body line(s), newline-terminated
	attempts int
	lastErr  error
	lastRes  BulkItemResult
}

// NewBulkIndexer starts a bulk indexer's workers. Close it to flush and
// stop them.
func (c *Client) NewBulkIndexer(cfg BulkConfig) *BulkIndexer {
	if cfg.Workers <= 0 {
		cfg.Workers = max(runtime.NumCPU(), 2)
	}
	if cfg.FlushBytes <= 0 {
		cfg.FlushBytes = 5_000_000
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 5 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	b := &BulkIndexer{c: c, cfg: cfg, queue: make(chan *bulkPending, cfg.Workers*64), done: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.idle = make(chan struct{})
	close(b.idle)
	for range cfg.Workers {
		n := make(chan struct{}, 1)
		b.nudges = append(b.nudges, n)
		b.wg.Add(1)
		go b.worker(n)
	}
	go func() { b.wg.Wait(); close(b.done) }()
	return b
}

// Add validates and encodes item and queues it, blocking while the queue is
// full. An error means the item was not accepted and none of its callbacks
// will run: ErrInvalid for a bad item, ErrClosed after Close, or the ctx
// error.
func (b *BulkIndexer) Add(ctx context.Context, item BulkItem) error {
	data, err := encodeBulkItem(&item)
	if err != nil {
		return err
	}
	p := &bulkPending{item: item, data: data}
	b.closeMu.RLock()
	defer b.closeMu.RUnlock()
	if b.closed {
		return &Error{Op: "bulk add", Index: item.Index, kind: ErrClosed}
	}
	if err := ctx.Err(); err != nil {
		return &Error{Op: "bulk add", Index: item.Index, kind: ErrUnavailable, cause: err}
	}
	b.track(1)
	select {
	case b.queue <- p:
		b.added.Add(1)
		return nil
	case <-ctx.Done():
		b.track(-1)
		return &Error{Op: "bulk add", Index: item.Index, kind: ErrUnavailable, cause: ctx.Err()}
	}
}

// track adjusts the number of accepted, unsettled items.
func (b *BulkIndexer) track(n int) {
	b.idleMu.Lock()
	defer b.idleMu.Unlock()
	if b.inflight == 0 && n > 0 {
		b.idle = make(chan struct{})
	}
	b.inflight += n
	if b.inflight == 0 {
		close(b.idle)
	}
}

// Flush sends everything added before the call and returns once every such
// item is settled (its callback has returned), or when ctx is done.
func (b *BulkIndexer) Flush(ctx context.Context) error {
	b.flushing.Add(1)
	defer b.flushing.Add(-1)
	for _, n := range b.nudges {
		select {
		case n <- struct{}{}:
		default:
		}
	}
	b.idleMu.Lock()
	idle := b.idle
	b.idleMu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return &Error{Op: "bulk flush", kind: ErrUnavailable, cause: ctx.Err()}
	}
}

// Close stops accepting items, sends what is buffered and waits for every
// item to be settled. If ctx ends first, in-flight requests are abandoned
// and their items settled with OnFailure (nothing is lost silently), then
// Close returns the ctx error. Close is idempotent.
func (b *BulkIndexer) Close(ctx context.Context) error {
	b.closeMu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.closeMu.Unlock()
	select {
	case <-b.done:
		b.cancel()
		return nil
	case <-ctx.Done():
		b.cancel()
		<-b.done
		return &Error{Op: "bulk close", kind: ErrUnavailable, cause: ctx.Err()}
	}
}

// Stats returns the indexer's counters.
func (b *BulkIndexer) Stats() BulkStats {
	return BulkStats{
		Added: b.added.Load(), Flushed: b.flushed.Load(), Indexed: b.indexed.Load(),
		Failed: b.failed.Load(), Retried: b.retried.Load(), Requests: b.requests.Load(),
	}
}

func (b *BulkIndexer) worker(nudge chan struct{}) {
	defer b.wg.Done()
	var (
		batch []*bulkPending
		size  int
		last  = time.Now()
	)
	tick := time.NewTicker(max(b.cfg.FlushInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	flush := func() {
		if len(batch) > 0 {
			b.send(batch)
		}
		batch, size, last = nil, 0, time.Now()
	}
	for {
		select {
		case p, ok := <-b.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, p)
			size += len(p.data)
			if size >= b.cfg.FlushBytes || (b.flushing.Load() > 0 && len(b.queue) == 0) {
				flush()
			}
		case <-nudge:
			flush()
		case <-tick.C:
			if time.Since(last) >= b.cfg.FlushInterval {
				flush()
			}
		}
	}
}

// bulkResponse is the filtered answer of _bulk.
type bulkResponse struct {
	Errors bool                        `json:"errors"`
	Items  []map[string]bulkRespResult `json:"items"`
}

type bulkRespResult struct {
	Index       string       `json:"_index"`
	ID          string       `json:"_id"`
	Status      int          `json:"status"`
	Result      string       `json:"result"`
	Version     int64        `json:"_version"`
	SeqNo       int64        `json:"_seq_no"`
	PrimaryTerm int64        `json:"_primary_term"`
	Error       *engineError `json:"error"`
}

var bulkFilter = []string{"errors", "items.*._index", "items.*._id", "items.*.status", "items.*.result",
	"items.*._version", "items.*._seq_no", "items.*._primary_term", "items.*.error"}

// send delivers batch, retrying what may succeed later, and settles every
// item.
func (b *BulkIndexer) send(batch []*bulkPending) {
	pending := batch
	var buf bytes.Buffer
	for attempt := 1; len(pending) > 0; attempt++ {
		buf.Reset()
		for _, p := range pending {
			p.attempts++
			buf.Write(p.data)
		}
		b.requests.Add(1)
		b.flushed.Add(uint64(len(pending)))
		var res bulkResponse
		status, err := b.c.callStatus(b.ctx, "bulk", "", esapi.BulkRequest{
			Body: bytes.NewReader(buf.Bytes()), Refresh: string(b.cfg.Refresh), FilterPath: bulkFilter,
		}, &res)
		if err == nil && len(res.Items) != len(pending) {
			err = &Error{Op: "bulk", Status: status, Reason: "answer has " + strconv.Itoa(len(res.Items)) +
				" items for " + strconv.Itoa(len(pending)) + " sent", kind: ErrUnavailable}
			status = 0 // the outcome of each item is unknown: do not resend blindly
			for _, p := range pending {
				b.fail(p, BulkItemResult{Index: p.item.Index, ID: p.item.ID}, err)
			}
			return
		}
		if err != nil {
			// The whole request failed: retry it if the failure is
			// transient, there are attempts left and we are not closing.
			retryable := status == 0 || status == 429 || status >= 500
			if !retryable || attempt >= b.cfg.MaxAttempts || !b.wait(attempt) {
				for _, p := range pending {
					b.fail(p, BulkItemResult{Index: p.item.Index, ID: p.item.ID, Status: status}, err)
				}
				return
			}
			b.retried.Add(uint64(len(pending)))
			continue
		}
		var again []*bulkPending
		for i, p := range pending {
			var r bulkRespResult
			for _, v := range res.Items[i] {
				r = v
			}
			ir := BulkItemResult{Index: r.Index, ID: r.ID, Status: r.Status, Result: r.Result,
				Version: r.Version, SeqNo: r.SeqNo, PrimaryTerm: r.PrimaryTerm, Attempts: p.attempts}
			switch {
			case r.Status >= 200 && r.Status < 300:
				b.indexed.Add(1)
				b.settle(func() {
					if p.item.OnSuccess != nil {
						p.item.OnSuccess(p.item, ir)
					}
				})
			case r.Status == 429 || r.Status == 503:
				p.lastErr, p.lastRes = itemErr(p.item.Index, r.Status, r.Error), ir
				again = append(again, p)
			default:
				b.fail(p, ir, itemErr(p.item.Index, r.Status, r.Error))
			}
		}
		if len(again) > 0 && (attempt >= b.cfg.MaxAttempts || !b.wait(attempt)) {
			for _, p := range again {
				b.fail(p, p.lastRes, p.lastErr)
			}
			return
		}
		b.retried.Add(uint64(len(again)))
		pending = again
	}
}

// wait sleeps the backoff before retry attempt+1; false if the indexer is
// being closed by force.
func (b *BulkIndexer) wait(attempt int) bool {
	t := time.NewTimer(jitterBackoff(b.cfg.RetryBackoff, b.cfg.MaxBackoff, attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.ctx.Done():
		return false
	}
}

func (b *BulkIndexer) fail(p *bulkPending, res BulkItemResult, err error) {
	res.Attempts = p.attempts
	b.failed.Add(1)
	b.settle(func() {
		if p.item.OnFailure != nil {
			p.item.OnFailure(p.item, res, err)
		}
	})
}

// settle runs a callback and marks its item settled, even if it panics.
func (b *BulkIndexer) settle(cb func()) {
	defer b.track(-1)
	cb()
}

// encodeBulkItem validates item and renders its NDJSON lines.
func encodeBulkItem(item *BulkItem) ([]byte, error) {
	if item.Action == "" {
		item.Action = BulkIndex
	}
	if err := validateName("bulk add", item.Index); err != nil {
		return nil, err
	}
	if len(item.ID) > maxIDBytes {
		return nil, invalidf("bulk add", "document id is %d bytes, longer than %d", len(item.ID), maxIDBytes)
	}
	var body []byte
	switch item.Action {
	case BulkIndex, BulkCreate:
		var err error
		if body, err = encodeDoc("bulk add", item.Body); err != nil {
			return nil, err
		}
	case BulkUpdate:
		if item.ID == "" {
			return nil, invalidf("bulk add", "update needs a document id")
		}
		doc, err := encodeDoc("bulk add", item.Body)
		if err != nil {
			return nil, err
		}
		body = append(append([]byte(`{"doc":`), doc...), '}')
	case BulkDelete:
		if item.ID == "" {
			return nil, invalidf("bulk add", "delete needs a document id")
		}
	default:
		return nil, invalidf("bulk add", "unknown bulk action %q", item.Action)
	}
	meta := struct {
		Index     string `json:"_index"`
		ID        string `json:"_id,omitempty"`
		IfSeqNo   *int64 `json:"if_seq_no,omitempty"`
		IfPrimary *int64 `json:"if_primary_term,omitempty"`
		Routing   string `json:"routing,omitempty"`
	}{item.Index, item.ID, item.IfSeqNo, item.IfPrimaryTerm, item.Routing}
	m, err := json.Marshal(map[BulkAction]any{item.Action: meta})
	if err != nil {
		return nil, invalidf("bulk add", "cannot encode item metadata")
	}
	out := make([]byte, 0, len(m)+len(body)+2)
	out = append(append(out, m...), '\n')
	if body != nil {
		// encodeDoc's output is compact only if the caller's was; the
		// engine needs one line per body.
		if bytes.IndexByte(body, '\n') >= 0 {
			var c bytes.Buffer
			if err := json.Compact(&c, body); err != nil {
				return nil, invalidf("bulk add", "document is not valid JSON")
			}
			body = c.Bytes()
		}
		out = append(append(out, body...), '\n')
	}
	return out, nil
}
