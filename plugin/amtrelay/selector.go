package amtrelay

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// selector holds what the policies of one server block share: the GeoIP
// database, the random source, and the generation of what load orders
// were computed from.
type selector struct {
	geo *geoDB
	// maxLoadAge makes older load readings unknown (0: they never age).
	maxLoadAge time.Duration
	// rand returns a number in [0, 1). Tests seed it.
	rand func() float64
	// generation moves on whenever something a ranking was computed from
	// changes: a relay's health, a load reading, the GeoIP database. It
	// retires least-load's load orders; changed is the one way to move it.
	generation atomic.Uint64
	// located watches how many clients of location policies the GeoIP
	// database places.
	located *locationWatch
}

func newSelector() *selector {
	return &selector{rand: rand.Float64, located: newLocationWatch()}
}

// changed retires every load order computed before it. The background
// workers call it, and only it, when what they watch changes.
func (s *selector) changed() { s.generation.Add(1) }
