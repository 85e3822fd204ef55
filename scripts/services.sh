# Shared by scripts/test.sh and bench: start the real services the tests and benchmarks use.
# Sourced, not run.

# dockerd for the tests: no iptables, no bridge, vfs storage (works in this sandbox).
start_dockerd() {
  if ! command -v dockerd >/dev/null; then return 0; fi
  if docker info >/dev/null 2>&1; then return 0; fi
  mkdir -p /var/log
  # A dockerd killed with SIGKILL leaves its pid file behind, and a new one refuses to start over it.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  (dockerd --iptables=false --bridge=none --storage-driver=vfs >/var/log/flare-test-dockerd.log 2>&1 &)
  for _ in $(seq 1 100); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "test: dockerd did not come up; see /var/log/flare-test-dockerd.log" >&2
  tail -20 /var/log/flare-test-dockerd.log >&2 || true
  return 1
}

# flare-test/busybox:latest from busybox-static via docker import (no registry access here).
build_test_image() {
  docker info >/dev/null 2>&1 || return 0
  docker image inspect flare-test/busybox:latest >/dev/null 2>&1 && return 0
  local r
  r=$(mktemp -d)
  mkdir -p "$r/bin" "$r/tmp" "$r/workspace/inputs" "$r/workspace/outputs"
  cp /bin/busybox "$r/bin/"
  for a in sh sleep yes dd head cat ls cp timeout true false kill mkdir rm echo seq; do ln -s busybox "$r/bin/$a"; done
  tar -C "$r" -c . | docker import - flare-test/busybox:latest >/dev/null
  rm -rf "$r"
}

# A second, pure cgroup v2 dockerd in a mount namespace of its own (scripts/dockerd-v2.sh), with the
# test image imported there too.
start_dockerd_v2() {
  command -v dockerd >/dev/null || return 0
  bash "$(dirname "${BASH_SOURCE[0]}")/dockerd-v2.sh" start || return 1
  DOCKER_HOST=unix:///var/run/flare-dockerd-v2.sock build_test_image
}
