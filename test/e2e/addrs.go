package e2e

// The address plan. Every address lives only inside the test bed's
// namespaces; the documentation prefixes (RFC 5737, RFC 3849) name what a
// reader of the seeds would recognise: S1 in 198.51.100.0/24, relays in
// 203.0.113.0/24, the anycast AMT DNS in 192.0.2.0/24. Ports are the
// protocols' own (53, 2268, 9090): each namespace has its own ports, all
// free. README.md draws the same plan.
const (
	// anycastDNS is the AMT DNS address that Network 1 and Network 2
	// both announce; amtDNSName is the name S1's reverse zone is
	// delegated to.
	anycastDNS = "192.0.2.53"
	amtDNSName = "amt-dns.example."

	// source1 is S1, in Network 1; source1v6 is its IPv6 counterpart.
	source1   = "198.51.100.12"
	source1v6 = "2001:db8:100::12"

	// Network 1's relays, and Network 2's.
	relay1a   = "203.0.113.11"
	relay1b   = "203.0.113.12"
	relay1a6  = "2001:db8:113:1::11"
	relay1b6  = "2001:db8:113:1::12"
	relay2a   = "203.0.113.21"
	relay2a6  = "2001:db8:113:2::21"
	relayPort = "2268"

	// AD-2's AMT gateway/relay nodes of RFC 8313 §3.5, in the router:
	// AGAR1 at the peering point, AGAR2 at the edge.
	agar1 = "192.0.2.61"
	agar2 = "192.0.2.62"

	// rootServer is the root, arpa and example authority.
	rootServer = "10.0.2.2"
	// net1NS1 and net1NS2 are Network 1's authority for S1's parent
	// reverse zones (one named, two addresses; scenario f silences the
	// second).
	net1NS1 = "10.1.0.53"
	net1NS2 = "10.1.0.54"
	// prometheusAddr is Network 1's Prometheus; loadExporter the
	// monitoring it scrapes relay loads from.
	prometheusAddr = "10.1.0.90:9090"
	loadExporter   = "127.0.0.1:9101"

	// userAddr is the end user's host: the gateway and Unbound.
	userAddr = "10.0.1.2"
	// Unicast addresses of the three AMT DNS instances (queries,
	// readiness, metrics).
	dns1A = "10.1.1.2"
	dns1B = "10.1.2.2"
	dns2  = "10.0.4.2"

	// S1's own link, a bridge in S1's namespace with the relays' hosts
	// on it: S1 sends multicast there, and each relay joins on its end.
	s1Bridge   = "s1br"
	s1LinkAddr = "10.1.5.1"
	s1LinkV6   = "2001:db8:e2e:15::1"
	// beaconGroup and streamGroup are the channels S1 sends, (S1,
	// 232.1.1.1) the beacon Network 1's instances probe and (S1,
	// 232.1.1.2) the stream the gateway joins in scenario i, both to
	// UDP port dataPort; each relay forwards data sent to that port.
	beaconGroup = "232.1.1.1"
	streamGroup = "232.1.1.2"
	dataPort    = "5001"
	// relayToS1 is the name of each relay host's interface on S1's link.
	relayToS1 = "to-s1"
)

// The namespaces.
const (
	nsUser netns = prefix + "user" // end user: gateway, Unbound
	nsRtr  netns = prefix + "rtr"  // the Internet core, AD-2's border
	nsRoot netns = prefix + "root" // root, arpa., in-addr.arpa., ip6.arpa., example.
	nsNet1 netns = prefix + "net1" // Network 1's core: reverse zone, Prometheus
	nsS1   netns = prefix + "s1"   // S1, the multicast source, on its own link
	nsR1A  netns = prefix + "r1a"  // relay 1a's host: to Network 1's core, and to S1's link
	nsR1B  netns = prefix + "r1b"  // relay 1b's host, the same
	nsN1A  netns = prefix + "n1a"  // Network 1's AMT DNS instance A
	nsN1B  netns = prefix + "n1b"  // Network 1's AMT DNS instance B
	nsNet2 netns = prefix + "net2" // Network 2: its AMT DNS, relay 2a
)

