// Command syscalltlb measures what a system call costs the memory reads
// that follow it on this machine: chains of 8 dependent reads of random
// cache lines spread over 4 kB to 64 MB, with and without a system call
// (getppid) before each chain, 15 interleaved rounds, medians.
//
// On a kernel that isolates its page tables (PTI) on a CPU without PCID,
// every system call empties the TLB, and the first read of each page
// after it is a page walk; in a VM, a walk through two sets of page
// tables. A DNS server makes at least two system calls a query (recvmsg,
// sendmsg), so a query's reads of large tables cost it far more than the
// same reads in a Go benchmark, where nothing runs between queries.
//
//	go run ./syscalltlb            (in test/bench)
//	go run ./syscalltlb -huge      (the buffer in transparent huge pages)
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"syscall"
	"time"
	"unsafe"
)

const (
	bufSize = 64 << 20
	chain   = 8
	iters   = 50000
	rounds  = 15
)

func main() {
	huge := flag.Bool("huge", false, "madvise(MADV_HUGEPAGE) the buffer, aligned to 2 MB")
	flag.Parse()
	m, err := syscall.Mmap(-1, 0, bufSize+2<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		log.Fatal(err)
	}
	off := (2<<20 - int(uintptr(unsafe.Pointer(&m[0])))%(2<<20)) % (2 << 20)
	buf := m[off : off+bufSize]
	if *huge {
		if err := syscall.Madvise(buf, 14); err != nil { // MADV_HUGEPAGE
			log.Fatalf("madvise: %v", err)
		}
	}
	for i := range buf {
		buf[i] = byte(i)
	}
	if sm, err := os.ReadFile("/proc/self/smaps_rollup"); err == nil {
		if h := regexp.MustCompile(`AnonHugePages:\s+\d+ kB`).Find(sm); h != nil {
			fmt.Printf("%s\n", h)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	spans := []int{1, 256, 4096, 16384} // pages of 4 kB
	var sysOnly []float64
	res := map[[2]int][]float64{}
	for range rounds {
		sysOnly = append(sysOnly, run(buf, rng, 1, 0, true))
		for _, span := range spans {
			for _, sys := range []int{0, 1} {
				res[[2]int{span, sys}] = append(res[[2]int{span, sys}], run(buf, rng, span, chain, sys == 1))
			}
		}
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	call := median(sysOnly)
	fmt.Printf("a system call (getppid): %.0f ns\n", call)
	fmt.Printf("%-10s %26s %26s\n", "reads over", "ns a read, no system call", "ns a read, after one")
	for _, span := range spans {
		no, after := median(res[[2]int{span, 0}]), median(res[[2]int{span, 1}])
		fmt.Printf("%-10s %26.1f %26.1f\n", fmt.Sprintf("%d kB", span*4), no/chain, (after-call)/chain)
	}
}

// run times iters chains of n dependent reads of random lines within
// span pages, each after a system call if sys, in ns a chain (the system
// call included).
func run(buf []byte, rng *rand.Rand, span, n int, sys bool) float64 {
	offs := make([]int, iters*n)
	for i := range offs {
		offs[i] = rng.IntN(span*4096/64) * 64
	}
	sum := 0
	start := time.Now()
	for it := range iters {
		if sys {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		prev := 0
		for j := range n {
			prev = int(buf[offs[it*n+j]+prev&1]) // depends on the read before
			sum += prev
		}
	}
	if sum == -1 {
		fmt.Println()
	}
	return float64(time.Since(start).Nanoseconds()) / iters
}
