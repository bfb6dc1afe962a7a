package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sessionLine is one line of the long-running gateway's output
// (test/e2e/internal/sessiongw): a Session event, or ("data") the count
// of data packets received through Relay so far.
type sessionLine struct {
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	Relay    string    `json:"relay"`
	From     string    `json:"from"`
	Reason   string    `json:"reason"`
	Received int       `json:"received"`
	Error    string    `json:"error"`
}

// startSessionGateway runs sessiongw in the end user's namespace, through
// its Unbound, for the channel (source, group), until t ends.
func (tb *testbed) startSessionGateway(t *testing.T, source, group string) *proc {
	t.Helper()
	return tb.start(t, nsUser, "gateway (sessiongw)", false, tb.bin["sessiongw"],
		"-server", "127.0.0.1", "-source", source, "-group", group, "-traffic-timeout", "2s")
}

// sessionLines parses what the gateway has written so far; lines that
// are not JSON (its error messages) are skipped.
func sessionLines(p *proc) []sessionLine {
	var out []sessionLine
	for _, s := range strings.Split(p.out.String(), "\n") {
		var l sessionLine
		if strings.HasPrefix(s, "{") && json.Unmarshal([]byte(s), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// firstLine is the first line after (not before) since that satisfies
// match, or nil.
func firstLine(lines []sessionLine, since time.Time, match func(sessionLine) bool) *sessionLine {
	for i := range lines {
		if !lines[i].Time.Before(since) && match(lines[i]) {
			return &lines[i]
		}
	}
	return nil
}

// received is the highest count of data packets through relay reported
// at or after since.
func received(lines []sessionLine, relay string, since time.Time) int {
	n := 0
	for _, l := range lines {
		if l.Event == "data" && l.Relay == relay && !l.Time.Before(since) && l.Received > n {
			n = l.Received
		}
	}
	return n
}
