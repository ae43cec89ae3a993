package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// Stream is a durable queue on a Redis Stream with one consumer group:
// messages stay until acknowledged, a consumer that crashed leaves its
// messages pending, and Claim hands pending messages that sat idle too
// long to another consumer. Delivery is at least once: make handlers
// idempotent.
type Stream interface {
	// Add appends payload and returns its stream id.
	Add(ctx context.Context, payload []byte) (string, error)
	// Read returns up to count new messages for this consumer, waiting
	// up to the block time (bounded by ctx) for the first one; none is
	// not an error.
	Read(ctx context.Context, count int) ([]StreamMessage, error)
	// Ack marks messages as processed.
	Ack(ctx context.Context, ids ...string) error
	// Claim takes over up to count messages that other consumers left
	// pending for at least minIdle.
	Claim(ctx context.Context, minIdle time.Duration, count int) ([]StreamMessage, error)
	// Pending returns how many messages the group has delivered but not
	// seen acknowledged.
	Pending(ctx context.Context) (int64, error)
}

// StreamMessage is one stream entry.
type StreamMessage struct {
	ID      string
	Payload []byte
}

// StreamOptions configures a Stream. Group is required.
type StreamOptions struct {
	// Group is the consumer group; created (with the stream) if missing,
	// starting at the beginning of the stream.
	Group string
	// Consumer names this consumer within the group; default
	// hostname-pid-random.
	Consumer string
	// MaxLen trims the stream to about this many entries on Add
	// (XADD MAXLEN ~); 0 keeps everything.
	MaxLen int64
	// Block is the longest Read waits; default 5s.
	Block time.Duration
	// MaxPayload bounds a payload; default DefaultMaxValueSize.
	MaxPayload int
}

// RedisStream is the Redis implementation of Stream: the stream lives at
// lucid:pubsub:stream:{name}.
type RedisStream struct {
	rdb redis.UniversalClient
	key string
	o   StreamOptions
}

var _ Stream = (*RedisStream)(nil)

// NewRedisStream returns the stream name on rdb and makes sure its group
// exists.
func NewRedisStream(ctx context.Context, rdb redis.UniversalClient, name string, opts StreamOptions) (*RedisStream, error) {
	if rdb == nil {
		return nil, invalidf("redis client is nil")
	}
	k, err := lucidkeys.NewKey(lucidkeys.ServicePubSub, "stream", name)
	if err != nil {
		return nil, fmt.Errorf("cache: stream name: %w: %w", ErrInvalid, err)
	}
	if opts.Group == "" || strings.ContainsAny(opts.Group, " \n\r\t") {
		return nil, invalidf("stream group %q: want a non-empty name without whitespace", opts.Group)
	}
	if opts.Consumer == "" {
		h, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		opts.Consumer = fmt.Sprintf("%s-%d-%s", h, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if opts.MaxLen < 0 {
		return nil, invalidf("negative stream MaxLen %d", opts.MaxLen)
	}
	if opts.Block <= 0 {
		opts.Block = 5 * time.Second
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxValueSize
	}
	s := &RedisStream{rdb: rdb, key: k.String(), o: opts}
	err = rdb.XGroupCreateMkStream(ctx, s.key, opts.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return nil, wrapErr(ctx, "stream group", err)
	}
	return s, nil
}

// Key returns the Redis key of the stream.
func (s *RedisStream) Key() string { return s.key }

// Add implements Stream.
func (s *RedisStream) Add(ctx context.Context, payload []byte) (string, error) {
	if len(payload) > s.o.MaxPayload {
		return "", invalidf("payload is %d bytes, more than %d", len(payload), s.o.MaxPayload)
	}
	id, err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.key, MaxLen: s.o.MaxLen, Approx: s.o.MaxLen > 0,
		Values: []any{"p", payload}}).Result()
	return id, wrapErr(ctx, "stream add", err)
}

func toMessages(xs []redis.XMessage) []StreamMessage {
	out := make([]StreamMessage, 0, len(xs))
	for _, x := range xs {
		p, _ := x.Values["p"].(string)
		out = append(out, StreamMessage{ID: x.ID, Payload: []byte(p)})
	}
	return out
}

// Read implements Stream.
func (s *RedisStream) Read(ctx context.Context, count int) ([]StreamMessage, error) {
	if count <= 0 {
		return nil, invalidf("read count %d: want at least 1", count)
	}
	block := s.o.Block
	if dl, ok := ctx.Deadline(); ok {
		block = min(block, time.Until(dl)-10*time.Millisecond)
		if block < time.Millisecond {
			return nil, fmt.Errorf("cache: stream read: %w", context.DeadlineExceeded)
		}
	}
	// go-redis gives a blocking command a socket deadline of Block + 10 s,
	// whatever ReadTimeout says; a hung server would hold Read 10 s past
	// its documented bound. The SDK's own deadline keeps it at Block +
	// ReadTimeout.
	rctx, cancel := context.WithTimeout(ctx, block+readTimeout(s.rdb))
	defer cancel()
	res, err := s.rdb.XReadGroup(rctx, &redis.XReadGroupArgs{Group: s.o.Group, Consumer: s.o.Consumer,
		Streams: []string{s.key, ">"}, Count: int64(count), Block: block}).Result()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		if ctx.Err() == nil && rctx.Err() != nil {
			return nil, fmt.Errorf("cache: stream read: no answer within the block time plus ReadTimeout: %w", ErrUnavailable)
		}
		return nil, wrapErr(ctx, "stream read", err)
	}
	var out []StreamMessage
	for _, st := range res {
		out = append(out, toMessages(st.Messages)...)
	}
	return out, nil
}

// readTimeout is rdb's ReadTimeout (3 s, the SDK's default, when rdb is
// of a type whose options cannot be read or that has none).
func readTimeout(rdb redis.UniversalClient) time.Duration {
	var d time.Duration
	switch r := rdb.(type) {
	case *redis.Client:
		d = r.Options().ReadTimeout
	case *redis.ClusterClient:
		d = r.Options().ReadTimeout
	}
	if d <= 0 {
		return defaultIOTimeout
	}
	return d
}

// Ack implements Stream.
func (s *RedisStream) Ack(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return wrapErr(ctx, "stream ack", s.rdb.XAck(ctx, s.key, s.o.Group, ids...).Err())
}

// Claim implements Stream.
func (s *RedisStream) Claim(ctx context.Context, minIdle time.Duration, count int) ([]StreamMessage, error) {
	if count <= 0 || minIdle < 0 {
		return nil, invalidf("claim count %d, min idle %v", count, minIdle)
	}
	msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.key, Group: s.o.Group, Consumer: s.o.Consumer,
		MinIdle: minIdle, Start: "0-0", Count: int64(count)}).Result()
	if err != nil {
		return nil, wrapErr(ctx, "stream claim", err)
	}
	return toMessages(msgs), nil
}

// Pending implements Stream.
func (s *RedisStream) Pending(ctx context.Context) (int64, error) {
	p, err := s.rdb.XPending(ctx, s.key, s.o.Group).Result()
	if err != nil {
		return 0, wrapErr(ctx, "stream pending", err)
	}
	return p.Count, nil
}
