package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HamiGames/lucid-data/internal/backoff"
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
	// runtime.NumCPU() (at least 2). Items are gathered into one batch at
	// a time, which goes to the first free worker, so the next batch fills
	// while the engine works on the previous ones; at most Workers+1
	// batches are held in memory.
	Workers int
	// FlushBytes sends the batch once it holds this many bytes of NDJSON;
	// default 5 MB.
	FlushBytes int
	// FlushInterval sends the batch when none was sent for this long;
	// default 5 s.
	FlushInterval time.Duration
	// MaxAttempts bounds how often an item is sent when the engine rejects
	// it with 429 or 503 or the whole request fails (connection errors,
	// 429, 5xx); default 5. The wait before retry n is drawn uniformly
	// from (0, min(MaxBackoff, RetryBackoff·2ⁿ⁻¹)] (full jitter, the
	// internal/backoff Policy with Min RetryBackoff, Max MaxBackoff and
	// Attempts MaxAttempts; defaults 100 ms and 5 s), so an item's worst
	// case is MaxAttempts sends and the sum of those caps.
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
// Add, batched and sent in _bulk requests by concurrent workers; every item
// ends in exactly one of its callbacks, including when the engine is down
// (after the retries) and when Close gives up waiting. Create it with
// Client.NewBulkIndexer; it is safe for concurrent use.
type BulkIndexer struct {
	c     *Client
	cfg   BulkConfig
	retry backoff.Policy

	queue   chan *bulkPending   // accepted items, to the batcher
	sendq   chan []*bulkPending // full batches, to the senders
	nudge   chan struct{}       // Flush wakes the batcher
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

	lastIndex atomic.Pointer[string] // the last index name Add validated

	m *searchMeters // the Client's, nil without Config.MeterProvider
}

type bulkPending struct {
	item     BulkItem
	body     []byte // the body line without its newline; nil for delete
	attempts int
	lastErr  error
	lastRes  BulkItemResult
}

// size is what p adds to a request without _index, near enough for
// FlushBytes.
func (p *bulkPending) size() int {
	n := len(p.item.Action) + len(p.item.ID) + 16 + len(p.body) + 1
	if p.item.Routing != "" {
		n += len(p.item.Routing) + 13
	}
	if p.item.IfSeqNo != nil {
		n += 48
	}
	return n
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
	b := &BulkIndexer{c: c, cfg: cfg, queue: make(chan *bulkPending, cfg.Workers*64), done: make(chan struct{}), m: c.meters()}
	b.retry = backoff.Policy{Min: cfg.RetryBackoff, Max: cfg.MaxBackoff, Attempts: cfg.MaxAttempts}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.idle = make(chan struct{})
	close(b.idle)
	b.nudge = make(chan struct{}, 1)
	b.sendq = make(chan []*bulkPending)
	b.wg.Add(1 + cfg.Workers)
	go b.batcher()
	for range cfg.Workers {
		go b.sender()
	}
	go func() { b.wg.Wait(); close(b.done) }()
	return b
}

// Add validates and encodes item and queues it, blocking while the queue is
// full. An error means the item was not accepted and none of its callbacks
// will run: the ctx error (context.Canceled or DeadlineExceeded) when ctx
// is done, ErrClosed after the indexer's or the Client's Close, ErrInvalid
// for a bad item.
func (b *BulkIndexer) Add(ctx context.Context, item BulkItem) error {
	if err := ctx.Err(); err != nil {
		return ctxErr("bulk add", item.Index, err)
	}
	if err := b.c.errIfClosed("bulk add", item.Index); err != nil {
		return err
	}
	p := &bulkPending{item: item}
	if err := b.encode(p); err != nil {
		return err
	}
	b.closeMu.RLock()
	defer b.closeMu.RUnlock()
	if b.closed {
		return &Error{Op: "bulk add", Index: item.Index, kind: ErrClosed}
	}
	b.track(1)
	select {
	case b.queue <- p:
		b.added.Add(1)
		b.m.bulk(bulkQueued, 1)
		return nil
	case <-ctx.Done():
		b.track(-1)
		return ctxErr("bulk add", item.Index, ctx.Err())
	}
}

