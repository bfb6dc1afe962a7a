package amtrelay

import (
	"slices"
	"testing"
)

func TestRoundRobinAndFailover(t *testing.T) {
	rr := startedHandler(t, `amtrelay {
		relay a 192.0.2.1
		relay b 192.0.2.2
		relay c 192.0.2.3
		source 198.51.100.0/24
		policy round-robin
		answer 2
	}`, nil)
	var firsts []string
	for range 4 {
		firsts = append(firsts, order(t, ask(t, rr, "198.51.100.1", "127.0.0.1", ""))[0])
	}
	if !slices.Equal(firsts, []string{"0 192.0.2.1", "0 192.0.2.2", "0 192.0.2.3", "0 192.0.2.1"}) {
		t.Errorf("round-robin firsts %q", firsts)
	}
	fo := startedHandler(t, `amtrelay {
		relay a 192.0.2.1
		relay b 192.0.2.2 {
			drain
		}
		relay c 192.0.2.3
		source 198.51.100.0/24
		policy failover
	}`, nil)
	if got := order(t, ask(t, fo, "198.51.100.1", "127.0.0.1", "")); !slices.Equal(got, []string{"0 192.0.2.1", "1 192.0.2.3"}) {
		t.Errorf("failover with b drained: %q", got)
	}
}
