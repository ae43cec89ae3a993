//go:build race

package mongostore_test

// raceEnabled: the race detector slows the in-process FerretDB (SQLite
// transpiled to Go) about tenfold.
const raceEnabled = true
