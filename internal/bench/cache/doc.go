// Package cachebench benchmarks package cache side by side with its peers
// on the same Redis server: raw go-redis for Cache Get/Set, redis_rate/v10
// for the Limiter, bsm/redislock for the Locker. Point it at a server with
// LUCID_TEST_REDIS_URL (otherwise testenv starts one):
//
//	go test -run='^$' -bench=. -count=6 ./cache/ | tee /tmp/cache-bench.txt
//	benchstat /tmp/cache-bench.txt
package cachebench
