package corebuild

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"

	"github.com/amtrelay/amtrelay/plugin/amtrelay"

	"github.com/coredns/caddy"
	"github.com/coredns/caddy/caddyfile"
	clog "github.com/coredns/coredns/plugin/pkg/log"
)

// A Corefile read while an editor or `sed … > Corefile` is rewriting it can
// be momentarily empty. Stock CoreDNS then "reloads" into caddy's default
// configuration, whoami on :53: every zone gone, and no reload plugin left
// to recover. This build reads the Corefile itself and refuses one with no
// server block, at startup and at every reload (SIGUSR1 and the reload
// plugin both load through the loader that loaded the first Corefile); the
// running configuration keeps serving.
//
// CoreDNS's own -conf loader cannot be wrapped, and caddy refuses a
// Corefile that two loaders return, so TakeConf takes -conf off the
// command line before CoreDNS reads it, and this build's loader reads the
// file instead.

var (
	confMu    sync.Mutex
	confPath  string // the Corefile this build's loader reads; "" before TakeConf
	confTaken bool
)

var log = clog.NewWithPlugin("corebuild")

func init() {
	caddy.RegisterCaddyfileLoader("amtrelay-corefile", caddy.LoaderFunc(loadCorefile))
}

// TakeConf removes -conf FILE (or -conf=FILE, with one or two dashes) from
// args, the command line, and has this build's loader read FILE, or the
// Corefile in the current directory when there is no -conf, as CoreDNS
// would. It leaves -conf stdin to CoreDNS. It returns the command line for
// CoreDNS.
func TakeConf(args []string) []string {
	path := caddy.DefaultConfigFile
	stdin := false
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "conf" {
			out = append(out, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				out = append(out, a) // let CoreDNS's flag parsing report it
				continue
			}
			i++
			value = args[i]
		}
		if value == "stdin" {
			out, stdin = append(out, "-conf", value), true
			continue
		}
		path = value
	}
	confMu.Lock()
	confPath, confTaken = filepath.Clean(path), !stdin
	confMu.Unlock()
	return out
}

// loadCorefile is this build's Corefile loader. Before TakeConf it loads
// nothing, so that CoreDNS's own loaders work unchanged (as in tests that
// import this package).
func loadCorefile(serverType string) (caddy.Input, error) {
	confMu.Lock()
	path, taken := confPath, confTaken
	confMu.Unlock()
	if !taken {
		return nil, nil
	}
	contents, err := os.ReadFile(path)
	if os.IsNotExist(err) && path == caddy.DefaultConfigFile {
		return nil, nil // no Corefile here: CoreDNS's default applies
	}
	if err != nil {
		return nil, err
	}
	if err := checkServerBlocks(path, contents); err != nil {
		amtrelay.CountRefusedReload()
		log.Errorf("%v", err)
		return nil, err
	}
	return caddy.CaddyfileInput{Contents: contents, Filepath: path, ServerTypeName: serverType}, nil
}

// checkServerBlocks refuses a Corefile with no server block. A Corefile
// that does not parse is left to caddy, which reports it with file and
// line.
//
// caddy parses the Corefile again right after this loader, so the check
// parses only when the first token leaves the answer open: a Corefile of
// 10,000 relays took 70 ms of CPU to parse, and on a server with one CPU
// (GOMAXPROCS 1) a goroutine that computes without blocking holds queries
// back for up to the Go scheduler's 10 ms between network polls.
func checkServerBlocks(path string, contents []byte) error {
	if opensServerBlock(firstToken(contents)) {
		return nil
	}
	blocks, err := caddyfile.Parse(path, bytes.NewReader(contents), nil)
	if err != nil || len(blocks) > 0 {
		return nil
	}
	return fmt.Errorf("%s has no server block (is it empty, or being written?): refusing it, so the running configuration, if any, keeps serving; write a new Corefile to another file and rename it into place", path)
}

// firstToken is the first token of a Corefile as caddy's lexer splits it:
// white space (unicode.IsSpace) separates tokens, and a '#' outside quotes
// comments out the rest of its line. "" when there is none.
func firstToken(contents []byte) string {
	comment := false
	for i, r := range string(contents) {
		switch {
		case r == '\n':
			comment = false
		case comment || unicode.IsSpace(r):
		case r == '#':
			comment = true
		default:
			end := bytes.IndexFunc(contents[i:], func(r rune) bool { return unicode.IsSpace(r) || r == '#' })
			if end < 0 {
				return string(contents[i:])
			}
			return string(contents[i : i+end])
		}
	}
	return ""
}

// opensServerBlock reports whether a Corefile whose first token is first
// has a server block for certain: the token is a server block's first
// address. No token, a snippet's name ("(name)"), an import, a brace, an
// environment variable (which may expand to nothing) or a quoted token is
// left to the parser.
func opensServerBlock(first string) bool {
	switch {
	case first == "", first == "import", strings.HasPrefix(first, "("), strings.HasPrefix(first, `"`),
		strings.HasPrefix(first, "{"), strings.Contains(first, "{$"), strings.Contains(first, "{%"):
		return false
	}
	return true
}
