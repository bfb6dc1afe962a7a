package amtrelay

// allDownAction is what to answer for a source whose relays are all down
// or drained.
type allDownAction int

const (
	// allDownFailOpen answers with the relays anyway, ranked as if all
	// were up: a gateway may still reach one, and probing may be wrong.
	// The default.
	allDownFailOpen allDownAction = iota
	// allDownNoRelay answers "0 0 0 .": no AMT relay for this source.
	allDownNoRelay
	// allDownServfail answers SERVFAIL, so resolvers try another server.
	allDownServfail
)

var allDownKeywords = map[string]allDownAction{
	"fail-open": allDownFailOpen,
	"no-relay":  allDownNoRelay,
	"servfail":  allDownServfail,
}
