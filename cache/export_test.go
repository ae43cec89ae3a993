package cache

import "github.com/HamiGames/lucid-data/lucidkeys"

// Test helpers reachable from package cache_test.
var TestenvSlot = lucidkeys.Slot
