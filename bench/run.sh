#!/usr/bin/env bash
# `npm run bench`: raise the open-file limit for the idle-socket scenario
# (up to 20,000 sockets on each side), then start the load generator, which pins
# itself to core 1 and the servers to core 0 where taskset exists.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Where the hard limit cannot be raised (no CAP_SYS_RESOURCE, as in some containers), the
# idle points are capped to what it allows and the report says so (bench/run.ts).
exec node --import tsx "$(dirname "$0")/main.ts" "$@"
