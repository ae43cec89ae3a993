package volume

import (
	"archive/tar"
	"bufio"
	"errors"
	"path"
	"strconv"
)

// tarOut writes Archive's entries. archive/tar spends ~7 µs on each PAX
// header (format negotiation, maps, fmt), more than the four system calls
// that read a small file. So the common header — a regular file, directory,
// symlink or hard link with an ASCII name and link target of at most 100
// bytes, ids below 2^21, a size below 8 GiB and a modification time in
// [1970, 2242) — is encoded here, byte for byte as tar.Writer encodes it (a
// PAX "mtime" record when the time has nanoseconds, then a USTAR block).
// Anything else goes through tar.Writer itself. TestTarOutMatchesArchiveTar
// holds the two encodings together.
type tarOut struct {
	tw *tar.Writer
	bw *bufio.Writer // tw's destination

	fast      bool  // the current entry was written here, not by tw
	remaining int64 // content bytes the current fast entry still expects
	pad       int64 // zero bytes that end the current fast entry's content

	blk [blockSize]byte
	ext []byte // PAX extended header content
}

const blockSize = 512

var errTarWriteTooLong = errors.New("archive/tar: write too long")

func newTarOut(bw *bufio.Writer) *tarOut {
	return &tarOut{tw: tar.NewWriter(bw), bw: bw}
}

// WriteHeader starts an entry, as tar.Writer.WriteHeader.
func (o *tarOut) WriteHeader(h *tar.Header) error {
	if err := o.endEntry(); err != nil {
		return err
	}
	if !fastHeader(h) {
		o.fast = false
		return o.tw.WriteHeader(h)
	}
	sec, nsec := h.ModTime.Unix(), h.ModTime.Nanosecond()
	if nsec != 0 {
		// formatPAXTime for secs >= 0, then formatPAXRecord.
		v := strconv.AppendInt(o.ext[:0], sec, 10)
		v = append(v, '.')
		frac := strconv.AppendInt(make([]byte, 0, 16), int64(nsec)+1e9, 10)[1:] // 9 digits
		for len(frac) > 0 && frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		v = append(v, frac...)
		const key = "mtime"
		size := len(key) + len(v) + 3
		size += len(strconv.Itoa(size))
		if n := len(strconv.Itoa(size)) + 1 + len(key) + 1 + len(v) + 1; n != size {
			size = n
		}
		rec := make([]byte, 0, size)
		rec = strconv.AppendInt(rec, int64(size), 10)
		rec = append(rec, ' ')
		rec = append(rec, key...)
		rec = append(rec, '=')
		rec = append(rec, v...)
		rec = append(rec, '\n')
		o.ext = v[:0]

		dir, file := path.Split(h.Name)
		name := path.Join(dir, "PaxHeaders.0", file)
		if len(name) > 100 {
			name = name[:100]
		}
		for len(name) > 0 && name[len(name)-1] == '/' {
			name = name[:len(name)-1]
		}
		b := &o.blk
		*b = [blockSize]byte{}
		copy(b[0:100], name)
		octal(b[100:108], 0)
		octal(b[108:116], 0)
		octal(b[116:124], 0)
		octal(b[124:136], int64(len(rec)))
		octal(b[136:148], 0)
		b[156] = tar.TypeXHeader
		if _, err := o.bw.Write(o.finishBlock()); err != nil {
			return err
		}
		if _, err := o.bw.Write(rec); err != nil {
			return err
		}
		if _, err := o.bw.Write(zeroBlock[:padding(int64(len(rec)))]); err != nil {
			return err
		}
	}
	b := &o.blk
	*b = [blockSize]byte{}
	copy(b[0:100], h.Name)
	octal(b[100:108], h.Mode)
	octal(b[108:116], int64(h.Uid))
	octal(b[116:124], int64(h.Gid))
	octal(b[124:136], h.Size)
	octal(b[136:148], sec)
	b[156] = h.Typeflag
	copy(b[157:257], h.Linkname)
	octal(b[329:337], 0) // devmajor
	octal(b[337:345], 0) // devminor
	if _, err := o.bw.Write(o.finishBlock()); err != nil {
		return err
	}
	o.fast, o.remaining = true, 0
	if h.Typeflag == tar.TypeReg {
		o.remaining = h.Size
	}
	o.pad = padding(o.remaining)
	return nil
}

