// Package bench is a nested module holding benchmarks of lucid-data side by
// side with peer libraries (raw go-redis, redis_rate, redislock, the raw mongo
// driver, esutil.BulkIndexer, ...). It is its own module so the peers never
// enter lucid-data's go.mod. Run from this directory:
//
//	go test -run='^$' -bench=. -count=6 ./... | tee bench.txt && benchstat bench.txt
package bench
