package gatewayresolver

import (
	"math/rand/v2"
	"time"
)

// backoff returns the timeout for retry n (0 for the first try) of RFC 8777
// §3.5: a random duration in [initial, min(initial·2^n, max)], drawn with
// int64n. With the defaults of 1 s and 120 s the first try waits 1 s, the
// second 1-2 s, the third 1-4 s, and so on up to 1-120 s.
func backoff(n int, initial, maxd time.Duration, int64n func(int64) int64) time.Duration {
	if initial <= 0 {
		return 0
	}
	if maxd < initial {
		maxd = initial
	}
	hi := maxd
	// initial<<n overflows for large n; past the cap it no longer matters.
	if n >= 0 && n < 62 && initial <= maxd>>n {
		hi = initial << n
	}
	if hi <= initial {
		return initial
	}
	return initial + time.Duration(int64n(int64(hi-initial)+1))
}

// int64n is the random source of DNS back-off. It is never Resolver.Rand, so
// retries do not change the tie-break sequence tests inject.
var int64n = rand.Int64N
