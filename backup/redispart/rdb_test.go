package redispart

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/backup"
)

func TestCRC64Jones(t *testing.T) {
	// The check value of CRC-64/Jones (redis's crc64.c test vector).
	if got := crcUpdate(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 %016x", got)
	}
	if got := crcUpdate(crcUpdate(0, []byte("1234")), []byte("56789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 in two steps %016x", got)
	}
}

func TestLZF(t *testing.T) {
	// "abcabcabcabc": 3 literals, then a back reference of 9 bytes at distance 3.
	in := []byte{2, 'a', 'b', 'c', 7 << 5, 0, 2}
	if out, ok := lzfDecompress(in, 12); !ok || string(out) != "abcabcabcabc" {
		t.Fatalf("%q %v", out, ok)
	}
	for _, bad := range [][]byte{{5, 'a'}, {1 << 5, 9}, {0xE0}, {0, 'a', 0x20}} {
		if _, ok := lzfDecompress(bad, 12); ok {
			t.Errorf("%v decoded", bad)
		}
	}
}

// sample is an RDB written by rdbWriter with keys of several encodings
// built by hand (a plain string, an int-encoded one, a hash as plain
// pairs, a zset2, a quicklist2 and an empty stream of layout 3).
func sample(t testing.TB, version int) []byte {
	t.Helper()
	var b bytes.Buffer
	w := newRDBWriter(&b)
	w.header(version, map[string]string{"redis-ver": "7.0.15"})
	w.key([]byte("s"), typeString, appendString(nil, []byte("value")), 0)
	w.key([]byte("i"), typeString, []byte{0xC0, 42}, 1<<41)
	w.key([]byte("h"), typeHash, appendString(appendString(appendLength(nil, 1), []byte("f")), []byte("v")), 0)
	z := appendString(appendLength(nil, 1), []byte("m"))
	z = binary.LittleEndian.AppendUint64(z, 0x3FF0000000000000)
	w.key([]byte("z"), typeZset2, z, 0)
	q := appendString(appendLength(appendLength(nil, 1), 2), []byte("listpack-bytes"))
	w.key([]byte("l"), typeListQuicklist2, q, 0)
	st := appendLength(nil, 0)                      // no listpacks
	st = append(st, 0, 0, 0, 0, 0, 0, 0, 0)         // length, last id, first id, max deleted, added
	st = append(st, 1)                              // one group
	st = appendString(st, []byte("g"))              // its name
	st = append(st, 0, 0, 0)                        // last id, entries read
	st = append(st, 1)                              // one pending entry
	st = append(st, make([]byte, 24)...)            // raw id, delivery time
	st = append(st, 1)                              // delivery count
	st = append(st, 1)                              // one consumer
	st = appendString(st, []byte("c"))              // name
	st = append(st, make([]byte, 16)...)            // seen, active time
	st = append(append(st, 1), make([]byte, 16)...) // its pending id
	w.key([]byte("x"), typeStream3, st, 0)
	if err := w.finish(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRDBRoundTripNoServer(t *testing.T) {
	data := sample(t, 11)
	f, err := openRDB(bytes.NewReader(data), true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for {
		k, err := f.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, string(k.Key))
		p := dumpPayload(k.Type, k.Value, f.Version)
		typ, v, ver, err := splitDump(p)
		if err != nil || typ != k.Type || !bytes.Equal(v, k.Value) || ver != 11 {
			t.Fatalf("payload of %q: %v", k.Key, err)
		}
		if string(k.Key) == "i" && k.ExpireMS != 1<<41 {
			t.Fatalf("expiry %d", k.ExpireMS)
		}
	}
	if strings.Join(names, ",") != "s,i,h,z,l,x" {
		t.Fatalf("keys %v", names)
	}
	st, err := Count(context.Background(), bytes.NewReader(data))
	if err != nil || st.Records != 6 || st.Counts["expires"] != 1 || st.Counts["stream"] != 1 || st.Counts["string"] != 2 {
		t.Fatalf("count %+v %v", st, err)
	}
}

func TestRDBErrors(t *testing.T) {
	ctx := context.Background()
	good := sample(t, 10)
	bad := func(data []byte, kind error, want string) {
		t.Helper()
		_, err := Count(ctx, bytes.NewReader(data))
		if !errors.Is(err, kind) || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want %v with %q", err, kind, want)
		}
	}
	bad(good[:len(good)-3], backup.ErrCorrupt, "truncated")
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-1] ^= 1
	bad(flipped, backup.ErrCorrupt, "checksum")
	bad([]byte("REDIS0099"), backup.ErrUnsupported, "RDB version 99")
	bad([]byte("NOTRDB001"), backup.ErrCorrupt, "no REDIS magic")
	// A module value after a good key: refused, naming it.
	var b bytes.Buffer
	w := newRDBWriter(&b)
	w.header(10, nil)
	w.key([]byte("s"), typeString, appendString(nil, []byte("v")), 0)
	w.key([]byte("m"), typeModule2, []byte{1, 2, 3}, 0)
	_ = w.finish()
	bad(b.Bytes(), backup.ErrUnsupported, "module value (type 7)")
	b.Reset()
	w = newRDBWriter(&b)
	w.header(10, nil)
	w.key([]byte("u"), 42, nil, 0)
	_ = w.finish()
	bad(b.Bytes(), backup.ErrUnsupported, "unknown value type 42")
}

// FuzzRDBReader feeds arbitrary bytes to the RDB reader: it may fail but
// must not panic or allocate without bound.
func FuzzRDBReader(f *testing.F) {
	f.Add(sample(f, 10))
	f.Add(sample(f, 11))
	f.Add([]byte("REDIS0010\xfe\x00\xff"))
	f.Add([]byte("REDIS0010\xfa\x09redis-ver\x067.0.15\xfb\x01\x00\x00\x01k\xc3\x02\x05\x00\x01ab\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Count(context.Background(), bytes.NewReader(data))
		if fl, err := openRDB(bytes.NewReader(data), true); err == nil {
			for {
				if _, err := fl.next(); err != nil {
					break
				}
			}
		}
	})
}
