package amtrelay

import (
	"fmt"
	"slices"
	"strings"
)

// policy orders one source's relays for one query. Lower precedence
// values are tried first (RFC 8777 §4.2.1); equal values let gateways
// choose at random (§3.1.2). Each source has its own policy value, made by
// its kind's constructor, and the policy keeps whatever state it needs
// (cumulative weights, a load order) itself; never per-process state that
// answers depend on (draw.go).
type policy interface {
	rank(q *query) ranking
}

// policyKind is one row of the policy table: what the Corefile keyword
// selects.
type policyKind struct {
	// locates is set for policies that rank by where the client is. The
	// client is then located (GeoIP) before ranking, and answers depend on
	// the client: the ECS scope says how far they hold, and the cache
	// plugin must not share them. Other policies pay no GeoIP lookup.
	locates bool
	// answer is how many relays an answer holds unless the Corefile says
	// (`answer N`); 0 means every relay of the source.
	answer int
	// parse checks the keyword's arguments and returns the policy's
	// description (as explain shows it) and its constructor.
	parse func(args []string) (text string, build policyBuilder, err error)
}

// policyBuilder makes the policy of one source, once its relays are known.
// It refuses a source the policy cannot serve, with an error that says
// what to change.
type policyBuilder func(g *group) (policy, error)

// policies maps each `policy` keyword to its kind. Adding a policy is one
// file with its type and constructor, and one row here; see the package
// documentation.
var policies = map[string]policyKind{
	"static":      {answer: 0, parse: noArgs("static", newStaticPolicy)},
	"failover":    {answer: defaultAnswer, parse: noArgs("failover", newFailoverPolicy)},
	"round-robin": {answer: defaultAnswer, parse: noArgs("round-robin", newRoundRobinPolicy)},
	"weighted":    {answer: defaultAnswer, parse: noArgs("weighted", newWeightedPolicy)},
	"closest":     {answer: defaultAnswer, locates: true, parse: noArgs("closest", newClosestPolicy)},
	"least-load":  {answer: defaultAnswer, locates: true, parse: noArgs("least-load", newLeastLoadPolicy)},
	"spill-over":  {answer: defaultAnswer, locates: true, parse: parseSpillOver},
}

// defaultAnswer is how many relays ranking policies answer with.
const defaultAnswer = 3

// noArgs is the parse function of a policy that takes no arguments.
func noArgs(name string, build policyBuilder) func([]string) (string, policyBuilder, error) {
	return func(args []string) (string, policyBuilder, error) {
		if len(args) != 0 {
			return "", nil, fmt.Errorf("policy %s takes no arguments", name)
		}
		return name, build, nil
	}
}

// policyNames lists the policy keywords, sorted; with locates false,
// only those that do not depend on the client.
func policyNames(all bool) []string {
	var out []string
	for name, k := range policies {
		if all || !k.locates {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// policySpec is a checked `policy` line: which kind, as the Corefile said
// it, and how to build it for a source.
type policySpec struct {
	name  string // the keyword: the metric label
	text  string // with its arguments, for explain
	kind  policyKind
	build policyBuilder
}

// spec is the policySpec of the kind with no arguments.
func (k policyKind) spec(name string) policySpec {
	text, build, err := k.parse(nil)
	if err != nil {
		panic("policy " + name + " needs arguments: " + err.Error())
	}
	return policySpec{name: name, text: text, kind: k, build: build}
}

// parsePolicySpec reads the arguments of a `policy` line.
func parsePolicySpec(args []string) (policySpec, error) {
	k, ok := policies[args[0]]
	if !ok {
		return policySpec{}, fmt.Errorf("unknown policy '%s' (want one of: %s)", args[0], strings.Join(policyNames(true), ", "))
	}
	text, build, err := k.parse(args[1:])
	if err != nil {
		return policySpec{}, err
	}
	return policySpec{name: args[0], text: text, kind: k, build: build}, nil
}

// noRelayPolicy is the policy of a source configured `none`: every answer
// is "0 0 0 ." (RFC 8777 §4.2.3), and no client is located for it. It is
// no `policy` keyword: the source keeps its configured policy's name in
// metrics.
type noRelayPolicy struct{}

func (noRelayPolicy) rank(*query) ranking { return ranking{noRelay: true, configured: true} }
