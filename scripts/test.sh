#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls it). Installs and starts the real
# services the tests use: Docker Engine, Prometheus, headless Chromium. Under CI=true a service
# that cannot be had is a failure, never a silent skip (the tests check FLARE_TEST_REQUIRE_SERVICES).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v ctr >/dev/null || need_pkgs+=(containerd)  # the containerd suite starts its own instance
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v prometheus >/dev/null || need_pkgs+=(prometheus)
command -v docker-compose >/dev/null || need_pkgs+=(docker-compose)
command -v chromium >/dev/null || need_pkgs+=(chromium)
command -v gcc >/dev/null || need_pkgs+=(gcc)
[ -x /usr/bin/time ] || need_pkgs+=(time)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing ${need_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "test: missing ${need_pkgs[*]} and not root: those tests will fail under CI=true" >&2
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
npm run typecheck --silent  # tests, benchmarks and the dashboard generator are strict TypeScript too
npm run lint:imports --silent  # layers point one way, no cycle (.dependency-cruiser.cjs, docs/architecture.md)
npm run lint --silent  # type-aware lint: unhandled promises, a voided one without its why, lines over 200 (eslint.config.js)
start_dockerd
build_test_image
# The pure cgroup v2 engine (test/docker/engine-v2.test.ts). Not fatal here: when dockerd refuses to
# start in that mode, the test itself fails under CI=true with dockerd's own error.
start_dockerd_v2 || true

export FLARE_TEST_REQUIRE_SERVICES=${CI:-}
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
# One plain closing line, whatever the runner printed above: "tests: N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
