// Command coredns is CoreDNS with the amtrelay plugin compiled in: every
// in-tree plugin plus amtrelay, which runs just before "file". Run it as
// stock CoreDNS, for example:
//
//	go run ./cmd/coredns -conf corefile-examples/static.corefile
package main

import (
	_ "github.com/amtrelay/amtrelay/cmd/coredns/corebuild" // plugins and directive order

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
