// Package benchdata generates the data the backup benchmarks run on, so that
// the core pipeline's and each part's benchmarks measure the same bytes.
package benchdata

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"time"
)

// MixedData writes n bytes of what a Lucid host holds: JSON-ish log lines
// (compressible) interleaved with random blocks (encrypted chunks, images).
func MixedData(w io.Writer, n int64, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(seed, 7))
	words := []string{"session", "user", "chunk", "block", "anchor", "tron", "policy", "rdp", "node", "peer"}
	rnd := make([]byte, 64<<10)
	var written int64
	for written < n {
		if r.IntN(8) == 0 {
			for i := range rnd {
				rnd[i] = byte(r.Uint32())
			}
			k := min(int64(len(rnd)), n-written)
			bw.Write(rnd[:k])
			written += k
			continue
		}
		for i := 0; i < 400 && written < n; i++ {
			line := fmt.Sprintf(`{"ts":%d,"level":"info","%s_id":"%016x","event":"%s.%s","bytes":%d}`+"\n",
				1767225600000+int64(r.IntN(1<<30)), words[r.IntN(10)], r.Uint64(), words[r.IntN(10)], words[r.IntN(10)], r.IntN(1<<20))
			k := min(int64(len(line)), n-written)
			bw.WriteString(line[:k])
			written += k
		}
	}
	return bw.Flush()
}

// CPUTime returns the user+system CPU time of this process (who =
// syscall.RUSAGE_SELF) or of its waited-for children (RUSAGE_CHILDREN): on
// a loaded machine wall time favours the side running more threads (a CLI
// pipeline's processes), CPU time much less.
func CPUTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
