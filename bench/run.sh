#!/usr/bin/env bash
# `npm run bench`: raise the open-file limit for the idle-socket scenario
# (10,000 sockets on each side), then start the load generator, which pins
# itself to core 1 and the servers to core 0 where taskset exists.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node --import tsx "$(dirname "$0")/main.ts" "$@"
