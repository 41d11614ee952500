#!/usr/bin/env bash
# start-local-slurm.sh - bring up a real single-node SLURM cluster on 127.0.0.1 for the
# `slurm` pytest marker (tests/workflow/test_slurm.py) and for trying profiles/slurm by hand.
#
# Idempotent: installs Debian's packages if they are missing (munge, slurmctld, slurmd,
# slurm-client), writes slurm.conf and gres.conf, starts munged, slurmctld and slurmd only if
# they are not already running (restarting them if the generated config changed), then waits
# until the node accepts jobs. Needs root (the daemons run as root) and apt on Debian/Ubuntu.
#
# Everything lives under $LMIA_SLURM_BASE except the apt packages and one symlink,
# /etc/slurm/slurm.conf -> $LMIA_SLURM_BASE/etc/slurm.conf: the Snakemake job step runs
# `srun` without SLURM_CONF in its environment, so the default path has to resolve.
#
# The node looks like a small GPU node so that profiles/slurm is schedulable unchanged:
#   * LMIA_SLURM_GPUS (default 2) GPUs as gres/gpu, backed by character devices that are
#     /dev/null clones. `--gpus=1` jobs are scheduled for real and see CUDA_VISIBLE_DEVICES,
#     but there is no CUDA behind them: the code must fall back to the CPU.
#   * LMIA_SLURM_CPUS (default max(nproc, 16)) CPUs and LMIA_SLURM_MEM_MB (default
#     max(90% of RAM, 65536)) MB are advertised via SlurmdParameters=config_overrides.
#     Nothing enforces them (TaskPlugin=task/none, no cgroups): they only let the
#     profile's cpus_per_gpu / mem_mb requests fit on a laptop-sized machine.
#   * No slurmdbd: `sacct` does not work, so use `slurm-status-command: squeue`
#     (MinJobAge=3600 keeps finished jobs visible to squeue and scontrol for an hour).
#
# Knobs (environment):
#   LMIA_SLURM_BASE=/tmp/lottery-mia-slurm   state, logs, configs, pid files, munge key
#   LMIA_SLURM_PARTITIONS="debug cpu gpu"     partitions over the one node; the first is the
#                                             default, so tests can tell an explicit -p from none
#   LMIA_SLURM_GPUS=2  LMIA_SLURM_CPUS=  LMIA_SLURM_MEM_MB=
#   LMIA_SLURMCTLD_PORT=6817  LMIA_SLURMD_PORT=6818
#   LMIA_SLURM_WAIT_S=90                       timeout for each daemon to come up
#
# Prints the SLURM_CONF to export on its last line of stdout; logs go to stderr.
set -euo pipefail

