// Package dnskeytest writes DNSSEC key pairs in BIND's file format (the
// .key and .private files that dnssec-keygen writes and CoreDNS's dnssec
// plugin reads), for tests and examples, with miekg/dns.
package dnskeytest

import (
	"fmt"
	"os"

	"github.com/miekg/dns"
)

// Write generates an ECDSA P-256 key (algorithm 13, RFC 6605) for zone,
// with the SEP flag, as CoreDNS's dnssec plugin uses it alone as a
// combined signing key, and writes base+".key" and base+".private". It
// returns the public key, for trust anchors and DS records.
func Write(base, zone string) (*dns.DNSKEY, error) {
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: dns.Fqdn(zone), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     dns.ZONE | dns.SEP,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := k.Generate(256)
	if err != nil {
		return nil, fmt.Errorf("dnskeytest: generating a key for %s: %w", zone, err)
	}
	if err := os.WriteFile(base+".key", []byte(k.String()+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(base+".private", []byte(k.PrivateKeyString(priv)), 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

// Read reads the public key base+".key".
func Read(base string) (*dns.DNSKEY, error) {
	f, err := os.Open(base + ".key")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rr, err := dns.ReadRR(f, base+".key")
	if err != nil {
		return nil, err
	}
	k, ok := rr.(*dns.DNSKEY)
	if !ok {
		return nil, fmt.Errorf("dnskeytest: %s.key holds a %T, not a DNSKEY", base, rr)
	}
	return k, nil
}
