// Package pair measures an SDK operation against its peer's with the two
// interleaved in one benchmark loop.
//
// Separate sub-benchmarks run minutes apart; on a small shared machine a
// load spike, a server's warm-up or a growing data set then lands on one
// side only, and spreads of ±20 % hide a 5 % overhead. Interleaving puts
// both sides under the same conditions, iteration by iteration, in
// alternating order so neither always runs on a connection the other has
// just warmed.
package pair

import (
	"sync/atomic"
	"testing"
	"time"
)

// Run runs sdk and peer once per iteration of b (alternating which goes
// first) and reports sdk-ns/op, peer-ns/op and overhead-% (the SDK's total
// time over the peer's, minus one, in percent); ns/op is the pair. i counts
// iterations from 0.
func Run(b *testing.B, sdk, peer func(i int) error) {
	b.Helper()
	var sdkT, peerT time.Duration
	timed := func(f func(int) error, i int, into *time.Duration) {
		t0 := time.Now()
		if err := f(i); err != nil {
			b.Fatal(err)
		}
		*into += time.Since(t0)
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			timed(sdk, i, &sdkT)
			timed(peer, i, &peerT)
		} else {
			timed(peer, i, &peerT)
			timed(sdk, i, &sdkT)
		}
		i++
	}
	report(b, int64(i), sdkT, peerT)
}

// report puts the mean time of each side over n iterations and the SDK's
// overhead on b.
func report(b *testing.B, n int64, sdkT, peerT time.Duration) {
	if n == 0 || peerT == 0 {
		return
	}
	b.ReportMetric(float64(sdkT.Nanoseconds())/float64(n), "sdk-ns/op")
	b.ReportMetric(float64(peerT.Nanoseconds())/float64(n), "peer-ns/op")
	b.ReportMetric((float64(sdkT)/float64(peerT)-1)*100, "overhead-%")
}

// RunParallel is Run from p goroutines per GOMAXPROCS (b.SetParallelism),
// for operations measured under concurrency. Besides sdk-ns/op, peer-ns/op
// (mean latencies) and overhead-%, it reports pairs/s: completed
// iterations, each one SDK and one peer operation, per second.
func RunParallel(b *testing.B, p int, sdk, peer func(i int) error) {
	b.Helper()
	var sdkT, peerT, iters atomic.Int64
	b.SetParallelism(p)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(iters.Add(1))
			first, second, firstT, secondT := sdk, peer, &sdkT, &peerT
			if i%2 == 1 {
				first, second, firstT, secondT = peer, sdk, &peerT, &sdkT
			}
			t0 := time.Now()
			if err := first(i); err != nil {
				b.Error(err)
				return
			}
			t1 := time.Now()
			if err := second(i); err != nil {
				b.Error(err)
				return
			}
			firstT.Add(int64(t1.Sub(t0)))
			secondT.Add(int64(time.Since(t1)))
		}
	})
	n := iters.Load()
	if n > 0 {
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "pairs/s")
	}
	report(b, n, time.Duration(sdkT.Load()), time.Duration(peerT.Load()))
}
