package gatewayresolver

import "errors"

// Errors returned by the Resolver. Test with errors.Is: most are wrapped
// with the detail of what failed.
var (
	// ErrNoRelay means the source's DRIAD answer holds a type-0 AMTRELAY
	// record: "no AMT relay should be used for multicast traffic from this
	// source" (RFC 8777 §4.2.3). Lookup returns no candidates with it.
	ErrNoRelay = errors.New("the source's operator says: no relay")

	// ErrNoCandidates means no tier produced a usable relay candidate.
	ErrNoCandidates = errors.New("gatewayresolver: no usable relay candidates")

	// ErrAllFailed means every candidate was tried and none answered.
	ErrAllFailed = errors.New("gatewayresolver: no relay answered")

	// ErrChainTooLong means a CNAME/DNAME chain had more links than
	// the limit of 8 allows (RFC 8777 §3.4).
	ErrChainTooLong = errors.New("gatewayresolver: CNAME/DNAME chain too long")

	// ErrCNAMELoop means a CNAME/DNAME chain came back to a name it had
	// already visited.
	ErrCNAMELoop = errors.New("gatewayresolver: CNAME/DNAME loop")

	// ErrNoServers means no DNS server is configured and none could be read
	// from the resolv.conf file.
	ErrNoServers = errors.New("gatewayresolver: no DNS servers")

	// ErrBadSource means the multicast source is not a valid unicast address.
	ErrBadSource = errors.New("gatewayresolver: source is not a unicast IP address")

	// ErrMismatch means a DNS reply does not answer the question asked
	// (wrong question section or not a response), so it was discarded.
	ErrMismatch = errors.New("gatewayresolver: DNS reply does not match the query")

	// ErrRcode means every DNS server answered with an error rcode other
	// than NXDOMAIN, such as SERVFAIL or REFUSED.
	ErrRcode = errors.New("gatewayresolver: DNS server returned an error")

	// ErrBadAdvertisement means a relay advertised an address a gateway
	// cannot use, such as an unspecified or multicast address.
	ErrBadAdvertisement = errors.New("gatewayresolver: relay advertised an unusable address")

	// ErrLimit means a relay answered a Request with the L flag set: it takes
	// no new gateways (RFC 7450 §5.1.4.4, RFC 8777 §3.3.5).
	ErrLimit = errors.New("gatewayresolver: relay is full (L flag set)")

	// ErrSessionStarted means Session.Run was called on a Session that
	// had run before: a Session runs once.
	ErrSessionStarted = errors.New("gatewayresolver: session already started")
)
