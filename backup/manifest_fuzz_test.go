package backup

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzManifest feeds ParseManifest arbitrary bytes: it must never panic,
// must fail with ErrCorrupt or ErrUnsupported only, and what it accepts
// must re-encode to a manifest it accepts again, identical.
func FuzzManifest(f *testing.F) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &Manifest{Format: ManifestFormat, Version: ManifestVersion, ID: "20260102T030405Z-0123abcd",
		Product: "lucid-data", ProductVersion: "devel", Start: t0, End: t0.Add(time.Second),
		Parts: []PartManifest{{Name: "volume-data", Kind: "volume", Format: "tar", FormatVersion: 1,
			Object: "volume-data.tar.zst.age", Compression: "zstd", Level: 3, Encryption: "age", Recipients: "x25519",
			Stored:  Digest{Size: 10, SHA256: "0000000000000000000000000000000000000000000000000000000000000000"},
			Plain:   Digest{Size: 20, SHA256: "1111111111111111111111111111111111111111111111111111111111111111"},
			Records: 3, Counts: map[string]int64{"files": 2, "dirs": 1}, Meta: map[string]string{"dir": "/data/x"},
			Start: t0, End: t0.Add(time.Second)}}}
	good, err := MarshalManifest(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format":"lucid-backup-manifest","version":2}`))
	f.Add(bytes.Replace(good, []byte(`"records": 3`), []byte(`"records": 4`), 1))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		again, err := MarshalManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseManifest(again)
		if err != nil {
			t.Fatalf("re-encoded manifest refused: %v\n%s", err, again)
		}
		if m2.Checksum != m.Checksum || len(m2.Parts) != len(m.Parts) {
			t.Fatalf("round trip changed the manifest")
		}
	})
}
