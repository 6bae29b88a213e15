#!/usr/bin/env bash
# Builds the gateway and the benchmark, raises the open-file limit (10,000 websockets through a
# proxy hold 30,000 sockets on this machine), and runs the benchmark on the first core; the
# processes under test are pinned to the second.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent build
npx tsc -p bench/tsconfig.json

# Raising the hard limit needs root; without it, the soft limit goes as high as allowed.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  exec taskset -c 0 node bench/results/build/run.js --file-limit "$(ulimit -n)" "$@"
fi
exec node bench/results/build/run.js --file-limit "$(ulimit -n)" "$@"
