package backup_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"syscall"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
)

// BenchmarkGzip compares the gzip encoders on the pipeline benchmark's
// mixed data (64 MiB, in memory, to io.Discard): the standard library,
// klauspost/compress/gzip (one core, what Gzip used) and klauspost/pgzip
// (1 MiB blocks compressed on every core). Metrics: MB/s of input and
// cpu-s/op, the CPU time it took; ratio, output over input.
func BenchmarkGzip(b *testing.B) {
	var data bytes.Buffer
	if err := mixedData(&data, 64<<20, 1); err != nil {
		b.Fatal(err)
	}
	encoders := []struct {
		name string
		new  func(w io.Writer, level int) (io.WriteCloser, error)
	}{
		{"stdlib", func(w io.Writer, l int) (io.WriteCloser, error) { return stdgzip.NewWriterLevel(w, l) }},
		{"klauspost", func(w io.Writer, l int) (io.WriteCloser, error) { return kgzip.NewWriterLevel(w, l) }},
		{"pgzip", func(w io.Writer, l int) (io.WriteCloser, error) { return pgzip.NewWriterLevel(w, l) }},
	}
	for _, level := range []int{1, 6} {
		for _, e := range encoders {
			b.Run(fmt.Sprintf("level=%d/%s", level, e.name), func(b *testing.B) {
				b.SetBytes(int64(data.Len()))
				var out countWriter
				c0 := cpuTime(syscall.RUSAGE_SELF)
				n := 0
				for b.Loop() {
					out = 0
					w, err := e.new(&out, level)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := w.Write(data.Bytes()); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
					n++
				}
				b.ReportMetric((cpuTime(syscall.RUSAGE_SELF)-c0).Seconds()/float64(n), "cpu-s/op")
				b.ReportMetric(float64(out)/float64(data.Len()), "ratio")
			})
		}
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
