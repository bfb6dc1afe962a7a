package amtrelay

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coredns/caddy"
)

// position is where a directive sits in the Corefile, so that errors found
// after parsing still name the file and line.
type position struct {
	file string
	line int
}

func posOf(c *caddy.Controller) position { return position{file: c.File(), line: c.Line()} }

// errorf formats an error the way caddy's c.Errf does, for this position.
func (p position) errorf(format string, args ...any) error {
	return errors.New(fmt.Sprintf("%s:%d - Error during parsing: ", p.file, p.line) + fmt.Sprintf(format, args...))
}

// nestedBlock calls property for each line of a "{ ... }" block that opens
// on the current line, if there is one. caddy's NextBlock alone cannot tell
// a nested block from the next line of the enclosing one.
func nestedBlock(c *caddy.Controller, property func() error) error {
	peek := c.Dispenser // a copy: reading ahead in it moves nothing in c
	if !peek.NextArg() || peek.Val() != "{" {
		return nil
	}
	for c.NextBlock() {
		if err := property(); err != nil {
			return err
		}
	}
	return nil
}

// parseDuration reads a property's single duration argument.
func parseDuration(c *caddy.Controller, least time.Duration) (time.Duration, error) {
	prop := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < least {
		return 0, c.Errf("%s '%s' must be a duration of at least %s, such as 1s or 500ms", prop, args[0], least)
	}
	return d, nil
}

// parseCount reads a property's single count argument, 1 to 100.
func parseCount(c *caddy.Controller) (int, error) {
	prop := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 100 {
		return 0, c.Errf("%s '%s' must be a number from 1 to 100", prop, args[0])
	}
	return n, nil
}
