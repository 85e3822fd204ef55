#!/usr/bin/env bash
# A second dockerd in pure cgroup v2 mode, for the tests (README "Pure cgroup v2 in the test suite").
# In a private mount namespace the whole /sys/fs/cgroup tree is unmounted and one cgroup2 mounted in
# its place; dockerd started there sees only v2 (`docker info`: Cgroup Version 2) and puts containers
# in <v2 root>/docker/<id>. Everything of its own (data, exec root, pid file, socket) is separate from
# the host engine's. The kernel's v2 hierarchy is one for the whole machine: on a hybrid host the
# controllers bound to v1 (cpu, memory, …) are missing from it, so the v2 root has no memory controller.
#
#   scripts/dockerd-v2.sh start   # idempotent; prints nothing on success, dockerd's own error on failure
#   scripts/dockerd-v2.sh stop
#   scripts/dockerd-v2.sh pid     # dockerd's pid (enter its namespace with nsenter --mount=/proc/PID/ns/mnt)
set -euo pipefail

V2_ROOT=${FLARE_DOCKERD_V2_ROOT:-/var/lib/flare-dockerd-v2}
SOCK=${FLARE_DOCKERD_V2_SOCK:-/var/run/flare-dockerd-v2.sock}
PIDFILE=$V2_ROOT/dockerd.pid
LOG=$V2_ROOT/dockerd.log

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1; }

case "${1:-start}" in
  start)
    running && exit 0
    mkdir -p "$V2_ROOT/data" "$V2_ROOT/exec"
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
    # setsid + nohup: dockerd outlives the shell that started it (scripts/test.sh, a developer's shell).
    setsid nohup unshare -m --propagation private -- sh -c '
      umount -R /sys/fs/cgroup || exit 90
      mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 91
      exec dockerd --data-root "$1/data" --exec-root "$1/exec" --pidfile "$1/dockerd.pid" -H "unix://$2" \
        --iptables=false --bridge=none --storage-driver=vfs
    ' sh "$V2_ROOT" "$SOCK" >"$LOG" 2>&1 </dev/null &
    for _ in $(seq 1 150); do
      running && exit 0
      sleep 0.2
    done
    echo "dockerd-v2: the pure cgroup v2 dockerd did not come up; its log ($LOG) ends with:" >&2
    tail -20 "$LOG" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; fi
    ;;
  pid)
    running && cat "$PIDFILE"
    ;;
  *)
    echo "usage: $0 start|stop|pid" >&2
    exit 2
    ;;
esac
