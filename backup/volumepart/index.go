package volumepart

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The reserved members of a format-2 part. Their names start with the
// volume package's reserved prefix and hold no "/", so volume.Extract skips
// them (as it skips a volume's own files) and volume.Archive never archives
// a file of such a name from a volume.
const (
	// DeletedMember lists, NUL-separated, the paths to remove before this
	// part's entries are extracted: what the base held that is gone, or
	// whose type changed. It is the part's first member (empty in a
	// self-contained part).
	DeletedMember = ".lucid-volume-part.deleted"
	// IndexMember is the second member: the entries this part stores,
	// with the metadata the next incremental compares (see the package
	// doc for its lines).
	IndexMember = ".lucid-volume-part.index"
	// SumsMember is the last member: the SHA-256 of every regular file
	// this part stores, in sha256sum's format, so `sha256sum -c` checks
	// an extraction.
	SumsMember = ".lucid-volume-part.sums"
)

const (
	indexMagic   = "lucid-volume-index"
	indexVersion = 1
)

// entry is one name of the tree as the index records it.
type entry struct {
	path   string // relative, slash-separated, no leading "./"
	typ    byte   // 'd' directory, 'f' regular file, 'l' symlink
	mode   uint32 // permission bits with setuid, setgid, sticky (07777)
	uid    uint32
	gid    uint32
	size   int64 // regular files
	mtime  int64 // ns since the epoch
	ctime  int64 // ns since the epoch: any change of the inode moves it
	dev    uint64
	ino    uint64
	nlink  uint64
	target string // symlink target
	link   string // regular file: the first name of its inode in the tree when it has several ("" for the first)
	racy   bool   // its ctime is too close to the scan to prove a later change would move it
}

// same reports whether e and o describe the same, unchanged inode under
// the same name.
func (e *entry) same(o *entry) bool {
	return e.path == o.path && e.typ == o.typ && e.mode == o.mode && e.uid == o.uid && e.gid == o.gid &&
		e.size == o.size && e.mtime == o.mtime && e.ctime == o.ctime && e.dev == o.dev && e.ino == o.ino &&
		e.nlink == o.nlink && e.target == o.target && e.link == o.link
}

// index is what a part's IndexMember holds.
type index struct {
	base    string // the backup ID this part is incremental on, "" for none
	scanned int64  // ns since the epoch: when the scan began
	entries []entry
}

// appendEntry encodes one index line:
//
//	<type> <mode octal> <uid> <gid> <size> <mtime ns> <ctime ns> <dev> <ino> <nlink> <flags> <path> [<target or link>]
//
// path and target quoted as Go string literals (strconv.Quote), so any
// byte of a name survives; flags is "-" or "r" (racy).
func appendEntry(b []byte, e *entry) []byte {
	b = append(b, e.typ, ' ')
	b = strconv.AppendUint(b, uint64(e.mode), 8)
	for _, v := range []uint64{uint64(e.uid), uint64(e.gid)} {
		b = append(b, ' ')
		b = strconv.AppendUint(b, v, 10)
	}
	for _, v := range []int64{e.size, e.mtime, e.ctime} {
		b = append(b, ' ')
		b = strconv.AppendInt(b, v, 10)
	}
	for _, v := range []uint64{e.dev, e.ino, e.nlink} {
		b = append(b, ' ')
		b = strconv.AppendUint(b, v, 10)
	}
	if e.racy {
		b = append(b, " r "...)
	} else {
		b = append(b, " - "...)
	}
	b = strconv.AppendQuote(b, e.path)
	switch {
	case e.typ == 'l':
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.target)
	case e.link != "":
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.link)
	}
	return append(b, '\n')
}