BASE=${LMIA_SLURM_BASE:-/tmp/lottery-mia-slurm}
PARTITIONS=${LMIA_SLURM_PARTITIONS:-debug cpu gpu}
GPUS=${LMIA_SLURM_GPUS:-2}
CTLD_PORT=${LMIA_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${LMIA_SLURMD_PORT:-6818}
WAIT_S=${LMIA_SLURM_WAIT_S:-90}

ETC=$BASE/etc
RUN=$BASE/run
LOGS=$BASE/log
MUNGE=$BASE/munge
MUNGE_SOCKET=$MUNGE/run/munge.socket
export SLURM_CONF=$ETC/slurm.conf
STARTED=$SECONDS

say() { echo "[start-local-slurm +$((SECONDS - STARTED))s] $*" >&2; }
# Exit status: 0 cluster up; 1 error; 3 the packages could not be installed (no apt-get, or
# apt-get failed); 4 a foreign /etc/slurm/slurm.conf is present. The pytest fixture skips on 3/4.
EXIT_NO_PACKAGES=3
EXIT_FOREIGN_SLURM=4
fail() {
  local status=1
  if [[ ${1:-} =~ ^[0-9]+$ ]]; then status=$1; shift; fi
  say "ERROR: $*"
  local f
  for f in "$LOGS/slurmctld.log" "$LOGS/slurmd.log" "$MUNGE/log/munged.log"; do
    if [ -f "$f" ]; then echo "---- last lines of $f" >&2; tail -n 15 "$f" >&2; fi
  done
  exit "$status"
}

[ "$(id -u)" = 0 ] || fail "must run as root (slurmd and munged run as root here)"
[[ $GPUS =~ ^[0-9]+$ ]] || fail "LMIA_SLURM_GPUS must be a whole number, got '$GPUS'"
read -r -a partitions <<<"$PARTITIONS"
[ ${#partitions[@]} -gt 0 ] || fail "LMIA_SLURM_PARTITIONS is empty"

# running PIDFILE NAME: the pid file names a live, non-zombie process called NAME*.
# Checking the name guards against signalling an unrelated process that reused the pid.
running() {
  local pid name state
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  name=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $state != Z* && $name == "$2"* ]]
}

# stop PIDFILE NAME: TERM, then KILL after 30 s, the process the pid file names.
stop() {
  running "$1" "$2" || { rm -f "$1"; return 0; }
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do running "$1" "$2" || break; sleep 0.3; done
  if running "$1" "$2"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$1"
}

# poll DESCRIPTION COMMAND...: retry COMMAND until it succeeds or WAIT_S passes.
poll() {
  local what=$1 deadline=$((SECONDS + WAIT_S))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$what not ready after ${WAIT_S}s"
    sleep 0.3
  done
  say "$what: ready"
}

# install_if_changed FILE MODE < CONTENT: replace FILE only when CONTENT differs,
# so that an unchanged config does not restart running daemons. Succeeds if replaced.
install_if_changed() {
  local staged
  staged=$(mktemp "$1.XXXXXX")
  cat >"$staged"
  chmod "$2" "$staged"
  if [ -f "$1" ] && cmp -s "$staged" "$1"; then
    rm -f "$staged"
    return 1
  fi
  mv -f "$staged" "$1"
}

# ---------------------------------------------------------------- packages
missing=()
command -v munged >/dev/null 2>&1 || missing+=(munge)
command -v slurmctld >/dev/null 2>&1 || missing+=(slurmctld)
command -v slurmd >/dev/null 2>&1 || missing+=(slurmd)
command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail $EXIT_NO_PACKAGES "missing ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} (apt-get)"
  # policy-rc.d exit 101 keeps the packages from starting system-wide daemons on install.
  placed_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    placed_policy=1
  fi
  apt_log=${TMPDIR:-/tmp}/start-local-slurm-apt.log
  status=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "${missing[@]}"
  } >"$apt_log" 2>&1 || status=$?
  [ $placed_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ $status != 0 ]; then
    tail -n 30 "$apt_log" >&2
    fail $EXIT_NO_PACKAGES "apt-get failed (full log: $apt_log)"
  fi
  say "packages installed"
fi

# ---------------------------------------------------------------- configuration
mkdir -p "$ETC" "$RUN" "$LOGS" "$BASE/state" "$BASE/spool" "$BASE/dev" \
  "$MUNGE/key" "$MUNGE/run" "$MUNGE/log"
chmod 755 "$BASE" "$MUNGE" "$MUNGE/run" # munged insists on o+x up to its socket
chmod 700 "$MUNGE/key" "$MUNGE/log"
if [ ! -s "$MUNGE/key/munge.key" ]; then
  dd if=/dev/urandom of="$MUNGE/key/munge.key" bs=1024 count=1 status=none
  chmod 600 "$MUNGE/key/munge.key"
fi

NODE=$(hostname -s)
real_cpus=$(nproc)
real_mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
CPUS=${LMIA_SLURM_CPUS:-$((real_cpus > 16 ? real_cpus : 16))}
MEM_MB=${LMIA_SLURM_MEM_MB:-$((real_mem_mb > 65536 ? real_mem_mb : 65536))}

gres_types="" node_gres=""
gres_conf="AutoDetect=off"$'\n'
if [ "$GPUS" -gt 0 ]; then
  # gres/gpu needs one device file per GPU (slurmd drops file-less GPUs); character
  # devices with /dev/null's numbers behave like /dev/null and cost nothing.
  for i in $(seq 0 $((GPUS - 1))); do
    [ -c "$BASE/dev/gpu$i" ] || mknod "$BASE/dev/gpu$i" c 1 3 ||
      fail "mknod $BASE/dev/gpu$i failed (needs CAP_MKNOD; try LMIA_SLURM_GPUS=0)"
  done
  gres_types="GresTypes=gpu"
  node_gres="Gres=gpu:$GPUS"
  gres_conf+="NodeName=$NODE Name=gpu File=$BASE/dev/gpu[0-$((GPUS - 1))]"$'\n'
