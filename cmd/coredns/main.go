// Command coredns is CoreDNS with the amtrelay plugin compiled in: every
// in-tree plugin plus amtrelay, which runs just before "file". Run it as
// stock CoreDNS, for example:
//
//	go run ./cmd/coredns -conf corefile-examples/static.corefile
//
// Unlike stock CoreDNS, it refuses a Corefile with no server block, at
// startup and at reload, rather than serving caddy's default (whoami on
// :53): see corebuild.TakeConf.
package main

import (
	"fmt"
	"os"

	"github.com/amtrelay/amtrelay/cmd/coredns/corebuild" // plugins, directive order, Corefile loader
	"github.com/amtrelay/amtrelay/internal/version"

	"github.com/coredns/coredns/coremain"
)

func main() {
	os.Args = append(os.Args[:1], corebuild.TakeConf(os.Args[1:])...)
	for _, a := range os.Args[1:] {
		if a == "-version" || a == "--version" {
			fmt.Println(version.Module, version.String())
		}
	}
	coremain.Run()
}
