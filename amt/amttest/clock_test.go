package amttest

import (
	"slices"
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	c := NewManualClock()
	start := c.Now()
	var got []string
	c.AfterFunc(2*time.Second, func() { got = append(got, "2s@"+c.Now().Sub(start).String()) })
	stopped := c.AfterFunc(time.Second, func() { got = append(got, "stopped") })
	c.AfterFunc(time.Second, func() {
		got = append(got, "1s@"+c.Now().Sub(start).String())
		// A timer set by a timer, due within the same Advance, runs too.
		c.AfterFunc(500*time.Millisecond, func() { got = append(got, "1.5s@"+c.Now().Sub(start).String()) })
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop")
	}
	c.Advance(3 * time.Second)
	want := []string{"1s@1s", "1.5s@1.5s", "2s@2s"}
	if !slices.Equal(got, want) || !c.Now().Equal(start.Add(3*time.Second)) || len(c.Pending()) != 0 {
		t.Errorf("ran %v at %v, want %v", got, c.Now().Sub(start), want)
	}
}
