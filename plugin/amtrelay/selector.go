package amtrelay

import (
	"sync/atomic"
	"time"
)

// selector holds what the policies of one server block share: the GeoIP
// database, the clock and time bucket that draws derive from (draw.go),
// and the generation of what load orders were computed from.
type selector struct {
	geo *geoDB
	// maxLoadAge makes older load readings unknown (0: they never age).
	maxLoadAge time.Duration
	// bucket is how long a rotation or draw holds for a name before it
	// moves on: the answer TTL, so that every instance of a fleet moves
	// at the same moment (draw.go).
	bucket time.Duration
	// now is the clock of ServeDNS; tests set it.
	now func() time.Time
	// generation moves on whenever something a ranking was computed from
	// changes: a relay's health, a load reading, the GeoIP database. It
	// retires least-load's load orders; changed is the one way to move it.
	generation atomic.Uint64
	// located watches how many clients of location policies the GeoIP
	// database places.
	located *locationWatch
}

func newSelector() *selector {
	return &selector{bucket: defaultTTL * time.Second, now: time.Now, located: newLocationWatch()}
}

// changed retires every load order computed before it. The background
// workers call it, and only it, when what they watch changes.
func (s *selector) changed() { s.generation.Add(1) }