// allNamespaces in the order they are made.
var allNamespaces = []netns{nsUser, nsRtr, nsRoot, nsNet1, nsS1, nsR1A, nsR1B, nsN1A, nsN1B, nsNet2}

// link is one veth pair: a in namespace aNS, b in bNS, a /24 and a /64.
// An end without addresses (bIP "") is a port of a bridge.
type link struct {
	aNS, bNS netns
	a, b     string // interface names
	aIP, bIP string // IPv4
	aV6, bV6 string // IPv6
	plen6    string
}

// links joins the namespaces. Each is made inside its namespaces: no end
// of any pair ever exists in the host's namespace.
var links = []link{
	{nsRtr, nsUser, "to-user", "uplink", "10.0.1.1", userAddr, "2001:db8:e2e:1::1", "2001:db8:e2e:1::2", "64"},
	{nsRtr, nsRoot, "to-root", "uplink", "10.0.2.1", rootServer, "2001:db8:e2e:2::1", "2001:db8:e2e:2::2", "64"},
	{nsRtr, nsNet1, "to-net1", "uplink", "10.0.3.1", "10.0.3.2", "2001:db8:e2e:3::1", "2001:db8:e2e:3::2", "64"},
	{nsRtr, nsNet2, "to-net2", "uplink", "10.0.4.1", dns2, "2001:db8:e2e:4::1", "2001:db8:e2e:4::2", "64"},
	{nsNet1, nsN1A, "to-dns-a", "uplink", "10.1.1.1", dns1A, "2001:db8:e2e:11::1", "2001:db8:e2e:11::2", "64"},
	{nsNet1, nsN1B, "to-dns-b", "uplink", "10.1.2.1", dns1B, "2001:db8:e2e:12::1", "2001:db8:e2e:12::2", "64"},
	{nsNet1, nsR1A, "to-1a", "uplink", "10.1.3.1", "10.1.3.2", "2001:db8:e2e:13::1", "2001:db8:e2e:13::2", "64"},
	{nsNet1, nsR1B, "to-1b", "uplink", "10.1.4.1", "10.1.4.2", "2001:db8:e2e:14::1", "2001:db8:e2e:14::2", "64"},
	// S1's link: one segment (the bridge s1br in S1's namespace) with a
	// port to each relay host, so that one multicast datagram reaches
	// both, and scenario i can cut 1a's path alone.
	{nsR1A, nsS1, relayToS1, "to-1a", "10.1.5.2", "", "2001:db8:e2e:15::2", "", "64"},
	{nsR1B, nsS1, relayToS1, "to-1b", "10.1.5.3", "", "2001:db8:e2e:15::3", "", "64"},
}

// bridge is a Linux bridge in a namespace, its ports (ends of links
// without addresses) and its addresses. Multicast snooping is off: the
// bridge floods multicast to every port.
type bridge struct {
	ns    netns
	name  string
	ports []string
	addrs []string
}

// bridges: S1's link. S1's addresses are on it, and nowhere else: a relay
// host where S1's address were local would drop S1's datagrams as martian.
var bridges = []bridge{
	{nsS1, s1Bridge, []string{"to-1a", "to-1b"}, []string{s1LinkAddr + "/24", source1 + "/32", s1LinkV6 + "/64", source1v6 + "/128"}},
}

// loopbacks are the addresses each namespace holds on lo: services and
// hosts that are not on a link.
var loopbacks = map[netns][]string{
	nsRtr:  {agar1 + "/32", agar2 + "/32"},
	nsNet1: {net1NS1 + "/32", net1NS2 + "/32", "10.1.0.90/32"},
	nsR1A:  {relay1a + "/32", relay1a6 + "/128"},
	nsR1B:  {relay1b + "/32", relay1b6 + "/128"},
	nsN1A:  {anycastDNS + "/32"},
	nsN1B:  {anycastDNS + "/32"},
	nsNet2: {anycastDNS + "/32", relay2a + "/32", relay2a6 + "/128"},
}