// encode validates p.item and renders its body line into p.body. The
// index name is checked once per run of items for the same index.
func (b *BulkIndexer) encode(p *bulkPending) error {
	if last := b.lastIndex.Load(); last == nil || *last != p.item.Index {
		if err := validateName("bulk add", p.item.Index); err != nil {
			return err
		}
		name := p.item.Index
		b.lastIndex.Store(&name)
	}
	body, err := encodeBulkBody(&p.item)
	p.body = body
	return err
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
// item is settled (its callback has returned), or with the ctx error when
// ctx is done first (the items stay queued and will be settled). After the
// indexer's or the Client's Close it is ErrClosed: Close itself waits.
func (b *BulkIndexer) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return ctxErr("bulk flush", "", err)
	}
	b.closeMu.RLock()
	closed := b.closed
	b.closeMu.RUnlock()
	if closed {
		return &Error{Op: "bulk flush", kind: ErrClosed}
	}
	if err := b.c.errIfClosed("bulk flush", ""); err != nil {
		return err
	}
	b.flushing.Add(1)
	defer b.flushing.Add(-1)
	select {
	case b.nudge <- struct{}{}:
	default:
	}
	b.idleMu.Lock()
	idle := b.idle
	b.idleMu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctxErr("bulk flush", "", ctx.Err())
	}
}

// Close stops accepting items, sends what is buffered and waits for every
// item to be settled. If ctx ends first, in-flight requests are abandoned
// and their items settled with OnFailure (nothing is lost silently), then
// Close returns the ctx error (at once for a ctx already done). Close is
// idempotent.
func (b *BulkIndexer) Close(ctx context.Context) error {
	b.closeMu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.closeMu.Unlock()
	if ctx.Err() != nil {
		// A done ctx gives up at once, whatever is still buffered.
		b.cancel()
		<-b.done
		return ctxErr("bulk close", "", ctx.Err())
	}
	select {
	case <-b.done:
		b.cancel()
		return nil
	case <-ctx.Done():
		b.cancel()
		<-b.done
		return ctxErr("bulk close", "", ctx.Err())
	}
}

// Stats returns the indexer's counters.
func (b *BulkIndexer) Stats() BulkStats {
	return BulkStats{
		Added: b.added.Load(), Flushed: b.flushed.Load(), Indexed: b.indexed.Load(),
		Failed: b.failed.Load(), Retried: b.retried.Load(), Requests: b.requests.Load(),
	}
}

// batcher fills one batch at a time from the queue and hands it to a free
// sender, so the next batch is encoded while the engine works on the last
// ones (rather than all workers filling, then all waiting, in step).
func (b *BulkIndexer) batcher() {
	defer b.wg.Done()
	defer close(b.sendq)
	var (
		batch []*bulkPending
		size  int
		last  = time.Now()
	)
	tick := time.NewTicker(max(b.cfg.FlushInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	flush := func() {
		if len(batch) > 0 {
			b.sendq <- batch
			batch = make([]*bulkPending, 0, cap(batch))
		}
		size, last = 0, time.Now()
	}
	for {
		select {
		case p, ok := <-b.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, p)
			size += p.size()
			if size >= b.cfg.FlushBytes || (b.flushing.Load() > 0 && len(b.queue) == 0) {
				flush()
			}
		case <-b.nudge:
			flush()
		case <-tick.C:
			if time.Since(last) >= b.cfg.FlushInterval {
				flush()
			}
		}
	}
}

// sender sends batches until the batcher stops; Workers of them run.
func (b *BulkIndexer) sender() {
	defer b.wg.Done()
	var w bulkWorker
	for batch := range b.sendq {
		b.send(&w, batch)
	}
}

// bulkWorker is a sender's memory, reused from one request to the next.
type bulkWorker struct {
	req   []byte         // the NDJSON body
	resp  bytes.Buffer   // the answer
	items []bulkRespItem // the answer's items
}

// bulkFilter keeps, of the _bulk answer, exactly what BulkItemResult and
// the item errors carry.
var bulkFilter = []string{"errors", "items.*._index", "items.*._id", "items.*.status", "items.*.result",
	"items.*._version", "items.*._seq_no", "items.*._primary_term", "items.*.error"}

// commonIndex returns the index all of pending write to, or "" if they
// write to several.
func commonIndex(pending []*bulkPending) string {
	index := pending[0].item.Index
	for _, p := range pending[1:] {
		if p.item.Index != index {
			return ""
		}
	}
	return index
}

// bulkIndices lists the distinct indices of pending, comma-separated in
// the order they first appear, for the bulk request's span.
func bulkIndices(pending []*bulkPending) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, p := range pending {
		if !seen[p.item.Index] {
			seen[p.item.Index] = true
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p.item.Index)
		}
	}
	return b.String()
}