// encode returns the member's bytes: a header, one line per entry and an
// end line with the count and the SHA-256 of everything before it, so a
// damaged index is refused rather than trusted.
func (x *index) encode() []byte {
	var b []byte
	b = fmt.Appendf(b, "%s %d\nbase %s\nscanned %d\n", indexMagic, indexVersion, orDash(x.base), x.scanned)
	for i := range x.entries {
		b = appendEntry(b, &x.entries[i])
	}
	sum := sha256.Sum256(b)
	return fmt.Appendf(b, "end %d %s\n", len(x.entries), hex.EncodeToString(sum[:]))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// maxIndexLine bounds one index line: two quoted names of at most 4 KiB
// each, escaped, and the numbers.
const maxIndexLine = 64 << 10

// parseIndex decodes an IndexMember.
func parseIndex(r io.Reader) (*index, error) {
	h := sha256.New()
	br := bufio.NewReaderSize(r, 64<<10)
	line := func() (string, error) {
		s, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return "", fmt.Errorf("index line longer than %d bytes", maxIndexLine)
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		return string(s[:len(s)-1]), nil
	}
	next := func() (string, error) {
		s, err := line()
		if err == nil {
			h.Write([]byte(s + "\n"))
		}
		return s, err
	}
	x := &index{}
	s, err := next()
	if err != nil {
		return nil, err
	}
	if s != fmt.Sprintf("%s %d", indexMagic, indexVersion) {
		return nil, fmt.Errorf("not an index of version %d: %.40q", indexVersion, s)
	}
	if s, err = next(); err != nil {
		return nil, err
	}
	base, ok := strings.CutPrefix(s, "base ")
	if !ok {
		return nil, fmt.Errorf("index: bad base line %.40q", s)
	}
	if base != "-" {
		x.base = base
	}
	if s, err = next(); err != nil {
		return nil, err
	}
	sc, ok := strings.CutPrefix(s, "scanned ")
	if !ok {
		return nil, fmt.Errorf("index: bad scanned line %.40q", s)
	}
	if x.scanned, err = strconv.ParseInt(sc, 10, 64); err != nil {
		return nil, fmt.Errorf("index: bad scan time %.40q", sc)
	}
	for {
		sum := h.Sum(nil)
		s, err := line()
		if err != nil {
			return nil, err
		}
		if rest, ok := strings.CutPrefix(s, "end "); ok {
			want := fmt.Sprintf("%d %s", len(x.entries), hex.EncodeToString(sum))
			if rest != want {
				return nil, fmt.Errorf("index: end line %.80q does not match its %d entries", s, len(x.entries))
			}
			if _, err := br.ReadByte(); err != io.EOF {
				return nil, fmt.Errorf("index: data after its end line")
			}
			return x, nil
		}
		h.Write([]byte(s + "\n"))
		e, err := parseEntry(s)
		if err != nil {
			return nil, fmt.Errorf("index entry %d: %w", len(x.entries)+1, err)
		}
		x.entries = append(x.entries, e)
	}
}

func parseEntry(s string) (entry, error) {
	var e entry
	f := strings.SplitN(s, " ", 12)
	if len(f) != 12 || len(f[0]) != 1 || !strings.ContainsAny(f[0], "dfl") {
		return e, fmt.Errorf("malformed line %.60q", s)
	}
	e.typ = f[0][0]
	var nums [9]uint64
	for i := range nums {
		var err error
		switch i {
		case 0:
			nums[i], err = strconv.ParseUint(f[1+i], 8, 32)
		case 1, 2:
			nums[i], err = strconv.ParseUint(f[1+i], 10, 32)
		case 3, 4, 5: // size and times are signed
			var n int64
			n, err = strconv.ParseInt(f[1+i], 10, 64)
			nums[i] = uint64(n)
		default:
			nums[i], err = strconv.ParseUint(f[1+i], 10, 64)
		}
		if err != nil {
			return e, fmt.Errorf("malformed field %d in %.60q", i+2, s)
		}
	}
	e.mode, e.uid, e.gid = uint32(nums[0]), uint32(nums[1]), uint32(nums[2])
	e.size, e.mtime, e.ctime = int64(nums[3]), int64(nums[4]), int64(nums[5])
	e.dev, e.ino, e.nlink = nums[6], nums[7], nums[8]
	if e.mode > 0o7777 || (e.typ == 'f' && e.size < 0) {
		return e, fmt.Errorf("out of range in %.60q", s)
	}
	switch f[10] {
	case "r":
		e.racy = true
	case "-":
	default:
		return e, fmt.Errorf("bad flags in %.60q", s)
	}
	rest := f[11]
	p, rest, err := unquotePrefix(rest)
	if err != nil {
		return e, fmt.Errorf("bad path in %.60q: %w", s, err)
	}
	e.path = p
	if err := checkRel(p); err != nil {
		return e, err
	}
	if rest != "" {
		if rest[0] != ' ' {
			return e, fmt.Errorf("malformed line %.60q", s)
		}
		t, tail, err := unquotePrefix(rest[1:])
		if err != nil || tail != "" {
			return e, fmt.Errorf("bad target in %.60q", s)
		}
		switch e.typ {
		case 'l':
			e.target = t
		case 'f':
			if err := checkRel(t); err != nil {
				return e, err
			}
			e.link = t
		default:
			return e, fmt.Errorf("a directory with a target in %.60q", s)
		}
	} else if e.typ == 'l' {
		return e, fmt.Errorf("a symlink without a target in %.60q", s)
	}
	return e, nil
}

// unquotePrefix reads one Go string literal at the start of s.
func unquotePrefix(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", err
	}
	v, err := strconv.Unquote(q)
	return v, s[len(q):], err
}

