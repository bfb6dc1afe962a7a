package amtrelay

import "testing"

// TestDamper: flap damping counts rounds, not time. A relay goes down
// after `down` failed rounds in a row and comes back after `up` good ones;
// a lost round between good ones changes nothing; the first round sets
// the state at once.
func TestDamper(t *testing.T) {
	for _, tc := range []struct {
		name     string
		down, up int
		rounds   string // o: a good round, x: a failed one
		want     string // the state after each round: U up, D down
		changed  string // 1 where the round changed (or first set) the state
	}{
		{"first round up", 2, 2, "o", "U", "1"},
		{"first round down at once", 3, 2, "x", "D", "1"},
		{"one lost round is damped", 2, 2, "oxoxo", "UUUUU", "10000"},
		{"down after two in a row", 2, 2, "oxx", "UUD", "101"},
		{"down 3", 3, 2, "oxxxo", "UUUDD", "10010"},
		{"up after two good", 2, 2, "xoo", "DDU", "101"},
		{"a failure resets the good streak", 2, 3, "xooxooo", "DDDDDDU", "1000001"},
		{"up 1", 2, 1, "xo", "DU", "11"},
		{"flapping every round stays down", 2, 2, "xoxoxo", "DDDDDD", "100000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := damper{downAfter: tc.down, upAfter: tc.up}
			var got, changed []byte
			for _, r := range []byte(tc.rounds) {
				v := d.observe(r == 'o')
				got = append(got, map[bool]byte{true: 'D', false: 'U'}[v.down])
				changed = append(changed, map[bool]byte{true: '1', false: '0'}[v.changed])
			}
			if string(got) != tc.want || string(changed) != tc.changed {
				t.Errorf("rounds %s: states %s changed %s, want %s %s", tc.rounds, got, changed, tc.want, tc.changed)
			}
		})
	}
}

// TestDamperStreak: the verdict names the rounds that decided it, for the
// log line.
func TestDamperStreak(t *testing.T) {
	d := damper{downAfter: 3, upAfter: 2}
	d.observe(true)
	d.observe(false)
	d.observe(false)
	if v := d.observe(false); !v.down || v.streak != 3 {
		t.Errorf("down verdict %+v, want streak 3", v)
	}
	d.observe(true)
	if v := d.observe(true); v.down || v.streak != 2 {
		t.Errorf("up verdict %+v, want streak 2", v)
	}
}
