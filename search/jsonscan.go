package search

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The one JSON scanner of the package, shared by the readers of _bulk
// answers (bulkresp.go) and of _search answers (searchresp.go): a cursor
// over the answer's bytes with the token readers both need. The readers
// themselves, which know the answers' shapes, live beside their answers.
// Every method reports false on anything unexpected, and the caller then
// hands the whole answer to encoding/json, so no valid answer is misread.

// jsonScanner reads an engine's answer (_bulk, _search) in one pass. Its
// methods report false on anything unexpected, leaving the answer to
// encoding/json.
type jsonScanner struct {
	b     []byte
	i     int
	depth int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c if it comes next.
func (s *jsonScanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string and returns it raw, quotes included.
func (s *jsonScanner) str() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			s.i++
		case c == '"':
			s.i++
			return s.b[start:s.i], true
		case c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// key reads an object key and its colon; keys with escapes are refused.
func (s *jsonScanner) key() ([]byte, bool) {
	k, ok := s.str()
	if !ok || bytes.IndexByte(k, '\\') >= 0 || !s.next(':') {
		return nil, false
	}
	return k, true
}

// int reads an integer that fits an int64 exactly.
func (s *jsonScanner) int() (int64, bool) {
	s.ws()
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start := s.i
	var v int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		v = v*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	n := s.i - start
	if n == 0 || n > 18 || (n > 1 && s.b[start] == '0') {
		return 0, false
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, true
}

// skip reads any value.
func (s *jsonScanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		if s.depth++; s.depth > 512 {
			return false
		}
		defer func() { s.depth-- }()
		s.i++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if s.next(end) {
			return true
		}
		for {
			if c == '{' {
				if _, ok := s.key(); !ok {
					return false
				}
			}
			if !s.skip() {
				return false
			}
			if s.next(end) {
				return true
			}
			if !s.next(',') {
				return false
			}
		}
	case 't', 'f', 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				return true
			}
		}
		return false
	default:
		start := s.i
	number:
		for ; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', '+', '.', 'e', 'E':
			default:
				break number
			}
		}
		return s.i > start
	}
}

// keyIs reports whether the raw key k is name; a key encoding/json would
// match to name regardless of case, but that is not name, sets *odd.
func keyIs(k []byte, name string, odd *bool) bool {
	if string(k) == name {
		return true
	}
	if bytes.EqualFold(k, []byte(name)) {
		*odd = true
	}
	return false
}

// raw reads any value and returns its bytes, capacity capped.
func (s *jsonScanner) raw() ([]byte, bool) {
	s.ws()
	start := s.i
	if !s.skip() {
		return nil, false
	}
	return s.b[start:s.i:s.i], true
}

// boolean reads true or false.
func (s *jsonScanner) boolean() (bool, bool) {
	s.ws()
	for _, lit := range [...]string{"true", "false"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return lit == "true", true
		}
	}
	return false, false
}

// null consumes a null literal if one comes next.
func (s *jsonScanner) null() bool {
	s.ws()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// object reads an object, calling member for each key (positioned at its
// value); member reads the value and reports whether all went well.
func (s *jsonScanner) object(member func(k []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		k, ok := s.key()
		if !ok || !member(k) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// once reports whether bit is not yet in *seen, and adds it: a repeated key
// is left to encoding/json (which merges maps and structs).
func once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// jsonString decodes a raw JSON string; known is returned, not copied,
// when the string equals it.
func jsonString(raw []byte, known string) string {
	if len(raw) < 2 {
		return ""
	}
	in := raw[1 : len(raw)-1]
	if string(in) == known {
		return known
	}
	if bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in)
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
