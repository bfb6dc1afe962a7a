package main

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/gatewayresolver"
)

// jsonReport is the one JSON object amtdiscover writes with -json.
type jsonReport struct {
	Source      string          `json:"source"`
	ReverseName string          `json:"reverse_name"`
	Candidates  []jsonCandidate `json:"candidates"`
	NoRelay     bool            `json:"no_relay"`
	Rcode       *string         `json:"rcode"`
	Notes       []string        `json:"notes"`
	Error       *string         `json:"error"`
	ExitStatus  int             `json:"exit_status"`
	*jsonRace
}

// jsonRace is what -connect adds.
type jsonRace struct {
	Relay     *string         `json:"relay"`
	RelayPort *uint16         `json:"relay_port"`
	Relays    []jsonCandidate `json:"relays,omitempty"`
	Attempts  []jsonAttempt   `json:"attempts"`
	*jsonJoin
}

type jsonCandidate struct {
	Address           *string `json:"address"`
	Port              *uint16 `json:"port"`
	Tier              string  `json:"tier"`
	Precedence        *int    `json:"precedence"`
	Priority          *int    `json:"priority,omitempty"`
	Weight            *int    `json:"weight,omitempty"`
	DiscoveryOptional bool    `json:"discovery_optional"`
	Name              *string `json:"name"`
	TTL               *uint32 `json:"ttl"`
	Usable            bool    `json:"usable"`
	Reason            string  `json:"reason"`
}

type jsonAttempt struct {
	Address   string  `json:"address"`
	Port      uint16  `json:"port"`
	StartedMS int64   `json:"started_ms"`
	EndedMS   int64   `json:"ended_ms"`
	Outcome   string  `json:"outcome"`
	Relay     *string `json:"relay"`
	Error     *string `json:"error"`
}

func ptr[T any](v T) *T { return &v }

func report(source netip.Addr, res *gatewayresolver.Result, race *gatewayresolver.Race, connect bool, err error, code int) jsonReport {
	j := jsonReport{
		Source: source.String(), ReverseName: res.ReverseName, NoRelay: res.NoRelay,
		Candidates: candidatesJSON(res.Candidates), Notes: []string{}, ExitStatus: code,
	}
	if res.Rcode >= 0 {
		j.Rcode = ptr(dns.RcodeToString[res.Rcode])
	}
	for _, n := range res.Notes {
		j.Notes = append(j.Notes, oneLine(n.String()))
	}
	if err != nil && code != exitOK {
		j.Error = ptr(strings.TrimPrefix(oneLine(err.Error()), "gatewayresolver: "))
	}
	if !connect {
		return j
	}
	j.jsonRace = &jsonRace{Attempts: []jsonAttempt{}}
	if len(race.Winners) > 0 {
		w := race.Winners[0]
		j.Relay, j.RelayPort = ptr(w.Relay.Addr().String()), ptr(w.Relay.Port())
	}
	if len(race.Winners) > 1 {
		for _, w := range race.Winners {
			c := w.Candidate
			c.Addr = w.Relay
			j.Relays = append(j.Relays, candidatesJSON([]gatewayresolver.Candidate{c})...)
		}
	}
	for _, a := range race.Attempts {
		ja := jsonAttempt{
			Address: a.Candidate.Addr.Addr().String(), Port: a.Candidate.Addr.Port(),
			StartedMS: a.Started.Milliseconds(), EndedMS: a.Ended.Milliseconds(), Outcome: string(a.Outcome),
		}
		if a.Relay.IsValid() {
			ja.Relay = ptr(a.Relay.String())
		}
		if a.Err != nil {
			ja.Error = ptr(oneLine(a.Err.Error()))
		}
		j.Attempts = append(j.Attempts, ja)
	}
	return j
}

func candidatesJSON(cands []gatewayresolver.Candidate) []jsonCandidate {
	out := make([]jsonCandidate, 0, len(cands))
	for _, c := range cands {
		j := jsonCandidate{
			Tier: c.Tier.String(), DiscoveryOptional: c.DiscoveryOptional,
			Usable: c.Usable, Reason: c.Reason,
		}
		if c.Addr.IsValid() {
			j.Address, j.Port = ptr(c.Addr.Addr().String()), ptr(c.Addr.Port())
		}
		if c.Name != "" {
			j.Name = ptr(c.Name)
		}
		if c.Tier != gatewayresolver.TierAnycast {
			j.TTL = ptr(c.TTL)
		}
		switch c.Tier {
		case gatewayresolver.TierDRIAD:
			j.Precedence = ptr(int(c.Precedence))
		case gatewayresolver.TierDNSSD:
			j.Priority, j.Weight = ptr(int(c.Priority)), ptr(int(c.Weight))
		}
		out = append(out, j)
	}
	return out
}
