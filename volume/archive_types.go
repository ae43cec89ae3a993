package volume

// ArchiveStats counts what an archive or an extraction held.
type ArchiveStats struct {
	Files    int64 // regular files
	Dirs     int64 // directories (the top directory not included)
	Symlinks int64 // symbolic links
	Links    int64 // hard links to files already in the stream
	Bytes    int64 // file content bytes
	Skipped  int64 // entries left out: sockets, fifos and devices on archive; the package's own files on extract
}

// ExtractOptions bounds an extraction. The zero value means no limits
// beyond the safety rules, which always apply.
type ExtractOptions struct {
	// MaxBytes caps the space the extracted entries take on disk (0: no
	// cap); passing it fails with ErrQuotaExceeded. Each entry created is
	// charged what the filesystem allocated for it (st_blocks × 512) or
	// its size rounded up to the filesystem's block size, whichever is
	// more, and at least one block: directories, empty files, symlinks and
	// hard links count, not only file contents. A file is checked against
	// the cap with the size in its header before any of it is written.
	MaxBytes int64
	// MaxEntries caps the number of entries (0: no cap); passing it fails
	// with ErrCorrupt.
	MaxEntries int64
	// PreserveOwner sets owner and group from the archive (needs root).
	PreserveOwner bool
}
