#!/usr/bin/env bash
# topology.sh up|down: build the end-to-end test bed of test/e2e and leave
# it running, to explore with dig and amtdiscover from the end user's
# namespace; then take it down. It runs the test's own code (the test
# binary, in TestTopology's keep-up mode), not a copy of the topology.
# Needs root; README.md draws the topology.
set -euo pipefail
cd "$(dirname "$0")"
state=/run/amtrelay-e2e-topology

usage() { echo "usage: $0 up|down" >&2; exit 2; }
[ $# -eq 1 ] || usage
if [ "$(id -u)" != 0 ]; then
  echo "$0: needs root (it makes network namespaces)" >&2
  exit 1
fi

case "$1" in
up)
  if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    echo "$0: already up (pid $(cat "$state/pid")); see $state/ready" >&2
    exit 1
  fi
  rm -rf "$state"
  mkdir -p "$state"
  go test -c -o "$state/e2e.test" .
  AMTRELAY_E2E_TOPOLOGY=up AMTRELAY_E2E_STATE="$state" \
    setsid "$state/e2e.test" -test.run '^TestTopology$' -test.v -test.timeout 0 \
    >"$state/log" 2>&1 </dev/null &
  echo $! >"$state/pid"
  for _ in $(seq 1200); do
    if [ -f "$state/ready" ]; then
      cat "$state/ready"
      echo "Log: $state/log. Take it down with: $0 down"
      exit 0
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      cat "$state/log" >&2
      echo "$0: the test bed did not come up" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$0: not up within 120 s; see $state/log" >&2
  exit 1
  ;;
down)
  if [ -f "$state/pid" ]; then
    pid=$(cat "$state/pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 600); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ -x "$state/e2e.test" ]; then
    bin="$state/e2e.test"
  else
    go test -c -o "${TMPDIR:-/tmp}/amtrelay-e2e.test" .
    bin="${TMPDIR:-/tmp}/amtrelay-e2e.test"
  fi
  AMTRELAY_E2E_TOPOLOGY=down "$bin" -test.run '^TestTopology$' >/dev/null
  rm -rf "$state"
  [ "$bin" = "$state/e2e.test" ] || rm -f "$bin"
  echo "test bed down: no amte2e- namespace left"
  ;;
*)
  usage
  ;;
esac
