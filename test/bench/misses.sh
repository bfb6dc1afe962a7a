#!/usr/bin/env bash
# Instructions and simulated cache misses per ServeDNS call, closest at
# 10 and 10,000 relays (or the relay counts given), clients from 100,000 subnets
# (BenchmarkServeDNSManySubnets, answers written as bytes), by valgrind's
# callgrind with its cache simulation (a 32 kB 8-way first-level data
# cache, a 4 MB 16-way last level, 64-octet lines) inside the measured
# loop only (benchLoop), the GC off as in instructions.sh. Wall time on a
# shared machine moves by 10% from one minute to the next; these counts
# do not, and with many clients and relays a query's cost is mostly its
# last-level misses. The benchmark answers one query again and again,
# with the next client's address written into its ECS option, as a
# server answers the query it has just unpacked: the misses counted are
# the server's own.
#
#   test/bench/misses.sh [RELAYS...]   (default: 10 10000)
#   LL=1048576 test/bench/misses.sh    (a 1 MB last level: what is left
#                                       of a cache shared with the kernel
#                                       and other processes)
#
# Needs valgrind (Debian package valgrind). Takes about 4 minutes per
# relay count.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10 10000)
ll=${LL:-4194304}
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/amtrelay.test" ./plugin/amtrelay

printf '%-8s %12s %12s %12s\n' relays instructions "D1 misses" "LL misses"
for relays in "${counts[@]}"; do
  # valgrind 3.19 cannot run RDTSCP, which Go's runtime executes when a
  # lock is contended (runtime.cputicks): a run dies of SIGILL now and
  # then. Try again, up to three times.
  for try in 1 2 3; do
    if GOGC=off GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --cache-sim=yes \
      --I1=32768,8,64 --D1=32768,8,64 --LL=$ll,16,64 --callgrind-out-file="$tmp/cg.out" \
      --toggle-collect='github.com/amtrelay/amtrelay/plugin/amtrelay.benchLoop' \
      "$tmp/amtrelay.test" -test.run XXX -test.cpu 1 -test.benchtime "${n}x" \
      -test.bench "BenchmarkServeDNSManySubnets/^relays=$relays\$/^subnets=many\$/^write=bytes\$" >"$tmp/out" 2>&1; then
      break
    fi
    [ $try -lt 3 ] || { tail -20 "$tmp/out" >&2; exit 1; }
  done
  # Events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw, each total followed by
  # its share; -benchtime Nx runs the loop once with b.N=1, then b.N=N.
  callgrind_annotate "$tmp/cg.out" 2>/dev/null | grep 'PROGRAM TOTALS' | tr -d , |
    awk -v r="$relays" -v n=$((n + 1)) '{printf "%-8s %12d %12.1f %12.1f\n", r, $1/n, $9/n, $15/n}'
done
