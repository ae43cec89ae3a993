//go:build linux

package volume

import (
	"archive/tar"
	"bufio"
	"context"
	"io"
	"io/fs"
)

// Archive writes the contents of dir to w as a tar stream (PAX format):
// directories, regular files, symlinks and hard links, with permission bits,
// modification times (to the nanosecond), owner ids and link targets.
// Sockets, fifos and device files are skipped, as are the package's own
// files at the top of dir (metadata, manifest). Entries are in lexical
// order, so the same tree gives the same stream. w is not closed; it may
// compress or encrypt. Archive stops with ctx's error when ctx is cancelled.
func Archive(ctx context.Context, dir string, w io.Writer) (ArchiveStats, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	a := &archiver{tw: newTarOut(bw), buf: make([]byte, 256<<10)}
	err := newTreeWalker(ctx, &WalkOptions{SkipReserved: true}, a.entry).run(dir)
	if err == nil {
		err = a.tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return a.st, ioErr(err, "archive %s", dir)
	}
	return a.st, nil
}

// archiver writes one tree as the walker (see Walk) visits it: entries
// reached relative to their directory's descriptor, never by a full path
// and never through a symlink, so the cost per file is the four system
// calls stat, open, read and close.
type archiver struct {
	tw  *tarOut
	buf []byte
	st  ArchiveStats
}

// entry writes the walk's entry e.
func (a *archiver) entry(e *WalkEntry) error {
	hdr := tar.Header{
		Name:    e.Path,
		Mode:    int64(e.Perm),
		Uid:     int(e.Uid),
		Gid:     int(e.Gid),
		ModTime: e.ModTime,
		Format:  tar.FormatPAX,
	}
	switch e.Type {
	case fs.ModeDir:
		hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
		a.st.Dirs++
		return a.tw.WriteHeader(&hdr)
	case fs.ModeSymlink:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Target
		if err := a.tw.WriteHeader(&hdr); err != nil {
			return err
		}
		a.st.Symlinks++
		return nil
	case 0:
		if e.Link != "" {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, e.Link
			a.st.Links++
			return a.tw.WriteHeader(&hdr)
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, e.Size
		if err := a.tw.WriteHeader(&hdr); err != nil {
			return err
		}
		a.st.Files++
		return a.file(e)
	default:
		a.st.Skipped++
		return nil
	}
}

// file copies the e.Size bytes of the regular file e into the archive.
func (a *archiver) file(e *WalkEntry) error {
	f, err := e.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	var n int64
	for n < e.Size {
		k, err := f.Read(a.buf[:min(int64(len(a.buf)), e.Size-n)])
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if _, err := a.tw.Write(a.buf[:k]); err != nil {
			return err
		}
		n += int64(k)
	}
	a.st.Bytes += n
	if n != e.Size {
		return newErr(ErrCorrupt, "archive %s: file shrank from %d to %d bytes while archived", e.dir+"/"+e.Name, e.Size, n)
	}
	return nil
}
