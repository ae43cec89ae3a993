package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/internal/backoff"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// PubSub is fire-and-forget messaging: a message reaches the subscribers
// connected when it is published, and nobody else. A subscriber that was
// disconnected (Redis restart, network cut) is resubscribed automatically
// and receives a Message with Gap set: messages published meanwhile are
// lost. Use a Stream where messages must not be lost.
type PubSub interface {
	// Publish sends payload to channel and returns how many subscribers
	// received it (on Cluster: those connected to the node that served it).
	Publish(ctx context.Context, channel string, payload []byte) (int64, error)
	// Subscribe subscribes to channels. The subscription lasts until ctx
	// is done, its Close is called or the Client or Memory it came from is
	// closed; its Messages channel is closed then.
	Subscribe(ctx context.Context, channels ...string) (Subscription, error)
}

// Subscription delivers the messages of one Subscribe.
type Subscription interface {
	// Messages returns the delivery channel. It is closed when the
	// subscription ends.
	Messages() <-chan Message
	// Close ends the subscription. It is idempotent.
	Close() error
}

// Message is a published message or a gap notice.
type Message struct {
	Channel string // the name given to Subscribe
	Payload []byte
	// Gap marks a notice, not a message: the subscription was
	// re-established after a disconnect and messages published on
	// Channel meanwhile may have been missed. Payload is empty.
	Gap bool
}

// PubSubOptions configures a PubSub. The zero value is usable.
type PubSubOptions struct {
	// Entity is the channel's entity segment: channel c is the Redis
	// channel lucid:pubsub:{entity}:{c}. Default "channel".
	Entity string
	// Buffer is the size of a subscription's Messages channel; default
	// 256. A slow consumer blocks its subscription's reader, and Redis
	// disconnects a subscriber whose output buffer overflows (a Gap).
	Buffer int
	// MaxPayload bounds a published payload; default DefaultMaxValueSize.
	MaxPayload int
	// Logger receives reconnects; nil discards.
	Logger *slog.Logger
}

type pubsubCore struct {
	entity  string
	buffer  int
	maxSize int
	log     *slog.Logger
}

func newPubSubCore(o PubSubOptions) (*pubsubCore, error) {
	c := &pubsubCore{entity: o.Entity, buffer: o.Buffer, maxSize: o.MaxPayload, log: logger(o.Logger)}
	if c.entity == "" {
		c.entity = "channel"
	}
	if _, err := lucidkeys.KeyPrefix(lucidkeys.ServicePubSub, c.entity); err != nil {
		return nil, fmt.Errorf("cache: pubsub entity: %w: %w", ErrInvalid, err)
	}
	if c.buffer <= 0 {
		c.buffer = 256
	}
	if c.maxSize <= 0 {
		c.maxSize = DefaultMaxValueSize
	}
	return c, nil
}

func (c *pubsubCore) channel(name string) (string, error) {
	k, err := lucidkeys.NewKey(lucidkeys.ServicePubSub, c.entity, name)
	if err != nil {
		return "", fmt.Errorf("cache: pubsub channel: %w: %w", ErrInvalid, err)
	}
	return k.String(), nil
}

func (c *pubsubCore) channels(names []string) (map[string]string, []string, error) {
	if len(names) == 0 {
		return nil, nil, invalidf("subscribe: no channels")
	}
	byKey := map[string]string{}
	var keys []string
	for _, n := range names {
		k, err := c.channel(n)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := byKey[k]; !dup {
			byKey[k] = n
			keys = append(keys, k)
		}
	}
	return byKey, keys, nil
}

func (c *pubsubCore) payload(p []byte) error {
	if len(p) > c.maxSize {
		return invalidf("payload is %d bytes, more than %d", len(p), c.maxSize)
	}
	return nil
}

// RedisPubSub is the Redis implementation of PubSub.
type RedisPubSub struct {
	rdb        redis.UniversalClient
	clientDone <-chan struct{} // closed by Client.Close; nil from NewRedisPubSub
	*pubsubCore
}

var _ PubSub = (*RedisPubSub)(nil)

// NewRedisPubSub returns a PubSub on rdb.
func NewRedisPubSub(rdb redis.UniversalClient, opts PubSubOptions) (*RedisPubSub, error) {
	if rdb == nil {
		return nil, invalidf("redis client is nil")
	}
	core, err := newPubSubCore(opts)
	if err != nil {
		return nil, err
	}
	return &RedisPubSub{rdb: rdb, pubsubCore: core}, nil
}

// Publish implements PubSub.
func (p *RedisPubSub) Publish(ctx context.Context, channel string, payload []byte) (int64, error) {
	k, err := p.channel(channel)
	if err != nil {
		return 0, err
	}
	if err := p.payload(payload); err != nil {
		return 0, err
	}
	n, err := p.rdb.Publish(ctx, k, payload).Result()
	return n, wrapErr(ctx, "publish", err)
}

