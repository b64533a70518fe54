#!/bin/bash
# make test-cluster: a real one-node Slurm cluster on this machine, for the
# cluster test (deploy/cluster_test.go).
#
# Installs slurm-wlm and munge when missing, writes munge.key and slurm.conf
# for this host into a temporary directory, starts munged (as the munge user),
# slurmctld and slurmd (as root) on free ports, waits for the node, runs
#   go test -run TestCluster ./deploy/   (CPLLM_CLUSTER_TEST=1, SLURM_CONF=...)
# and, on every exit (success, failure, ^C), cancels the jobs, stops the three
# daemons by pid, ends any process that still carries this run's marker
# (slurmstepd, job steps), checks that none remains and removes the directory.
# Needs root (slurmd runs jobs as their submitter; munged as munge).
#
#   deploy/test-cluster.sh [go test flags...]     # e.g. -run TestClusterData
#   deploy/test-cluster.sh --exec CMD [ARGS...]   # run CMD on the cluster instead
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

[ "$(id -u)" = 0 ] || { echo "test-cluster: needs root (slurmd, munged as the munge user)" >&2; exit 1; }

# Packages, only what is missing.
missing=()
for p in slurm-wlm munge; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "test-cluster: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for c in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel sinfo setpriv ss; do
	command -v "$c" >/dev/null || { echo "test-cluster: $c not found" >&2; exit 1; }
done
BIN=${CPLLM_BIN:-$REPO/bin/cpllm}
[ -x "$BIN" ] || { echo "test-cluster: $BIN missing (make build)" >&2; exit 1; }

T=$(mktemp -d /tmp/cpllm-cluster.XXXXXX)
chmod 755 "$T"
PIDS=()    # munged slurmctld slurmd
GOPID=
NAMES=()
MARK="CPLLM_CLUSTER=$T"    # inherited by the daemons, slurmstepd and every job
export CPLLM_CLUSTER=$T

# marked lists the pids of live processes whose environment carries $MARK.
marked() {
	local f p
	for f in /proc/[0-9]*/environ; do
		p=${f#/proc/}
		p=${p%/environ}
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
		tr '\0' '\n' 2>/dev/null <"$f" | grep -qxF "$MARK" && echo "$p"
	done
	return 0
}

# stop_pid PID NAME: TERM, up to 15 s, then KILL.
stop_pid() {
	local pid=$1 name=$2 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	echo "test-cluster: $name (pid $pid) ignored TERM; KILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? i left
	trap - EXIT INT TERM
	set +e
	unset CPLLM_CLUSTER # so the commands below do not carry the marker
	[ -n "$GOPID" ] && stop_pid "$GOPID" "go test"
	if [ -n "${SLURM_CONF:-}" ] && [ ${#PIDS[@]} -ge 2 ] && kill -0 "${PIDS[1]}" 2>/dev/null; then
		timeout 20 scancel --quiet --user=root 2>/dev/null
	fi
	# daemons in reverse start order: slurmd, slurmctld, munged
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[i]}" "${NAMES[i]}"
	done
	# anything else of this run: slurmstepd, job scripts, cpllm in a job
	left=$(marked)
	for p in $left; do
		echo "test-cluster: ending leftover pid $p ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-80))" >&2
		kill -TERM "$p" 2>/dev/null
	done
	[ -n "$left" ] && sleep 2
	for p in $(marked); do kill -KILL "$p" 2>/dev/null; done
	sleep 0.2
	left=$(marked)
	for ((i = 0; i < ${#PIDS[@]}; i++)); do
		kill -0 "${PIDS[i]}" 2>/dev/null && left="$left ${PIDS[i]}"
	done
	if [ -n "${left// /}" ]; then
		echo "test-cluster: FAIL: processes of this cluster remain: $left" >&2
		[ "$rc" = 0 ] && rc=1
	else
		echo "test-cluster: stopped munged, slurmctld, slurmd (pids ${PIDS[*]:-none}); no process of this cluster remains"
	fi
	if [ "$rc" != 0 ] && [ -d "$T/log" ]; then
		for f in "$T"/log/*.log "$T"/log/*.out "$T"/munge/*.log; do
			[ -s "$f" ] || continue
			echo "--- last lines of $f" >&2
			tail -n 15 "$f" >&2
		done
	fi
	rm -rf "$T"
	[ -e "$T" ] && { echo "test-cluster: FAIL: could not remove $T" >&2; rc=1; }
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: an unused TCP port (the kernel's pick would be racy across two
# runs; a random one checked with ss is good enough here).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		[ -z "$(ss -Htan "sport = :$p")" ] && { echo "$p"; return; }
	done
}

HOST=$(hostname -s)
CPUS=$(nproc)
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/log" "$T/bin" "$T/tmp"
# a private copy: a rebuild of bin/cpllm during the run must not mix binaries
cp "$BIN" "$T/bin/cpllm"
BIN=$T/bin/cpllm
chown munge:munge "$T/munge"
chmod 755 "$T/munge"

mungekey -c -k "$T/munge/munge.key" >/dev/null
chown munge:munge "$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"

cat >"$T/slurm.conf" <<EOF
# one-node test cluster written by deploy/test-cluster.sh
ClusterName=cpllmtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobContainerType=job_container/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=60
SlurmctldParameters=enable_configless
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf

setpriv --reuid=munge --regid=munge --init-groups -- munged -F \
	--socket="$T/munge/munge.socket" --key-file="$T/munge/munge.key" \
	--pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed" \
	--log-file="$T/munge/munged.log" >"$T/log/munged.out" 2>&1 &
PIDS+=($!)
NAMES+=(munged)
for i in $(seq 100); do [ -S "$T/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.socket" ] || { echo "test-cluster: munged did not start" >&2; cat "$T/munge/munged.log" >&2; exit 1; }

slurmctld -D -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
PIDS+=($!)
NAMES+=(slurmctld)
slurmd -D -f "$SLURM_CONF" -N "$HOST" >"$T/log/slurmd.out" 2>&1 &
PIDS+=($!)
NAMES+=(slurmd)

state=
for i in $(seq 120); do
	state=$(sinfo -h -N -o '%T' 2>/dev/null || true)
	[ "$state" = idle ] && break
	for ((k = 0; k < ${#PIDS[@]}; k++)); do
		kill -0 "${PIDS[k]}" 2>/dev/null || { echo "test-cluster: ${NAMES[k]} exited" >&2; exit 1; }
	done
	sleep 0.5
done
[ "$state" = idle ] || { echo "test-cluster: node state '$state' after 60 s, want idle" >&2; exit 1; }
echo "test-cluster: slurm $(sinfo -V | cut -d' ' -f2) on $HOST ($CPUS CPUs), slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT;" \
	"pids munged ${PIDS[0]}, slurmctld ${PIDS[1]}, slurmd ${PIDS[2]}; state in $T"

if [ "${1:-}" = --exec ]; then
	shift
	"$@" &
	GOPID=$!
	wait "$GOPID"
	exit
fi
start=$(date +%s)
# in the background, so that a signal reaches the trap at once; the test's
# temporary directories live in $T, so even a killed test leaves nothing
TMPDIR=$T/tmp CPLLM_CLUSTER_TEST=1 CPLLM_BIN=$BIN go test -count=1 -timeout 20m -v -run '^TestCluster' "$@" ./deploy/ &
GOPID=$!
wait "$GOPID"
echo "test-cluster: go test took $(($(date +%s) - start)) s"
