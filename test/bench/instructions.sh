#!/usr/bin/env bash
# Instructions per ServeDNS call, per policy, at 10 and 10,000 relays,
# counted by valgrind's callgrind inside BenchmarkServeDNS's measured loop
# only (benchLoop): repeatable on a noisy machine where ns/op is not. Setup
# and warm-up are left out, and the GC is off (GOGC=off): both relay counts
# allocate the same per query, but a 10-relay heap sits under the GC's 4 MB
# floor, which would make its GC work look cheaper. Allocation is counted.
#
#   test/bench/instructions.sh [POLICY...]
#
# Needs valgrind (Debian package valgrind). Takes a few minutes per policy.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(static failover round-robin weighted closest least-load spill-over)
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/amtrelay.test" ./plugin/amtrelay

count() { # policy relays -> instructions per query
  GOGC=off GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
    --toggle-collect='github.com/amtrelay/amtrelay/plugin/amtrelay.benchLoop' \
    "$tmp/amtrelay.test" -test.run XXX -test.cpu 1 -test.benchtime "${n}x" \
    -test.bench "^BenchmarkServeDNS\$/^policy=$1\$/^relays=$2\$" >/dev/null 2>&1
  # -benchtime Nx runs the loop once with b.N=1, then with b.N=N.
  total=$(callgrind_annotate "$tmp/cg.out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
  echo $(( total / (n + 1) ))
}

printf '%-12s %14s %14s %8s\n' policy "10 relays" "10000 relays" ratio
for p in "${policies[@]}"; do
  a=$(count "$p" 10)
  b=$(count "$p" 10000)
  printf '%-12s %14s %14s %8s\n' "$p" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b/a}')"
done
