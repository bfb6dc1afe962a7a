#!/usr/bin/env bash
# Instructions per ServeDNS call, per policy, at 10 and 10,000 relays,
# counted by valgrind's callgrind: repeatable on a noisy machine where
# ns/op is not. Each benchmark runs twice, with N1 and N2 iterations; the
# difference of the two totals over N2-N1 is the cost of one query,
# setup excluded.
#
#   test/bench/instructions.sh [POLICY...]
#
# Needs valgrind (Debian package valgrind). Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(static failover round-robin weighted closest least-load spill-over)
n1=2000 n2=12000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/amtrelay.test" ./plugin/amtrelay

count() { # policy relays iterations -> instructions
  GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
    "$tmp/amtrelay.test" -test.run XXX -test.cpu 1 -test.benchtime "${3}x" \
    -test.bench "BenchmarkServeDNS/policy=$1/relays=$2\$" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-12s %14s %14s %8s\n' policy "10 relays" "10000 relays" ratio
for p in "${policies[@]}"; do
  per=()
  for r in 10 10000; do
    a=$(count "$p" "$r" $n1)
    b=$(count "$p" "$r" $n2)
    per+=($(( (b - a) / (n2 - n1) )))
  done
  printf '%-12s %14s %14s %8s\n' "$p" "${per[0]}" "${per[1]}" "$(awk -v a="${per[0]}" -v b="${per[1]}" 'BEGIN{printf "%.2f", b/a}')"
done