// checkRel refuses what no scan writes: an empty, absolute or dot-dot name.
// Extraction applies its own rules; this keeps a damaged index from
// steering deletions.
func checkRel(p string) error {
	if p == "" || p[0] == '/' || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("bad name %.60q", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("bad name %.60q", p)
		}
	}
	return nil
}

// encodeDeleted joins paths with NUL bytes, each one ended by one (what
// `xargs -0` reads).
func encodeDeleted(paths []string) []byte {
	var b []byte
	for _, p := range paths {
		b = append(b, p...)
		b = append(b, 0)
	}
	return b
}

func parseDeleted(b []byte) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[len(b)-1] != 0 {
		return nil, fmt.Errorf("deletion list not NUL-terminated")
	}
	parts := bytes.Split(b[:len(b)-1], []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
		if err := checkRel(out[i]); err != nil {
			return nil, fmt.Errorf("deletion list: %w", err)
		}
	}
	return out, nil
}

// appendSum writes one sha256sum line; like GNU sha256sum, a name holding a
// backslash, a newline or a carriage return is escaped and the line starts
// with a backslash.
func appendSum(b []byte, sum []byte, name string) []byte {
	esc := strings.ContainsAny(name, "\\\n\r")
	if esc {
		b = append(b, '\\')
		name = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r").Replace(name)
	}
	b = hex.AppendEncode(b, sum)
	b = append(b, ' ', ' ')
	b = append(b, name...)
	return append(b, '\n')
}

// sumLine is one parsed SumsMember line.
type sumLine struct {
	name string
	sum  string // hex
}

func parseSums(b []byte) ([]sumLine, error) {
	var out []sumLine
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, fmt.Errorf("sums: last line not ended")
		}
		l := string(b[:i])
		b = b[i+1:]
		esc := strings.HasPrefix(l, "\\")
		if esc {
			l = l[1:]
		}
		if len(l) < 67 || l[64:66] != "  " {
			return nil, fmt.Errorf("sums: malformed line %.80q", l)
		}
		if _, err := hex.DecodeString(l[:64]); err != nil {
			return nil, fmt.Errorf("sums: malformed line %.80q", l)
		}
		name := l[66:]
		if esc {
			var sb strings.Builder
			for j := 0; j < len(name); j++ {
				if name[j] == '\\' && j+1 < len(name) {
					j++
					switch name[j] {
					case 'n':
						sb.WriteByte('\n')
					case 'r':
						sb.WriteByte('\r')
					default:
						sb.WriteByte(name[j])
					}
					continue
				}
				sb.WriteByte(name[j])
			}
			name = sb.String()
		}
		out = append(out, sumLine{name: name, sum: l[:64]})
	}
	return out, nil
}

// cmpPath orders names as a walk does (each directory's names sorted, a
// directory's contents right after it): byte order with "/" below every
// other byte, which no name element holds.
func cmpPath(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		if ca < cb {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

// partStats is what writeTree wrote, as a part's counts.
type partStats struct {
	files, dirs, symlinks, links, bytes int64
	deleted                             int64 // paths in the deletion list
	members                             int64 // reserved members
	vanished                            int64 // listed entries gone before they could be read
}
