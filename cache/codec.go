package cache

import (
	"encoding/json"
	"fmt"
)

// Codec turns values into bytes and back. Typed helpers store a value as
// one version byte followed by the codec's payload, so the format can
// change later: a new codec gets a new Version and old entries are still
// decoded by the codec registered for their version (see TypedOptions).
type Codec interface {
	// Version identifies the encoding; it is the first stored byte and
	// must be unique among the codecs a reader knows. 0 is reserved.
	Version() byte
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the default codec: encoding/json, version 1.
type JSONCodec struct{}

var _ Codec = JSONCodec{}

// Version returns 1.
func (JSONCodec) Version() byte { return 1 }

// Marshal encodes v as JSON.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON into v.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// codecSet encodes with one codec and decodes with any known version.
type codecSet struct {
	enc Codec
	dec map[byte]Codec
}

func newCodecSet(enc Codec, older []Codec) (codecSet, error) {
	if enc == nil {
		enc = JSONCodec{}
	}
	s := codecSet{enc: enc, dec: map[byte]Codec{}}
	for _, c := range append([]Codec{enc}, older...) {
		if c == nil {
			return codecSet{}, invalidf("codec is nil")
		}
		v := c.Version()
		if v == 0 {
			return codecSet{}, invalidf("codec %T has the reserved version 0", c)
		}
		if prev, ok := s.dec[v]; ok && prev != c {
			return codecSet{}, invalidf("codecs %T and %T share version %d", prev, c, v)
		}
		s.dec[v] = c
	}
	return s, nil
}

func (s codecSet) encode(v any) ([]byte, error) {
	b, err := s.enc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cache: encode %T: %w: %w", v, ErrInvalid, err)
	}
	out := make([]byte, 0, len(b)+1)
	return append(append(out, s.enc.Version()), b...), nil
}

func (s codecSet) decode(data []byte, v any) error {
	if len(data) == 0 {
		return fmt.Errorf("cache: decode: empty value: %w", ErrCorrupt)
	}
	c, ok := s.dec[data[0]]
	if !ok {
		return fmt.Errorf("cache: decode: unknown codec version %d: %w", data[0], ErrCorrupt)
	}
	if err := c.Unmarshal(data[1:], v); err != nil {
		return fmt.Errorf("cache: decode: %w: %w", ErrCorrupt, err)
	}
	return nil
}
