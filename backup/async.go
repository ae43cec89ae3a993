package backup

import (
	"io"
	"sync"
)

// asyncWriter decouples a pipeline stage: Write copies into a buffer and
// hands full buffers to a goroutine that writes them to w, so compression
// and encryption+hashing+I/O run on different cores. It holds at most
// asyncBuffers buffers of asyncBufSize. The first error of w is returned
// by every later Write and by Close.
type asyncWriter struct {
	w     io.Writer
	cur   []byte
	full  chan []byte
	free  chan []byte
	done  chan struct{}
	mu    sync.Mutex
	err   error
	close sync.Once
}

const (
	asyncBufSize = 1 << 20
	asyncBuffers = 3
)

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{w: w, full: make(chan []byte, asyncBuffers), free: make(chan []byte, asyncBuffers), done: make(chan struct{})}
	for i := 0; i < asyncBuffers; i++ {
		a.free <- make([]byte, 0, asyncBufSize)
	}
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	defer close(a.done)
	for b := range a.full {
		if a.getErr() == nil {
			if _, err := a.w.Write(b); err != nil {
				a.setErr(err)
			}
		}
		a.free <- b[:0]
	}
}

func (a *asyncWriter) getErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

func (a *asyncWriter) setErr(err error) {
	a.mu.Lock()
	if a.err == nil {
		a.err = err
	}
	a.mu.Unlock()
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if err := a.getErr(); err != nil {
			return n, err
		}
		if a.cur == nil {
			a.cur = <-a.free
		}
		k := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur = a.cur[:len(a.cur)+k]
		p, n = p[k:], n+k
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = nil
		}
	}
	return n, nil
}

// Close flushes what is buffered, stops the goroutine and returns the
// first error. It is idempotent.
func (a *asyncWriter) Close() error {
	a.close.Do(func() {
		if len(a.cur) > 0 && a.getErr() == nil {
			a.full <- a.cur
		}
		a.cur = nil
		close(a.full)
		<-a.done
	})
	return a.getErr()
}
