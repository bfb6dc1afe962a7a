package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writePdns writes a PowerDNS Authoritative configuration directory that
// answers amt.N.100.51.198.in-addr.arpa A with a LUA record,
// pickclosest() over the relays' addresses, which PowerDNS locates by
// looking them up in the City database (the geoip backend), as it locates
// the client (ECS when present: edns-subnet-processing). The zone is
// served by the bind backend.
func writePdns(dir, db string, port int, relays []Relay) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var addrs []string
	for _, r := range relays {
		addrs = append(addrs, "'"+r.Addr.String()+"'")
	}
	var zone strings.Builder
	zone.WriteString("$TTL 30\n@ SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 1 7200 1800 1209600 30\n@ NS amt-dns.example.net.\n")
	for i := range 256 {
		fmt.Fprintf(&zone, "amt.%d LUA A \"pickclosest({%s})\"\n", i, strings.Join(addrs, ","))
	}
	files := map[string]string{
		"zone":       zone.String(),
		"named.conf": fmt.Sprintf("zone %q { type master; file %q; };\n", seedZone, filepath.Join(dir, "zone")),
		"geo.yaml":   "domains: []\n",
		"pdns.conf": strings.Join([]string{
			"launch=bind,geoip",
			"bind-config=" + filepath.Join(dir, "named.conf"),
			"geoip-database-files=mmdb:" + db,
			"geoip-zones-file=" + filepath.Join(dir, "geo.yaml"),
			"enable-lua-records=yes",
			"edns-subnet-processing=yes",
			"local-address=127.0.0.1",
			fmt.Sprintf("local-port=%d", port),
			"socket-dir=" + dir,
			"guardian=no",
			"daemon=no",
			"disable-syslog=yes",
			"loglevel=3",
			"receiver-threads=1",
			"security-poll-suffix=", // no security poll: it queries the internet
			"webserver=no",
			"api=no",
			"",
		}, "\n"),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
