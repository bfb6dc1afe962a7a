package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// zonefileText is one zone file for BIND and the plugin: every relay type
// with D=0 and D=1 (and "no relay"), as operators keep AMTRELAY records in
// BIND zone files.
func zonefileText(serial int) string {
	var zone strings.Builder
	fmt.Fprintf(&zone, "$ORIGIN 100.51.198.in-addr.arpa.\n$TTL 30\n@ SOA amt-dns.example.net. hostmaster.amt-dns.example.net. %d 7200 1800 1209600 30\n@ NS amt-dns.example.net.\n", serial)
	for _, tc := range allTypes {
		fmt.Fprintf(&zone, "%s AMTRELAY %s\n", strings.Split(tc.source, ".")[3], tc.relay)
	}
	return zone.String()
}

// zonefileCorefile serves path with the plugin, and nothing else of the
// zone.
func zonefileCorefile(path string) string {
	return fmt.Sprintf(`.:0 {
    bind 127.0.0.1
    amtrelay 100.51.198.in-addr.arpa. {
        zonefile %s {
            reload 50ms
        }
        ns amt-dns.example.net.
    }
}`, path)
}

// TestZonefileLikeBIND: the same zone file served by BIND and by the
// plugin's zonefile gives byte-identical RDATA for all four relay types,
// with D=0 and D=1, over UDP and TCP. (The file plugin would break D=1:
// TestStockFileD1Broken.)
func TestZonefileLikeBIND(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.100.51.198")
	if err := os.WriteFile(path, []byte(zonefileText(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	bind := testenv.StartNamed(t, map[string]string{"100.51.198.in-addr.arpa.": zonefileText(1)})
	udp, tcp := startCoreDNS(t, zonefileCorefile(path))
	for _, tc := range allTypes {
		for _, c := range []struct{ network, ours string }{{"udp", udp}, {"tcp", tcp}} {
			m := new(dns.Msg).SetQuestion(reverse(t, tc.source), dns.TypeAMTRELAY)
			want := rdataHex(t, query(t, c.network, bind, m))
			r := query(t, c.network, c.ours, m)
			got := rdataHex(t, r)
			if len(want) != 1 || len(got) != 1 || got[0] != want[0] || !r.Authoritative {
				t.Errorf("%s over %s: plugin RDATA %v (AA %v), named %v", tc.relay, c.network, got, r.Authoritative, want)
			}
			if len(r.Answer) == 1 && r.Answer[0].Header().Ttl != 30 {
				t.Errorf("%s: TTL %d, want the file's 30", tc.relay, r.Answer[0].Header().Ttl)
			}
		}
	}
	// Names the file does not have are NXDOMAIN; other types NODATA.
	if r := query(t, "udp", udp, new(dns.Msg).SetQuestion("99.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)); r.Rcode != dns.RcodeNameError {
		t.Errorf("a name not in the file: %s", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, "udp", udp, new(dns.Msg).SetQuestion(reverse(t, "198.51.100.1"), dns.TypeTXT)); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("TXT at an owner: %s %v", dns.RcodeToString[r.Rcode], r.Answer)
	}
}

// TestZonefileReloadsOnSerial: a new file is served when its SOA serial
// grows, and not while it does not, as with the file plugin.
func TestZonefileReloadsOnSerial(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.100.51.198")
	if err := os.WriteFile(path, []byte(zonefileText(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	udp, _ := startCoreDNS(t, zonefileCorefile(path))
	first := func() string {
		got := relayStrings(t, query(t, "udp", udp, new(dns.Msg).SetQuestion(reverse(t, "198.51.100.1"), dns.TypeAMTRELAY)))
		if len(got) != 1 {
			return ""
		}
		return got[0]
	}
	replace := func(text string) {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	changed := strings.Replace(zonefileText(1), "1 AMTRELAY 10 0 1 203.0.113.15", "1 AMTRELAY 20 0 1 203.0.113.99", 1)
	replace(changed) // the same serial: not reloaded
	replace(strings.Replace(changed, " 1 7200 ", " 2 7200 ", 1))
	testenv.Eventually(t, "serial 2 served", func() bool { return first() == "20 0 1 203.0.113.99" })
}

// TestZonefileRefusesOtherTypes: a record of another type stops the
// server at startup, with the file and line.
func TestZonefileRefusesOtherTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.100.51.198")
	text := zonefileText(1) + "9 PTR host.example.net.\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(text, "\n")
	_, err := ctestServer(zonefileCorefile(path))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d", path, line)) || !strings.Contains(err.Error(), "a PTR record") {
		t.Errorf("err %v, want %s:%d and the PTR named", err, path, line)
	}
}
