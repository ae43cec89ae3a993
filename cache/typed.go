package cache

import (
	"context"
	"time"
)

// TypedOptions configures a Typed view. The zero value uses JSONCodec.
type TypedOptions struct {
	// Codec encodes new values; nil means JSONCodec.
	Codec Codec
	// Older lists codecs still accepted when decoding (values written
	// before a codec change); each needs a distinct Version.
	Older []Codec
}

// Typed stores values of type T in a Cache through a versioned codec: the
// stored bytes are the codec's version byte followed by its payload.
type Typed[T any] struct {
	c      Cache
	codecs codecSet
}

// NewTyped returns a typed view of c.
func NewTyped[T any](c Cache, opts TypedOptions) (*Typed[T], error) {
	if c == nil {
		return nil, invalidf("cache is nil")
	}
	s, err := newCodecSet(opts.Codec, opts.Older)
	if err != nil {
		return nil, err
	}
	return &Typed[T]{c: c, codecs: s}, nil
}

// Cache returns the untyped cache underneath.
func (t *Typed[T]) Cache() Cache { return t.c }

// Get returns the value under key; ErrNotFound on a miss, ErrCorrupt if
// the stored bytes do not decode.
func (t *Typed[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	b, err := t.c.Get(ctx, key)
	if err != nil {
		return v, err
	}
	err = t.codecs.decode(b, &v)
	return v, err
}

// Set stores v under key for ttl (see Cache for TTL rules).
func (t *Typed[T]) Set(ctx context.Context, key string, v T, ttl time.Duration) error {
	b, err := t.codecs.encode(v)
	if err != nil {
		return err
	}
	return t.c.Set(ctx, key, b, ttl)
}

// GetOrLoad is Cache.GetOrLoad for typed values.
func (t *Typed[T]) GetOrLoad(ctx context.Context, key string, ttl time.Duration, load func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if load == nil {
		return zero, invalidf("loader is nil")
	}
	b, err := t.c.GetOrLoad(ctx, key, ttl, func(ctx context.Context) ([]byte, error) {
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return t.codecs.encode(v)
	})
	if err != nil {
		return zero, err
	}
	var v T
	err = t.codecs.decode(b, &v)
	return v, err
}
