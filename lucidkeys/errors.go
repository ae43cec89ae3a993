package lucidkeys

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error this package returns, so callers can
// tell bad input (errors.Is(err, ErrInvalid)) from any other failure without
// parsing messages. The wrapping message names the segment and rule that failed.
var ErrInvalid = errors.New("lucidkeys: invalid name")

// invalidf builds an error that wraps ErrInvalid. Values are quoted by the
// callers with %q so control characters and unicode stay readable in logs.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("lucidkeys: "+format+": %w", append(args, ErrInvalid)...)
}

// isLowerAlnum reports whether c is an ASCII lowercase letter or digit.
func isLowerAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}

// checkToken validates s against [a-z0-9][a-z0-9_-]{0,max-1} when firstAlnum is
// set, or [a-z0-9_-]{1,max} otherwise. what names the segment in the error.
func checkToken(what, s string, max int, firstAlnum bool) error {
	if s == "" {
		return invalidf("%s is empty", what)
	}
	if len(s) > max {
		return invalidf("%s %q is %d bytes, longer than %d", what, s, len(s), max)
	}
	if firstAlnum && !isLowerAlnum(s[0]) {
		return invalidf("%s %q must start with a lowercase letter or digit", what, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && c != '_' && c != '-' {
			return invalidf("%s %q has byte %q at offset %d; allowed are a-z 0-9 _ -", what, s, c, i)
		}
	}
	return nil
}
