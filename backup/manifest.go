package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Manifest format identifiers.
const (
	// ManifestFormat names the manifest's format in its "format" field.
	ManifestFormat = "lucid-backup-manifest"
	// ManifestVersion is the version this package writes and the highest
	// it reads.
	ManifestVersion = 1
	// ManifestName is the manifest's object name inside a backup.
	ManifestName = "manifest.json"
	// maxManifestSize bounds what the reader accepts: a manifest lists
	// parts, not data.
	maxManifestSize = 4 << 20
	// maxParts bounds the parts of one backup.
	maxParts = 10000
)

// Manifest describes one complete backup. It is written last, after every
// part succeeded, so a backup exists exactly when its manifest does. It is
// stored in clear JSON (listing backups needs no key) and holds no secret:
// encryption is recorded by kind ("age", "x25519" or "scrypt"), never by key.
type Manifest struct {
	Format         string            `json:"format"`  // ManifestFormat
	Version        int               `json:"version"` // ManifestVersion
	ID             string            `json:"id"`
	Product        string            `json:"product"`         // "lucid-data"
	ProductVersion string            `json:"product_version"` // the module version that wrote it
	Host           string            `json:"host,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	// Permanent backups are never deleted by retention.
	Permanent bool           `json:"permanent,omitempty"`
	Start     time.Time      `json:"start"`
	End       time.Time      `json:"end"`
	Parts     []PartManifest `json:"parts"`
	// Checksum is "sha256:" and the hex SHA-256 of the manifest's JSON
	// encoding with this field empty: an edited manifest fails Verify.
	Checksum string `json:"checksum"`
}

// Digest is the size and SHA-256 of a byte stream.
type Digest struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"` // lower-case hex; empty for a plaintext unless Config.PlainSHA256
}

// PartManifest describes one part: what wrote it, in which format, how it
// is stored and what it holds.
type PartManifest struct {
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`           // "volume", "mongodb", ...
	Format        string            `json:"format"`         // "tar", ...
	FormatVersion int               `json:"format_version"` // of Format, as the source defines it
	Source        string            `json:"source,omitempty"`
	SourceVersion string            `json:"source_version,omitempty"`
	Object        string            `json:"object"`      // object name relative to the backup
	Compression   string            `json:"compression"` // "zstd", "gzip" or "none"
	Level         int               `json:"level,omitempty"`
	Encryption    string            `json:"encryption"`           // "age" or "none"
	Recipients    string            `json:"recipients,omitempty"` // "x25519" or "scrypt": the kind, never the key
	Stored        Digest            `json:"stored"`               // the object's bytes
	Plain         Digest            `json:"plain"`                // the source's stream before compression; SHA-256 only with Config.PlainSHA256
	Records       int64             `json:"records"`
	Counts        map[string]int64  `json:"counts,omitempty"`
	Meta          map[string]string `json:"meta,omitempty"` // what the source records for its restore (e.g. the volume's path)
	// Base is the ID of the backup this part is incremental on; "" when
	// the part is self-contained.
	Base  string    `json:"base,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Part returns the part named name.
func (m *Manifest) Part(name string) (PartManifest, bool) {
	for _, p := range m.Parts {
		if p.Name == name {
			return p, true
		}
	}
	return PartManifest{}, false
}

// Size returns the stored bytes of all parts.
func (m *Manifest) Size() int64 {
	var n int64
	for _, p := range m.Parts {
		n += p.Stored.Size
	}
	return n
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)
	idRE   = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$`)
	hexRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	objRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,200}$`)
)

// ValidName reports whether s can name a part: 1 to 128 of a-z, 0-9, '.',
// '_' and '-', starting with a letter or digit.
func ValidName(s string) bool { return nameRE.MatchString(s) && s != ManifestName }

// ValidID reports whether s has the form of a backup ID
// (20260102T030405Z-0123abcd: its start time in UTC and 32 random bits).
func ValidID(s string) bool { return idRE.MatchString(s) }

func sealChecksum(m *Manifest) ([]byte, error) {
	m.Checksum = ""
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	m.Checksum = "sha256:" + hex.EncodeToString(sum[:])
	return json.MarshalIndent(m, "", "  ")
}

