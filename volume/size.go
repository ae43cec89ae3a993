package volume

import (
	"io/fs"
	"math"
	"math/big"
	"strconv"
	"strings"
)

var errNotExist = fs.ErrNotExist

// sizeUnits maps a unit letter to its multiplier. All units are binary
// (powers of 1024), the convention of Lucid's configuration ("10G" = 10 GiB), du, Docker
// and Kubernetes' "Gi": "10G", "10GB", "10GiB" and "10Gi" are the same size.
var sizeUnits = map[byte]int64{
	'B': 1,
	'K': 1 << 10,
	'M': 1 << 20,
	'G': 1 << 30,
	'T': 1 << 40,
	'P': 1 << 50,
}

// ParseSize parses a size such as "10G", "512M", "1.5GiB", "4096" or "100 GB"
// into bytes. Units are binary and case-insensitive: K, M, G, T, P, each
// optionally followed by "i" and/or "B"; a bare number is bytes. A fraction is
// allowed when a unit is given, and the result is rounded down to a byte.
// Negative, empty, overflowing or malformed sizes return an error wrapping
// ErrInvalid that quotes the input.
func ParseSize(s string) (int64, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, newErr(ErrInvalid, "size is empty")
	}
	// Split the number from the unit.
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], strings.ToUpper(strings.TrimSpace(s[i:]))
	if num == "" {
		return 0, newErr(ErrInvalid, "size %q does not start with a number (want e.g. \"10G\")", in)
	}
	mult := int64(1)
	if unit != "" {
		u := strings.TrimSuffix(unit, "B")
		u = strings.TrimSuffix(u, "I")
		switch {
		case u == "" && unit == "B":
			mult = 1
		case len(u) == 1 && sizeUnits[u[0]] > 1:
			mult = sizeUnits[u[0]]
		default:
			return 0, newErr(ErrInvalid, "size %q has unknown unit %q (want B, K, M, G, T or P)", in, s[i:])
		}
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, wrapErr(ErrInvalid, err, "size %q", in)
		}
		if n > math.MaxInt64/mult {
			return 0, newErr(ErrInvalid, "size %q overflows 64 bits", in)
		}
		return n * mult, nil
	}
	if mult == 1 {
		return 0, newErr(ErrInvalid, "size %q: a fraction needs a unit (bytes are whole)", in)
	}
	whole, frac, _ := strings.Cut(num, ".")
	if strings.Contains(frac, ".") || (whole == "" && frac == "") {
		return 0, newErr(ErrInvalid, "size %q is not a number", in)
	}
	if len(frac) > 9 {
		frac = frac[:9] // below a byte for every unit up to P
	}
	var w int64
	if whole != "" {
		var err error
		if w, err = strconv.ParseInt(whole, 10, 64); err != nil {
			return 0, wrapErr(ErrInvalid, err, "size %q", in)
		}
	}
	if w > math.MaxInt64/mult {
		return 0, newErr(ErrInvalid, "size %q overflows 64 bits", in)
	}
	total := w * mult
	if frac != "" {
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, wrapErr(ErrInvalid, err, "size %q", in)
		}
		// mult*f/10^len(frac), exactly, without overflow.
		p := new(big.Int).Mul(big.NewInt(mult), big.NewInt(f))
		p.Quo(p, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
		part := p.Int64()
		if total > math.MaxInt64-part {
			return 0, newErr(ErrInvalid, "size %q overflows 64 bits", in)
		}
		total += part
	}
	return total, nil
}

// FormatSize renders n bytes in the form ParseSize reads: the largest binary
// unit that divides n exactly ("10G", "512M", "1536K"), or plain bytes
// ("1000"). ParseSize(FormatSize(n)) == n for every n >= 0.
func FormatSize(n int64) string {
	if n <= 0 {
		return strconv.FormatInt(n, 10)
	}
	for _, u := range []byte{'P', 'T', 'G', 'M', 'K'} {
		m := sizeUnits[u]
		if n%m == 0 {
			return strconv.FormatInt(n/m, 10) + string(u)
		}
	}
	return strconv.FormatInt(n, 10)
}