// send delivers batch, retrying what may succeed later, and settles every
// item. A batch for one index is posted to /{index}/_bulk with no _index
// in its action lines.
func (b *BulkIndexer) send(w *bulkWorker, batch []*bulkPending) {
	pending := batch
	for attempt := 1; len(pending) > 0; attempt++ {
		index := commonIndex(pending)
		w.req = w.req[:0]
		for _, p := range pending {
			p.attempts++
			w.req = appendBulkItem(w.req, &p.item, p.body, index == "")
		}
		b.requests.Add(1)
		b.flushed.Add(uint64(len(pending)))
		indices := index
		if indices == "" && b.c.obs != nil {
			indices = bulkIndices(pending)
		}
		status, err := b.c.callTraced(b.ctx, "bulk", "", indices, esapi.BulkRequest{
			Index: seg(index), Body: bytes.NewReader(w.req), Refresh: string(b.cfg.Refresh), FilterPath: bulkFilter,
		}, &w.resp)
		if err != nil {
			// Unless the engine answered 2xx (so it read the whole body)
			// the transport may still be sending it: never overwrite it.
			w.req = nil
		}
		if err == nil {
			if w.items, err = parseBulkResponse(w.resp.Bytes(), w.items[:0]); err != nil {
				err = &Error{Op: "bulk", Status: status, Reason: "cannot decode the answer", kind: ErrUnavailable, cause: err}
			}
		}
		if err == nil && len(w.items) != len(pending) {
			err = &Error{Op: "bulk", Status: status, Reason: "answer has " + strconv.Itoa(len(w.items)) +
				" items for " + strconv.Itoa(len(pending)) + " sent", kind: ErrUnavailable}
			// The outcome of each item is unknown: do not resend blindly.
			for _, p := range pending {
				b.fail(p, BulkItemResult{Index: p.item.Index, ID: p.item.ID}, err)
			}
			return
		}
		if err != nil {
			// The whole request failed: retry it if the failure is
			// transient, there are attempts left and we are not closing.
			retryable := (status == 0 && !errors.Is(err, ErrClosed)) || status == 429 || status >= 500
			if !retryable || attempt >= b.cfg.MaxAttempts || !b.wait(attempt) {
				for _, p := range pending {
					b.fail(p, BulkItemResult{Index: p.item.Index, ID: p.item.ID, Status: status}, err)
				}
				return
			}
			b.retried.Add(uint64(len(pending)))
			b.m.bulk(bulkRetried, len(pending))
			continue
		}
		again := pending[:0] // filtered in place: item i is read before slot i is written
		for i, p := range pending {
			r := &w.items[i]
			ir := r.result(&p.item)
			ir.Attempts = p.attempts
			switch {
			case r.status >= 200 && r.status < 300:
				b.succeed(p, ir)
			case r.status == 429 || r.status == 503:
				p.lastErr, p.lastRes = itemErr(p.item.Index, r.status, r.engineError()), ir
				again = append(again, p)
			default:
				b.fail(p, ir, itemErr(p.item.Index, r.status, r.engineError()))
			}
		}
		clear(w.items) // drop references into the answer
		if len(again) > 0 && (attempt >= b.cfg.MaxAttempts || !b.wait(attempt)) {
			for _, p := range again {
				b.fail(p, p.lastRes, p.lastErr)
			}
			return
		}
		b.retried.Add(uint64(len(again)))
		b.m.bulk(bulkRetried, len(again))
		pending = again
	}
}

