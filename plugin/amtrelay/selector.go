package amtrelay

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// selector holds what the policies of one server block share: the GeoIP
// database, the ranking cache and the random source.
type selector struct {
	geo   *geoDB
	cache *rankCache
	// maxLoadAge makes older load readings unknown (0: they never age).
	maxLoadAge time.Duration
	// rand returns a number in [0, 1). Tests seed it.
	rand func() float64
	// loadGeneration moves on whenever a load source changes a reading.
	loadGeneration atomic.Uint64
}

func newSelector() *selector {
	return &selector{cache: newRankCache(defaultRankCacheSize), rand: rand.Float64}
}