// Write writes content of the current entry, as tar.Writer.Write.
func (o *tarOut) Write(p []byte) (int, error) {
	if !o.fast {
		return o.tw.Write(p)
	}
	if int64(len(p)) > o.remaining {
		n, err := o.bw.Write(p[:o.remaining])
		o.remaining -= int64(n)
		if err == nil {
			err = errTarWriteTooLong
		}
		return n, err
	}
	n, err := o.bw.Write(p)
	o.remaining -= int64(n)
	return n, err
}

// Close ends the archive (not the underlying writer), as tar.Writer.Close.
func (o *tarOut) Close() error {
	if err := o.endEntry(); err != nil {
		return err
	}
	return o.tw.Close()
}

// endEntry pads the current entry's content to a block.
func (o *tarOut) endEntry() error {
	if !o.fast {
		return o.tw.Flush()
	}
	if o.remaining > 0 {
		return errors.New("archive/tar: missed writing " + strconv.FormatInt(o.remaining, 10) + " bytes")
	}
	_, err := o.bw.Write(zeroBlock[:o.pad])
	o.fast, o.pad = false, 0
	return err
}

// finishBlock sets the USTAR magic and version and the checksum of o.blk.
func (o *tarOut) finishBlock() []byte {
	b := &o.blk
	copy(b[257:263], "ustar\x00")
	copy(b[263:265], "00")
	var sum int64
	for i, c := range b {
		if 148 <= i && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	octal(b[148:155], sum)
	b[155] = ' '
	return b[:]
}

var zeroBlock [blockSize]byte

func padding(n int64) int64 { return -n & (blockSize - 1) }

// octal writes x as zero-padded octal digits and a NUL filling field (x
// fits: fastHeader checked).
func octal(field []byte, x int64) {
	i := len(field) - 1
	field[i] = 0
	for i > 0 {
		i--
		field[i] = byte('0' + x&7)
		x >>= 3
	}
}

// fastHeader reports whether tarOut encodes h itself: the fields Archive
// sets, within the limits where tar.Writer needs no PAX record but "mtime".
func fastHeader(h *tar.Header) bool {
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	default:
		return false
	}
	if h.Format != tar.FormatPAX || h.Uname != "" || h.Gname != "" || h.Devmajor != 0 || h.Devminor != 0 ||
		!h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || len(h.PAXRecords) != 0 {
		return false
	}
	//lint:ignore SA1019 a header with (deprecated) Xattrs needs tar.Writer's records
	if len(h.Xattrs) != 0 {
		return false
	}
	if !shortASCII(h.Name) || h.Name == "" || !shortASCII(h.Linkname) {
		return false
	}
	if h.Typeflag == tar.TypeReg && h.Name[len(h.Name)-1] == '/' {
		return false // tar.Writer refuses it
	}
	const oct7, oct11 = 1 << 21, 1 << 33 // fit in 8- and 12-byte octal fields
	if h.Mode < 0 || h.Mode >= oct7 || h.Uid < 0 || h.Uid >= oct7 || h.Gid < 0 || h.Gid >= oct7 || h.Size < 0 || h.Size >= oct11 {
		return false
	}
	if h.ModTime.IsZero() {
		return false
	}
	sec := h.ModTime.Unix()
	return sec >= 0 && sec < oct11
}

// shortASCII reports whether s fits a 100-byte name field unchanged: at most
// 100 bytes, all ASCII and none NUL.
func shortASCII(s string) bool {
	if len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}