// Subscribe implements PubSub. It returns once Redis confirmed every
// channel, so a message published after Subscribe returns is delivered.
func (p *RedisPubSub) Subscribe(ctx context.Context, channels ...string) (Subscription, error) {
	byKey, keys, err := p.channels(channels)
	if err != nil {
		return nil, err
	}
	ps := p.rdb.Subscribe(ctx)
	if err := ps.Subscribe(ctx, keys...); err != nil {
		_ = ps.Close()
		return nil, wrapErr(ctx, "subscribe", err)
	}
	confirmed := map[string]bool{}
	for len(confirmed) < len(keys) {
		m, err := ps.Receive(ctx)
		if err != nil {
			_ = ps.Close()
			return nil, wrapErr(ctx, "subscribe", err)
		}
		if s, ok := m.(*redis.Subscription); ok && s.Kind == "subscribe" {
			confirmed[s.Channel] = true
		}
	}
	s := &redisSub{ps: ps, out: make(chan Message, p.buffer), closing: make(chan struct{}), done: make(chan struct{}), byKey: byKey, log: p.log}
	go s.watch(ctx, p.clientDone)
	go s.run(confirmed)
	return s, nil
}

type redisSub struct {
	ps      *redis.PubSub
	out     chan Message
	closing chan struct{}
	done    chan struct{}
	once    sync.Once
	byKey   map[string]string
	log     *slog.Logger
}

func (s *redisSub) Messages() <-chan Message { return s.out }

func (s *redisSub) Close() error {
	s.once.Do(func() { close(s.closing) })
	<-s.done
	return nil
}

// watch closes the go-redis PubSub when the subscription ends, which
// unblocks a pending read.
func (s *redisSub) watch(ctx context.Context, clientDone <-chan struct{}) {
	select {
	case <-ctx.Done():
		s.once.Do(func() { close(s.closing) })
	case <-clientDone: // nil (never) unless made by a Client
		s.once.Do(func() { close(s.closing) })
	case <-s.closing:
	}
	_ = s.ps.Close()
}

func (s *redisSub) ending() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

func (s *redisSub) send(m Message) bool {
	select {
	case s.out <- m:
		return true
	case <-s.closing:
		return false
	}
}

func (s *redisSub) run(confirmed map[string]bool) {
	defer close(s.done)
	defer close(s.out)
	ctx := context.Background() // reads are bounded by the timeout; Close unblocks them
	retry := backoff.Policy{Min: 50 * time.Millisecond, Max: 2 * time.Second}
	failures := 0
	for !s.ending() {
		m, err := s.ps.ReceiveTimeout(ctx, 10*time.Second)
		if err != nil {
			if s.ending() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = s.ps.Ping(ctx) // keeps the connection checked; a dead one fails the next read
				continue
			}
			// go-redis reconnects and resubscribes on the next read.
			s.log.Warn("cache: subscription interrupted; resubscribing", "err", err)
			failures++
			t := time.NewTimer(retry.Delay(failures))
			select {
			case <-s.closing:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		failures = 0
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if confirmed[m.Channel] {
				if !s.send(Message{Channel: s.byKey[m.Channel], Gap: true}) {
					return
				}
			}
			confirmed[m.Channel] = true
		case *redis.Message:
			if !s.send(Message{Channel: s.byKey[m.Channel], Payload: []byte(m.Payload)}) {
				return
			}
		}
	}
}

// Topic publishes and decodes values of type T on one channel through a
// versioned codec.
type Topic[T any] struct {
	ps      PubSub
	channel string
	codecs  codecSet
}

// NewTopic returns a typed view of channel on ps.
func NewTopic[T any](ps PubSub, channel string, opts TypedOptions) (*Topic[T], error) {
	if ps == nil {
		return nil, invalidf("pubsub is nil")
	}
	s, err := newCodecSet(opts.Codec, opts.Older)
	if err != nil {
		return nil, err
	}
	return &Topic[T]{ps: ps, channel: channel, codecs: s}, nil
}

// Publish encodes v and publishes it.
func (t *Topic[T]) Publish(ctx context.Context, v T) (int64, error) {
	b, err := t.codecs.encode(v)
	if err != nil {
		return 0, err
	}
	return t.ps.Publish(ctx, t.channel, b)
}

// Subscribe subscribes to the topic's channel.
func (t *Topic[T]) Subscribe(ctx context.Context) (Subscription, error) {
	return t.ps.Subscribe(ctx, t.channel)
}

// Decode decodes a message's payload (not valid for a Gap notice).
func (t *Topic[T]) Decode(m Message) (T, error) {
	var v T
	if m.Gap {
		return v, invalidf("decode: a gap notice has no payload")
	}
	err := t.codecs.decode(m.Payload, &v)
	return v, err
}
