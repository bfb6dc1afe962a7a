package gatewayresolver

import (
	"context"
	"net/netip"
)

// seedCandidates looks up A and AAAA records at amt.<reverse name>, the
// procedure DRIAD grew out of, for networks that still deploy it. Its
// candidates need Relay Discovery and have no precedence.
func (s *session) seedCandidates(ctx context.Context, reverse string) ([]Candidate, error) {
	name := "amt." + reverse
	addrs, err := s.resolveName(ctx, name)
	if err != nil {
		return nil, err
	}
	port := s.r.port()
	out := make([]Candidate, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, Candidate{Addr: netip.AddrPortFrom(a, port), Tier: TierSeed, Name: name})
	}
	return out, nil
}