// wait sleeps the backoff before retry attempt+1; false if the indexer is
// being closed by force.
func (b *BulkIndexer) wait(attempt int) bool {
	return b.retry.Wait(b.ctx, attempt) == nil
}

// succeed settles p with OnSuccess.
func (b *BulkIndexer) succeed(p *bulkPending, res BulkItemResult) {
	b.indexed.Add(1)
	b.m.bulk(bulkIndexed, 1)
	// The item is settled once its callback returned, even by panicking.
	defer b.track(-1)
	if p.item.OnSuccess != nil {
		p.item.OnSuccess(p.item, res)
	}
}

// fail settles p with OnFailure.
func (b *BulkIndexer) fail(p *bulkPending, res BulkItemResult, err error) {
	res.Attempts = p.attempts
	b.failed.Add(1)
	b.m.bulk(bulkFailed, 1)
	defer b.track(-1)
	if p.item.OnFailure != nil {
		p.item.OnFailure(p.item, res, err)
	}
}

// encodeBulkBody validates item (its index aside) and renders its body
// line, without the newline; nil for BulkDelete.
func encodeBulkBody(item *BulkItem) ([]byte, error) {
	if item.Action == "" {
		item.Action = BulkIndex
	}
	if len(item.ID) > maxIDBytes {
		return nil, invalidf("bulk add", "document id is %d bytes, longer than %d", len(item.ID), maxIDBytes)
	}
	var body []byte
	switch item.Action {
	case BulkIndex, BulkCreate:
		doc, err := encodeDoc("bulk add", item.Body)
		if err != nil {
			return nil, err
		}
		switch item.Body.(type) {
		case json.RawMessage, []byte:
			// The caller's memory: keep a copy, not a reference.
			if bytes.IndexByte(doc, '\n') < 0 {
				return bytes.Clone(doc), nil
			}
		}
		body = doc
	case BulkUpdate:
		if item.ID == "" {
			return nil, invalidf("bulk add", "update needs a document id")
		}
		doc, err := encodeDoc("bulk add", item.Body)
		if err != nil {
			return nil, err
		}
		body = make([]byte, 0, len(doc)+8)
		body = append(append(append(body, `{"doc":`...), doc...), '}')
	case BulkDelete:
		if item.ID == "" {
			return nil, invalidf("bulk add", "delete needs a document id")
		}
		return nil, nil
	default:
		return nil, invalidf("bulk add", "unknown bulk action %q", item.Action)
	}
	// encodeDoc's output is compact only if the caller's was; the engine
	// needs one line per body.
	if bytes.IndexByte(body, '\n') >= 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, body); err != nil {
			return nil, invalidf("bulk add", "document is not valid JSON")
		}
		body = c.Bytes()
	}
	return body, nil
}

// encodeBulkItem validates item and renders its NDJSON lines, the action
// line naming the index.
func encodeBulkItem(item *BulkItem) ([]byte, error) {
	if err := validateName("bulk add", item.Index); err != nil {
		return nil, err
	}
	body, err := encodeBulkBody(item)
	if err != nil {
		return nil, err
	}
	return appendBulkItem(nil, item, body, true), nil
}

// appendBulkItem appends item's action line (with _index when withIndex)
// and body line to b.
func appendBulkItem(b []byte, item *BulkItem, body []byte, withIndex bool) []byte {
	b = append(b, `{"`...)
	b = append(b, item.Action...)
	b = append(b, `":{`...)
	sep := false
	field := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, name...)
	}
	if withIndex {
		field(`"_index":`)
		b = appendJSONString(b, item.Index)
	}
	if item.ID != "" {
		field(`"_id":`)
		b = appendJSONString(b, item.ID)
	}
	if item.IfSeqNo != nil {
		field(`"if_seq_no":`)
		b = strconv.AppendInt(b, *item.IfSeqNo, 10)
	}
	if item.IfPrimaryTerm != nil {
		field(`"if_primary_term":`)
		b = strconv.AppendInt(b, *item.IfPrimaryTerm, 10)
	}
	if item.Routing != "" {
		field(`"routing":`)
		b = appendJSONString(b, item.Routing)
	}
	b = append(b, "}}\n"...)
	if body != nil {
		b = append(append(b, body...), '\n')
	}
	return b
}
