#!/bin/bash
# Submit data preparation for any dataset as three chained Slurm jobs:
#   ladder  array 0..N-1   CRF ladder of partition i/N   (ladder.sbatch)
#   shards  array 0..N-1   sampling + shards of i/N      (shards.sbatch, afterok:ladder)
#   merge   one job        merge + verify every split    (merge.sbatch, afterok:shards)
# and print one line per job: STAGE JOBID.
#
#   deploy/slurm/submit-data.sh --dataset NAME --root DIR [--labels FILE] --out DIR -n N [options]
#
#   --splits "S ..."    splits to shard, one output each (default: all, no --split)
#   --ladder-in PATH    encode this video, directory or CSV manifest (id,path)
#                       instead of the dataset's videos
#   --ladder-split S    the dataset split the ladder encodes (default: all)
#   --no-ladder         no CRF ladder: shards, then merge
#   --config FILE       cpllm --config for every command (shards and merge
#                       must agree on shards.*: one config for all)
#   --set KEY=VALUE     cpllm --set for every command (repeatable)
#   --data-args, --ladder-args, --shards-args, --merge-args "FLAGS"
#                       more flags for the loader / each command
#   --cpllm BIN         the binary (default: this checkout's bin/cpllm, else cpllm)
#   --sbatch-args "OPTS" sbatch options for every job (--partition, --account,
#                       --cpus-per-task, ...); the .sbatch files hold defaults
#   --after DEP         dependency of the first job (e.g. afterok:1234)
#   --params FILE       submit from an existing params file instead of the
#                       options above (with --from: resume a chain)
#   --from STAGE        first stage to submit: ladder (default), shards, merge
#
# Writes OUT/slurm/params.env (every setting; the jobs read it, see
# deploy/stage.sh), logs to OUT/slurm/logs/, and appends "STAGE JOBID" to
# OUT/slurm/jobs. A failed or cancelled array task stops the chain (the next
# stage's dependency is never satisfied, and stage.sh checks every
# partition's completion marker); deploy/slurm/retry.sh OUT STAGE TASKS
# resubmits those tasks and re-points the rest of the chain at them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

dataset='' root='' labels='' out='' n='' splits=all ladder_in='' ladder_split='' ladder=yes config='' cpllm=''
data_args='' ladder_args='' shards_args='' merge_args='' sbatch_args='' after='' params='' from=ladder
sets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dataset) dataset=${2:?}; shift ;;
	--root) root=${2:?}; shift ;;
	--labels) labels=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	-n | --parts) n=${2:?}; shift ;;
	--splits) splits=${2:?}; shift ;;
	--ladder-in) ladder_in=${2:?}; shift ;;
	--ladder-split) ladder_split=${2:?}; shift ;;
	--no-ladder) ladder=none ;;
	--config) config=${2:?}; shift ;;
	--set) no_space --set "${2:?}"; sets+=(--set "$2"); shift ;;
	--data-args) data_args=$2; shift ;;
	--ladder-args) ladder_args=$2; shift ;;
	--shards-args) shards_args=$2; shift ;;
	--merge-args) merge_args=$2; shift ;;
	--cpllm) cpllm=${2:?}; shift ;;
	--sbatch-args) sbatch_args=$2; shift ;;
	--after) after=${2:?}; shift ;;
	--params) params=${2:?}; shift ;;
	--from) from=${2:?}; shift ;;
	-h | --help) usage ;;
	*) echo "submit-data.sh: unknown option $1" >&2; usage ;;
	esac
	shift
done
case "$from" in ladder | shards | merge) ;; *) die "--from ladder|shards|merge, not $from" ;; esac

if [ -n "$params" ]; then
	[ -r "$params" ] || die "cannot read $params"
	params=$(abspath "$params")
	out=$(param_get "$params" OUT)
	n=$(param_get "$params" PARTS)
	ladder=$(param_get "$params" LADDER)
	sbatch_args=$(param_get "$params" SBATCH_ARGS)
	[ -n "$out" ] || die "$params lacks OUT"
	[ -n "$n" ] || die "$params lacks PARTS"
else
	[ -n "$out" ] || die "--out is required"
	[ -n "$dataset" ] || die "--dataset is required"
	[ -n "$root" ] || die "--root is required"
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "-n N (number of partitions, >= 1) is required"
	out=$(abspath "$out")
	cpllm=${cpllm:-$(default_cpllm)}
	case "$cpllm" in */*) cpllm=$(abspath "$cpllm") ;; esac
	global=()
	[ -n "$config" ] && { [ -r "$config" ] || die "cannot read --config $config"; global+=(--config "$(abspath "$config")"); }
	global+=("${sets[@]}")
	mkdir -p "$out/slurm/logs"
	params=$out/slurm/params.env
	echo "# written by deploy/slurm/submit-data.sh on $(date -u +%FT%TZ); read by deploy/stage.sh" >"$params.tmp"
	param "$params.tmp" CPLLM "$cpllm"
	param "$params.tmp" CPLLM_ARGS "${global[*]}"
	param "$params.tmp" PARTS "$n"
	param "$params.tmp" DATASET "$dataset"
	param "$params.tmp" ROOT "$(abspath "$root")"
	param "$params.tmp" LABELS "$(abspath "$labels")"
	param "$params.tmp" DATA_ARGS "$data_args"
	param "$params.tmp" OUT "$out"
	param "$params.tmp" SPLITS "$splits"
	param "$params.tmp" LADDER "$ladder"
	param "$params.tmp" LADDER_IN "$(abspath "$ladder_in")"
	param "$params.tmp" LADDER_SPLIT "$ladder_split"
	param "$params.tmp" LADDER_ARGS "$ladder_args"
	param "$params.tmp" SHARDS_ARGS "$shards_args"
	param "$params.tmp" MERGE_ARGS "$merge_args"
	param "$params.tmp" SBATCH_ARGS "$sbatch_args"
	mv "$params.tmp" "$params"
fi
[ "$ladder" = none ] && [ "$from" = ladder ] && from=shards
mkdir -p "$out/slurm/logs"
jobs=$out/slurm/jobs
logs=$out/slurm/logs
read -r -a extra <<<"$sbatch_args" || true
dep=()
[ -n "$after" ] && dep=(--dependency="$after")
last=$((n - 1))

started=
for stage in ladder shards merge; do
	[ "$stage" = "$from" ] && started=1
	[ -n "$started" ] || continue
	case "$stage" in
	ladder | shards) arr=(--array="0-$last" --output="$logs/%x-%A_%a.log") ;;
	merge) arr=(--output="$logs/%x-%j.log") ;;
	esac
	id=$(submit "$stage" "$jobs" "${arr[@]}" "${dep[@]}" "${extra[@]}" "$CPLLM_DEPLOY/slurm/$stage.sbatch" "$params")
	echo "$stage $id"
	dep=(--dependency="afterok:$id")
done
echo "submit-data.sh: params $params, logs $logs/, job ids also in $jobs" >&2
