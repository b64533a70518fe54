#!/bin/bash
# Resubmit failed or cancelled tasks of a submitted chain and re-point the
# rest of the chain at them.
#
#   deploy/slurm/retry.sh DIR STAGE [TASKS]
#
# DIR is the chain's slurm directory: OUT/slurm for submit-data.sh,
# RUNS/slurm/<experiment> for submit-sweep.sh. STAGE is ladder, shards or
# merge (data), sweep or sweep-report; TASKS the array indices to rerun
# (e.g. 1 or 0,2; not for merge and sweep-report). The tasks resume their
# partition (every cpllm command resumes). The next stage, if still pending,
# then waits for every earlier job of STAGE to end (afterany) and for the new
# one to succeed (afterok); if it is no longer queued, it and the stages after
# it are submitted again after the new job. Prints "STAGE JOBID" per job
# submitted and the dependency it set.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || { sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
dir=$(abspath "$1")
stage=$2
tasks=${3:-}
params=$dir/params.env
jobs=$dir/jobs
[ -r "$params" ] || die "$dir holds no params.env (written by the submit scripts)"
[ -r "$jobs" ] || die "$dir holds no params.env and jobs (written by the submit scripts)"

case "$stage" in
ladder) next=shards submit_rest=submit-data.sh ;;
shards) next=merge submit_rest=submit-data.sh ;;
sweep) next=sweep-report submit_rest=submit-sweep.sh ;;
merge | sweep-report) next= ;;
*) die "unknown stage $stage" ;;
esac
case "$stage" in
ladder | shards | sweep)
	[[ "$tasks" =~ ^[0-9]+([,-][0-9]+)*$ ]] || die "TASKS (array indices such as 1 or 0,2) required for $stage"
	arr=(--array="$tasks" --output="$dir/logs/%x-%A_%a.log")
	;;
*)
	[ -z "$tasks" ] || die "$stage is not an array job"
	arr=(--output="$dir/logs/%x-%j.log")
	;;
esac

earlier=$(awk -v s="$stage" '$1 == s {printf "%s%s", sep, $2; sep = ":"}' "$jobs")
read -r -a extra <<<"$(param_get "$params" SBATCH_ARGS)" || true
id=$(submit "$stage" "$jobs" "${arr[@]}" "${extra[@]}" "$CPLLM_DEPLOY/slurm/$stage.sbatch" "$params")
echo "$stage $id"
[ -n "$next" ] || exit 0

nextid=$(awk -v s="$next" '$1 == s {id = $2} END {print id}' "$jobs")
dep="afterok:$id"
[ -n "$earlier" ] && dep="afterany:$earlier,afterok:$id"
state=
[ -n "$nextid" ] && state=$(squeue -h -j "$nextid" -o '%T' 2>/dev/null | sort -u | tr '\n' ' ')
if [ "$state" = "PENDING " ]; then
	scontrol update JobId="$nextid" Dependency="$dep"
	echo "$next $nextid dependency=$dep"
else
	echo "retry.sh: $next job ${nextid:-none} is not pending (${state:-not queued}); submitting the rest of the chain" >&2
	"$CPLLM_DEPLOY/slurm/$submit_rest" --params "$params" --from "$next" --after "$dep"
fi