// MarshalManifest returns m's JSON encoding with its checksum set.
func MarshalManifest(m *Manifest) ([]byte, error) {
	c := *m
	b, err := sealChecksum(&c)
	if err != nil {
		return nil, newErr(ErrInvalid, "write manifest", m.ID, "", "%v", err)
	}
	m.Checksum = c.Checksum
	return append(b, '\n'), nil
}

// ParseManifest decodes and checks a manifest: its format and version, its
// checksum, the ID, part names and objects, digests and times. Anything
// else than a well-formed manifest of a known version fails with
// ErrCorrupt (ErrUnsupported for a newer version); the error names what is
// wrong but never echoes more than a short excerpt of the input.
func ParseManifest(b []byte) (*Manifest, error) {
	bad := func(format string, args ...any) error {
		return newErr(ErrCorrupt, "read manifest", "", "", format, args...)
	}
	if len(b) > maxManifestSize {
		return nil, bad("%d bytes, more than %d", len(b), maxManifestSize)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, bad("not JSON: %v", err)
	}
	if dec.More() {
		return nil, bad("data after the manifest")
	}
	if m.Format != ManifestFormat {
		return nil, bad("format %.40q, want %q", m.Format, ManifestFormat)
	}
	if m.Version < 1 {
		return nil, bad("version %d", m.Version)
	}
	if m.Version > ManifestVersion {
		return nil, newErr(ErrUnsupported, "read manifest", "", "", "manifest version %d, this code reads up to %d", m.Version, ManifestVersion)
	}
	if !ValidID(m.ID) {
		return nil, bad("id %.40q", m.ID)
	}
	want := m.Checksum
	c := m
	c.Parts = append([]PartManifest(nil), m.Parts...)
	if _, err := sealChecksum(&c); err != nil {
		return nil, bad("%v", err)
	}
	if want != c.Checksum {
		return nil, &Error{Op: "read manifest", Backup: m.ID, Kind: ErrCorrupt, Msg: "checksum mismatch: the manifest was edited or damaged"}
	}
	if m.Start.IsZero() || m.End.Before(m.Start) {
		return nil, &Error{Op: "read manifest", Backup: m.ID, Kind: ErrCorrupt, Msg: "bad start/end times"}
	}
	if len(m.Parts) > maxParts {
		return nil, &Error{Op: "read manifest", Backup: m.ID, Kind: ErrCorrupt, Msg: fmt.Sprintf("%d parts", len(m.Parts))}
	}
	names := make(map[string]bool, len(m.Parts))
	objects := make(map[string]bool, len(m.Parts))
	for i, p := range m.Parts {
		perr := func(format string, args ...any) error {
			return &Error{Op: "read manifest", Backup: m.ID, Part: p.Name, Kind: ErrCorrupt, Msg: fmt.Sprintf(format, args...)}
		}
		if !ValidName(p.Name) {
			return nil, &Error{Op: "read manifest", Backup: m.ID, Kind: ErrCorrupt, Msg: fmt.Sprintf("part %d: bad name %.40q", i, p.Name)}
		}
		if names[p.Name] {
			return nil, perr("duplicate part name")
		}
		names[p.Name] = true
		if !objRE.MatchString(p.Object) || p.Object == ManifestName || objects[p.Object] {
			return nil, perr("bad object name %.40q", p.Object)
		}
		objects[p.Object] = true
		if p.Kind == "" || p.Format == "" {
			return nil, perr("kind or format missing")
		}
		if _, err := parseCompression(p.Compression); err != nil {
			return nil, perr("compression %.20q", p.Compression)
		}
		if p.Encryption != "age" && p.Encryption != "none" {
			return nil, perr("encryption %.20q", p.Encryption)
		}
		if p.Stored.Size < 0 || !hexRE.MatchString(p.Stored.SHA256) {
			return nil, perr("bad stored digest")
		}
		if p.Plain.Size < 0 || (p.Plain.SHA256 != "" && !hexRE.MatchString(p.Plain.SHA256)) {
			return nil, perr("bad plaintext digest")
		}
		if p.Records < 0 {
			return nil, perr("negative record count")
		}
		for k, v := range p.Counts {
			if v < 0 || k == "" {
				return nil, perr("bad count %.20q", k)
			}
		}
		if p.End.Before(p.Start) {
			return nil, perr("bad start/end times")
		}
		if p.Base != "" && (!ValidID(p.Base) || p.Base == m.ID) {
			return nil, perr("bad base %.40q", p.Base)
		}
	}
	return &m, nil
}
