#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, installing and starting one if needed.
# Idempotent: does nothing when `docker info` already answers. Runs as root (CI does).
#
# Usage: bash .ci/install-docker.sh
set -euo pipefail

LOG=/tmp/dockerd.log
READY_DEADLINE_S=60

say() { printf 'install-docker: %s\n' "$*"; }

engine_answers() { docker info >/dev/null 2>&1; }

dockerd_running() { pgrep -x dockerd >/dev/null; }

# Polls `docker info` until it answers or the deadline passes; fails early if dockerd died.
wait_ready() {
  local deadline=$((SECONDS + READY_DEADLINE_S))
  until engine_answers; do
    if ! dockerd_running; then
      say "dockerd exited; last log lines:"
      tail -n 15 "$LOG" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "dockerd did not answer within ${READY_DEADLINE_S} s; see $LOG"
      return 1
    fi
    sleep 1
  done
}

# setsid: dockerd must outlive this script and the CI step's process group.
start_dockerd() {
  say "starting dockerd${*:+ $*} (log: $LOG)"
  setsid -f dockerd "$@" </dev/null >"$LOG" 2>&1
}

if engine_answers; then
  say "docker engine already answers"
  exit 0
fi

if ! command -v dockerd >/dev/null; then
  started=$SECONDS
  say "installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Recommends (apparmor, git, needrestart, ...) are not needed to run containers.
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
  say "installed docker.io in $((SECONDS - started)) s"
fi

started=$SECONDS
if dockerd_running; then
  say "dockerd already running; waiting for it"
  # One that was stopping exits instead of answering: then this script starts its own, below.
  if ! wait_ready && dockerd_running; then exit 1; fi
fi
if ! engine_answers; then
  # Default flags work on the project's Debian 12 machines (overlay2, iptables).
  # A sandbox without netfilter or overlayfs makes dockerd exit at start; retry without both:
  # published ports still work through docker-proxy, and vfs only costs disk and speed.
  start_dockerd
  if ! wait_ready; then
    # Still running but not answering: other flags would not help, the log says why.
    if dockerd_running; then exit 1; fi
    start_dockerd --iptables=false --storage-driver=vfs
    wait_ready
  fi
fi
say "docker engine answers after $((SECONDS - started)) s ($(docker version --format 'server {{.Server.Version}}'))"