// routes are each namespace's routes, as arguments to "ip route add"
// (or "ip -6 route add" when they start with -6).
var routes = map[netns][][]string{
	nsUser: {{"default", "via", "10.0.1.1"}, {"-6", "default", "via", "2001:db8:e2e:1::1"}},
	nsRoot: {{"default", "via", "10.0.2.1"}, {"-6", "default", "via", "2001:db8:e2e:2::1"}},
	nsNet1: {{"default", "via", "10.0.3.1"}, {"-6", "default", "via", "2001:db8:e2e:3::1"},
		// Network 1's anycast instance is A.
		{anycastDNS + "/32", "via", dns1A},
		{relay1a + "/32", "via", "10.1.3.2"}, {"-6", relay1a6 + "/128", "via", "2001:db8:e2e:13::2"},
		{relay1b + "/32", "via", "10.1.4.2"}, {"-6", relay1b6 + "/128", "via", "2001:db8:e2e:14::2"},
		// S1 by 1a's host (unicast only: nothing needs it but a person
		// exploring with ping).
		{source1 + "/32", "via", "10.1.3.2"}, {"-6", source1v6 + "/128", "via", "2001:db8:e2e:13::2"}},
	nsS1: {{"default", "via", "10.1.5.2"}, {"-6", "default", "via", "2001:db8:e2e:15::2"}},
	nsR1A: {{"default", "via", "10.1.3.1"}, {"-6", "default", "via", "2001:db8:e2e:13::1"},
		{source1 + "/32", "via", s1LinkAddr}, {"-6", source1v6 + "/128", "via", s1LinkV6}},
	nsR1B: {{"default", "via", "10.1.4.1"}, {"-6", "default", "via", "2001:db8:e2e:14::1"},
		{source1 + "/32", "via", s1LinkAddr}, {"-6", source1v6 + "/128", "via", s1LinkV6}},
	nsN1A:  {{"default", "via", "10.1.1.1"}, {"-6", "default", "via", "2001:db8:e2e:11::1"}},
	nsN1B:  {{"default", "via", "10.1.2.1"}, {"-6", "default", "via", "2001:db8:e2e:12::1"}},
	nsNet2: {{"default", "via", "10.0.4.1"}, {"-6", "default", "via", "2001:db8:e2e:4::1"}},
	nsRtr: {
		{"10.1.0.0/16", "via", "10.0.3.2"},
		{"198.51.100.0/24", "via", "10.0.3.2"},
		{"203.0.113.0/28", "via", "10.0.3.2"},
		{"203.0.113.16/28", "via", dns2},
		{"-6", "2001:db8:100::/48", "via", "2001:db8:e2e:3::2"},
		{"-6", "2001:db8:113:1::/64", "via", "2001:db8:e2e:3::2"},
		{"-6", "2001:db8:e2e:10::/60", "via", "2001:db8:e2e:3::2"},
		{"-6", "2001:db8:113:2::/64", "via", "2001:db8:e2e:4::2"},
		// The anycast address, announced by both networks: Network 1
		// is nearer (scenario b changes that, g withdraws it).
		anycastVia1, anycastVia2,
	},
}

// The router's two anycast routes.
var (
	anycastVia1 = []string{anycastDNS + "/32", "via", "10.0.3.2", "metric", "10"}
	anycastVia2 = []string{anycastDNS + "/32", "via", dns2, "metric", "20"}
)

// forwarders are the namespaces that route between their links.
var forwarders = []netns{nsRtr, nsNet1, nsR1A, nsR1B}

// noRPFilter are the namespaces where reverse-path filtering is off, so
// that S1's multicast, arriving on S1's link, is never dropped by a
// reverse-path check of a host whose default route leads elsewhere.
var noRPFilter = []netns{nsR1A, nsR1B}