fi
partition_lines=""
for name in "${partitions[@]}"; do
  default=NO
  [ "$name" = "${partitions[0]}" ] && default=YES
  partition_lines+="PartitionName=$name Nodes=ALL Default=$default MaxTime=INFINITE State=UP"$'\n'
done

config_changed=0
install_if_changed "$ETC/slurm.conf" 644 <<EOF && config_changed=1 || true
# Written by tests/slurm/start-local-slurm.sh: one node on loopback, for tests only.
ClusterName=lmia-local
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.txt
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Trust the node description below even where it exceeds the real hardware.
SlurmdParameters=config_overrides
# Without a default, a job without --mem would take the whole node's memory.
DefMemPerCPU=1000
ReturnToService=2
# Finished jobs stay visible to squeue (the executor's status command) and scontrol for an
# hour, so tests can read back what SLURM allocated to every job of a run.
MinJobAge=3600
KillWait=5
$gres_types
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM_MB $node_gres State=UNKNOWN
$partition_lines
EOF
install_if_changed "$ETC/gres.conf" 644 <<<"$gres_conf" && config_changed=1 || true

if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$ETC/slurm.conf" ]; then
  :
elif [ -e /etc/slurm/slurm.conf ] || [ -L /etc/slurm/slurm.conf ]; then
  fail $EXIT_FOREIGN_SLURM "/etc/slurm/slurm.conf exists and is not ours; refusing to replace a real cluster's config"
else
  mkdir -p /etc/slurm
  ln -s "$ETC/slurm.conf" /etc/slurm/slurm.conf
  say "linked /etc/slurm/slurm.conf -> $ETC/slurm.conf"
fi

if [ $config_changed = 1 ]; then
  if running "$RUN/slurmd.pid" slurmd || running "$RUN/slurmctld.pid" slurmctld; then
    say "configuration changed: restarting slurmd and slurmctld"
  fi
  stop "$RUN/slurmd.pid" slurmd
  stop "$RUN/slurmctld.pid" slurmctld
fi

# ---------------------------------------------------------------- daemons
if ! running "$MUNGE/run/munged.pid" munged; then
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock" "$MUNGE/run/munged.pid"
  munged --key-file="$MUNGE/key/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$MUNGE/run/munged.pid" --log-file="$MUNGE/log/munged.log" \
    --seed-file="$MUNGE/key/munged.seed" || fail "munged did not start"
fi
munge_round_trip() { munge -S "$MUNGE_SOCKET" -n | unmunge -S "$MUNGE_SOCKET"; }
poll munged munge_round_trip

if ! running "$RUN/slurmctld.pid" slurmctld; then
  # -c: clean start, no jobs or DRAIN flags left over from an earlier session.
  slurmctld -c || fail "slurmctld did not start"
fi
controller_up() { scontrol ping | grep -q 'is UP'; }
poll slurmctld controller_up

if ! running "$RUN/slurmd.pid" slurmd; then
  slurmd || fail "slurmd did not start"
fi
node_accepts_jobs() {
  case $(sinfo -h -n "$NODE" -o %t 2>/dev/null) in
    idle | mix | alloc) return 0 ;;
    drain | drng) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1; return 1 ;;
    *) return 1 ;;
  esac
}
poll "node $NODE" node_accepts_jobs

timeout -k 5 60 srun -N1 -n1 -t 1 --mem=10 true || fail "smoke test 'srun true' failed"
say "smoke test srun: ok"
sinfo -o '%P %a %D %t %c %m %G' >&2
say "cluster up; partitions ${partitions[*]} (default ${partitions[0]}), $GPUS GPU(s), status via squeue (no slurmdbd)"
echo "SLURM_CONF=$SLURM_CONF"
