#!/usr/bin/env bash
# Set up a fresh clone: pnpm (without corepack, which fails signature checks here) and the locked
# dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=10.34.9
node_major=$(node -p 'process.versions.node.split(".")[0]')
node_minor=$(node -p 'process.versions.node.split(".")[1]')
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  echo "gcvi needs Node >= 20.19 (found $(node --version))" >&2
  exit 1
fi
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "installing pnpm@$PNPM_VERSION with npm"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi
# Services the tests drive, from Debian: redis-server (the queue tests start their own on free
# localhost ports) and chromium (the browser tests of apps/demo and the live report). Installed
# when missing; without them (no root, no apt) those tests skip outside CI and fail in CI.
missing=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
# The real-Slurm test (apps/experiments/test/slurm.cluster.test.ts) runs only with GCVI_SLURM=1,
# and then needs slurmctld, slurmd and munge: installed here only when that flag is set.
if [ "${GCVI_SLURM:-}" = 1 ]; then
  command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
  command -v munged >/dev/null 2>&1 || [ -x /usr/sbin/munged ] || missing+=(munge)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing ${missing[*]} with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]}); their tests will be skipped" >&2
  fi
fi
export TURBO_TELEMETRY_DISABLED=1
# tfjs-node is optional (DESIGN §4): its install script downloads libtensorflow and fails without
# that network; pnpm then skips it and gcvi runs on the wasm backend. That failure prints a ~20-line
# Node stack trace; fold it into one line here and keep pnpm's full output in a log file.
log=$(mktemp "${TMPDIR:-/tmp}/gcvi-setup-install.XXXXXX.log")
pnpm install --frozen-lockfile 2>&1 | tee "$log" | awk -v logfile="$log" '
  /@tensorflow\/tfjs-node (install|postinstall)[:$]/ {
    tfnode = 1
    if (!reason && /Error: /) { reason = $0; sub(/.*Error: /, "", reason) }
    if (/Failed|ERR_PNPM|exited with|code: /) failed = 1
    next
  }
  { print }
  END {
    if (!tfnode) exit
    if (failed || reason) {
      printf "tfjs-node (optional fast backend): libtensorflow could not be downloaded (%s); skipped, gcvi runs on the wasm backend. Full install output: %s\n", (reason ? reason : "install script failed"), logfile
    } else {
      print "tfjs-node (optional fast backend): installed; gcvi will use the tensorflow backend"
    }
  }'
