package amtrelay

import (
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// lastFirstPolicy is a throwaway policy, added the way the package doc
// says a new policy is: one type with its constructor (here, in this test
// file) and one row in the policies table (the init below). It lists the
// eligible relays in reverse Corefile order.
type lastFirstPolicy struct{}

func newLastFirstPolicy(*group) (policy, error) { return lastFirstPolicy{}, nil }

func (lastFirstPolicy) rank(q *query) ranking {
	var cs []candidate
	for i := len(q.group.relays) - 1; i >= 0 && len(cs) < q.group.limit; i-- {
		if r := q.group.relays[i]; q.eligible(r) {
			cs = append(cs, candidate{relay: r, distanceKm: math.NaN(), utilisation: math.NaN(), score: float64(len(cs))})
		}
	}
	assignPrecedence(cs)
	return ranking{chosen: cs}
}

func init() {
	policies["last-first"] = policyKind{answer: 2, parse: noArgs("last-first", newLastFirstPolicy)}
}

// TestAddedPolicyServes: the throwaway policy is selected by its keyword
// in a Corefile, takes its default answer size from its row, and serves.
func TestAddedPolicyServes(t *testing.T) {
	a := newTestHandler(t, `amtrelay {
		relay a 192.0.2.1
		relay b 192.0.2.2
		relay c 192.0.2.3 {
			drain
		}
		source 198.51.100.0/24
		policy last-first
	}`)
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "")); !slices.Equal(got, []string{"0 192.0.2.2", "1 192.0.2.1"}) {
		t.Errorf("last-first answered %q", got)
	}
	if _, err := parseCorefile("amtrelay {\nrelay a 192.0.2.1\nsource 198.51.100.0/24\npolicy last-first 3\n}"); err == nil || !strings.Contains(err.Error(), "policy last-first takes no arguments") {
		t.Errorf("arguments to last-first: %v", err)
	}
}

// TestPolicyListsFollowTheTable: the parser's error, the cache check's
// list and the README's Policies section name the policies of the table,
// no more, no fewer.
func TestPolicyListsFollowTheTable(t *testing.T) {
	builtIn := slices.DeleteFunc(policyNames(true), func(n string) bool { return n == "last-first" })
	_, err := parseCorefile("amtrelay {\nrelay a 192.0.2.1\nsource 198.51.100.0/24\npolicy nearest\n}")
	if err == nil || !strings.Contains(err.Error(), "want one of: "+strings.Join(policyNames(true), ", ")) {
		t.Errorf("unknown policy error: %v", err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	section = section[strings.Index(section, "### Policies"):]
	section = section[:strings.Index(section[1:], "\n### ")+1]
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\* `([a-z-]+)").FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(documented)
	if !slices.Equal(documented, builtIn) {
		t.Errorf("README's Policies section lists %q, the table has %q", documented, builtIn)
	}
	var independent []string
	for _, n := range policyNames(false) {
		if n != "last-first" {
			independent = append(independent, n)
		}
	}
	if want := "use a policy that does not depend on the client (" + strings.Join(independent, ", ") + ")"; !strings.Contains(string(readme), want) {
		t.Errorf("README's Caching section does not show the cache check's list: %s", want)
	}
}
