package cache

import "github.com/HamiGames/lucid-data/lucidkeys"

// Test helpers reachable from package cache_test.
var TestenvSlot = lucidkeys.Slot

// TestenvSessionIndexKey returns the key of userID's session index.
func TestenvSessionIndexKey(userID string) string {
	k, _, err := userIndexKey(userID)
	if err != nil {
		panic(err)
	}
	return k
}

// TestenvReportOf is reportOf, for tests of a partly unreachable Cluster.
var TestenvReportOf = reportOf

// TestenvRedisLog logs a line through the router go-redis logs through.
var TestenvRedisLog = redisLogs.Printf
