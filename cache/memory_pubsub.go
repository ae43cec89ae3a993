package cache

import (
	"context"
	"sync"
)

// MemoryPubSub is the in-memory implementation of PubSub. A subscriber
// whose buffer is full misses messages; it then gets a Gap notice before
// the next message it can take, as a Redis subscriber would after being
// disconnected.
type MemoryPubSub struct {
	m *Memory
	*pubsubCore
}

var _ PubSub = (*MemoryPubSub)(nil)

type memSub struct {
	m       *Memory
	out     chan Message
	byKey   map[string]string
	gap     map[string]bool // guarded by m.mu
	closing chan struct{}
	once    sync.Once
}

// PubSub returns an in-memory PubSub on m.
func (m *Memory) PubSub(opts PubSubOptions) (PubSub, error) {
	if err := m.open("pubsub"); err != nil {
		return nil, err
	}
	core, err := newPubSubCore(opts)
	if err != nil {
		return nil, err
	}
	return &MemoryPubSub{m: m, pubsubCore: core}, nil
}

// Publish implements PubSub.
func (p *MemoryPubSub) Publish(ctx context.Context, channel string, payload []byte) (int64, error) {
	k, err := p.channel(channel)
	if err != nil {
		return 0, err
	}
	if err := p.payload(payload); err != nil {
		return 0, err
	}
	if err := p.m.alive(ctx, "publish"); err != nil {
		return 0, err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	var n int64
	for s := range p.m.subs[k] {
		name := s.byKey[k]
		if s.gap[k] {
			select {
			case s.out <- Message{Channel: name, Gap: true}:
				s.gap[k] = false
			default:
				continue
			}
		}
		select {
		case s.out <- Message{Channel: name, Payload: append([]byte{}, payload...)}:
			n++
		default:
			s.gap[k] = true
		}
	}
	return n, nil
}

// Subscribe implements PubSub.
func (p *MemoryPubSub) Subscribe(ctx context.Context, channels ...string) (Subscription, error) {
	byKey, keys, err := p.channels(channels)
	if err != nil {
		return nil, err
	}
	if err := p.m.alive(ctx, "subscribe"); err != nil {
		return nil, err
	}
	s := &memSub{m: p.m, out: make(chan Message, p.buffer), byKey: byKey, gap: map[string]bool{}, closing: make(chan struct{})}
	p.m.mu.Lock()
	for _, k := range keys {
		if p.m.subs[k] == nil {
			p.m.subs[k] = map[*memSub]bool{}
		}
		p.m.subs[k][s] = true
	}
	p.m.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-s.closing:
		case <-p.m.done:
		}
		s.end()
	}()
	return s, nil
}

func (s *memSub) Messages() <-chan Message { return s.out }

func (s *memSub) end() {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.byKey == nil {
		return
	}
	for k := range s.byKey {
		delete(s.m.subs[k], s)
	}
	s.byKey = nil
	close(s.out)
}

func (s *memSub) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.end()
	return nil
}
