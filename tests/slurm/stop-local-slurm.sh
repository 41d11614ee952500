#!/usr/bin/env bash
# stop-local-slurm.sh - stop what tests/slurm/start-local-slurm.sh started, and nothing else.
#
# Only processes named in the pid files under $LMIA_SLURM_BASE are signalled, and only if
# the process is alive and carries the expected name. Jobs still known to our slurmctld are
# cancelled first so that no slurmstepd outlives slurmd. Idempotent.
#   LMIA_SLURM_BASE=/tmp/lottery-mia-slurm   same base as the start script
#   LMIA_SLURM_PURGE=1                        also delete state, spool, logs and fake devices
set -uo pipefail

BASE=${LMIA_SLURM_BASE:-/tmp/lottery-mia-slurm}
ETC=$BASE/etc
RUN=$BASE/run
export SLURM_CONF=$ETC/slurm.conf
STARTED=$SECONDS

say() { echo "[stop-local-slurm +$((SECONDS - STARTED))s] $*" >&2; }

running() {
  local pid name state
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  name=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $state != Z* && $name == "$2"* ]]
}

stop() {
  if ! running "$1" "$2"; then
    rm -f "$1"
    say "$2: not running"
    return 0
  fi
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do running "$1" "$2" || break; sleep 0.3; done
  if running "$1" "$2"; then
    say "$2 ($pid) ignored SIGTERM for 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$1"
  say "$2 ($pid): stopped"
}

active_jobs() { timeout 10 squeue -h -t PD,R,CG,S -o %i 2>/dev/null; }
if running "$RUN/slurmctld.pid" slurmctld && [ -f "$SLURM_CONF" ]; then
  jobs=$(active_jobs | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    say "cancelling jobs: $jobs"
    # shellcheck disable=SC2086 # one argument per job id
    timeout 10 scancel $jobs 2>/dev/null || true
    for _ in $(seq 60); do [ -z "$(active_jobs)" ] && break; sleep 0.5; done
  fi
fi

stop "$RUN/slurmd.pid" slurmd
stop "$RUN/slurmctld.pid" slurmctld
stop "$BASE/munge/run/munged.pid" munged

if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$ETC/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf
  say "removed the /etc/slurm/slurm.conf symlink"
fi

if [ "${LMIA_SLURM_PURGE:-0}" = 1 ]; then
  rm -rf "$BASE/state" "$BASE/spool" "$BASE/log" "$BASE/run" "$BASE/dev"
  say "purged state, spool, log, run and dev under $BASE"
fi
say "done"
