package cache

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// MemoryStream is the in-memory implementation of Stream.
type MemoryStream struct {
	m     *Memory
	st    *memStream
	group *memGroup
	o     StreamOptions
}

var _ Stream = (*MemoryStream)(nil)

type memStream struct {
	entries []memStreamEntry // ascending seq
	seq     int64
	groups  map[string]*memGroup
	wake    chan struct{} // closed and replaced by Add
}

type memStreamEntry struct {
	seq int64
	msg StreamMessage
}

type memGroup struct {
	last    int64 // seq of the last delivered entry
	pending map[int64]*memPending
}

type memPending struct {
	consumer  string
	delivered time.Time
	msg       StreamMessage
}

// Stream returns the in-memory stream name with opts (see NewRedisStream).
func (m *Memory) Stream(ctx context.Context, name string, opts StreamOptions) (Stream, error) {
	if _, err := lucidkeys.NewKey(lucidkeys.ServicePubSub, "stream", name); err != nil {
		return nil, fmt.Errorf("cache: stream name: %w: %w", ErrInvalid, err)
	}
	if opts.Group == "" || strings.ContainsAny(opts.Group, " \n\r\t") {
		return nil, invalidf("stream group %q: want a non-empty name without whitespace", opts.Group)
	}
	if opts.MaxLen < 0 {
		return nil, invalidf("negative stream MaxLen %d", opts.MaxLen)
	}
	if opts.Consumer == "" {
		opts.Consumer = newToken()
	}
	if opts.Block <= 0 {
		opts.Block = 5 * time.Second
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxValueSize
	}
	if err := m.alive(ctx, "stream"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.streams[name]
	if st == nil {
		st = &memStream{groups: map[string]*memGroup{}, wake: make(chan struct{})}
		m.streams[name] = st
	}
	g := st.groups[opts.Group]
	if g == nil {
		g = &memGroup{pending: map[int64]*memPending{}}
		st.groups[opts.Group] = g
	}
	return &MemoryStream{m: m, st: st, group: g, o: opts}, nil
}

// Add implements Stream.
func (s *MemoryStream) Add(ctx context.Context, payload []byte) (string, error) {
	if len(payload) > s.o.MaxPayload {
		return "", invalidf("payload is %d bytes, more than %d", len(payload), s.o.MaxPayload)
	}
	if err := s.m.alive(ctx, "stream add"); err != nil {
		return "", err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.st.seq++
	id := fmt.Sprintf("%d-%d", time.Now().UnixMilli(), s.st.seq)
	s.st.entries = append(s.st.entries, memStreamEntry{seq: s.st.seq, msg: StreamMessage{ID: id, Payload: append([]byte{}, payload...)}})
	if s.o.MaxLen > 0 && int64(len(s.st.entries)) > s.o.MaxLen {
		s.st.entries = s.st.entries[int64(len(s.st.entries))-s.o.MaxLen:]
	}
	close(s.st.wake)
	s.st.wake = make(chan struct{})
	return id, nil
}

// Read implements Stream.
func (s *MemoryStream) Read(ctx context.Context, count int) ([]StreamMessage, error) {
	if count <= 0 {
		return nil, invalidf("read count %d: want at least 1", count)
	}
	t := time.NewTimer(s.o.Block)
	defer t.Stop()
	for {
		if err := s.m.alive(ctx, "stream read"); err != nil {
			return nil, err
		}
		s.m.mu.Lock()
		var out []StreamMessage
		for _, e := range s.st.entries {
			if e.seq <= s.group.last {
				continue
			}
			if len(out) == count {
				break
			}
			out = append(out, e.msg)
			s.group.last = e.seq
			s.group.pending[e.seq] = &memPending{consumer: s.o.Consumer, delivered: time.Now(), msg: e.msg}
		}
		wake := s.st.wake
		s.m.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
		case <-s.m.done:
		case <-t.C:
			return nil, nil
		case <-wake:
		}
	}
}

func seqOf(id string) (int64, bool) {
	_, s, ok := strings.Cut(id, "-")
	var n int64
	if _, err := fmt.Sscan(s, &n); !ok || err != nil {
		return 0, false
	}
	return n, true
}

// Ack implements Stream.
func (s *MemoryStream) Ack(ctx context.Context, ids ...string) error {
	if err := s.m.alive(ctx, "stream ack"); err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, id := range ids {
		n, ok := seqOf(id)
		if !ok {
			return invalidf("stream id %q", id)
		}
		delete(s.group.pending, n)
	}
	return nil
}

// Claim implements Stream.
func (s *MemoryStream) Claim(ctx context.Context, minIdle time.Duration, count int) ([]StreamMessage, error) {
	if count <= 0 || minIdle < 0 {
		return nil, invalidf("claim count %d, min idle %v", count, minIdle)
	}
	if err := s.m.alive(ctx, "stream claim"); err != nil {
		return nil, err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	var seqs []int64
	now := time.Now()
	for n, p := range s.group.pending {
		if now.Sub(p.delivered) >= minIdle {
			seqs = append(seqs, n)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	var out []StreamMessage
	for _, n := range seqs[:min(len(seqs), count)] {
		p := s.group.pending[n]
		p.consumer, p.delivered = s.o.Consumer, now
		out = append(out, p.msg)
	}
	return out, nil
}

// Pending implements Stream.
func (s *MemoryStream) Pending(ctx context.Context) (int64, error) {
	if err := s.m.alive(ctx, "stream pending"); err != nil {
		return 0, err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return int64(len(s.group.pending)), nil
}
