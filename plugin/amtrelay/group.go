package amtrelay

// group is what one `source` directive configures: the relays that have
// multicast connectivity to its prefixes and how to choose among them.
type group struct {
	// relays serve the group's prefixes, in Corefile order.
	relays []*relay
	// noRelay answers "0 0 0 .": do not use AMT for these sources.
	noRelay bool
	policy  policy
	// answer caps the number of relays in an answer; 0 means all.
	answer int
	pos    position
}

// choice is one relay placed in an answer, with the precedence it gets.
type choice struct {
	relay      *relay
	precedence uint8
}
