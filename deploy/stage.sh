#!/bin/bash
# One step of a partitioned cpllm run, for Slurm array tasks and Kubernetes
# Indexed Job pods alike:
#
#   stage.sh STAGE [PARAMS_FILE]
#
# STAGE is ladder | shards | merge (data preparation), sweep | sweep-report,
# or eval. Settings come from the environment or from PARAMS_FILE (KEY=VALUE
# lines, '#' comments, no quoting: the format of `kubectl create configmap
# --from-env-file`); with a file, the keys below are taken from it only.
#
#   CPLLM        the cpllm binary (default: cpllm on PATH)
#   CPLLM_ARGS   global flags for every command: --config FILE, --set K=V ...
#   PARTS        N, the number of partitions (array size / completions)
#   INDEX        this task's partition i in 0..N-1 (default: SLURM_ARRAY_TASK_ID,
#                else JOB_COMPLETION_INDEX)
# data (ladder, shards, merge):
#   DATASET ROOT LABELS  loader name, dataset root, label file (LABELS optional)
#   DATA_ARGS    more loader flags (--layout, --mos-min/--mos-max)
#   OUT          output root: OUT/ladder/part-i, OUT/parts/SPLIT/part-i,
#                OUT/shards/SPLIT (merged), OUT/done/ (completion markers)
#   SPLITS       splits to shard, space-separated; "all" (default) = no --split
#   LADDER       "none" skips the CRF ladder (no ladder stage, no --ladder)
#   LADDER_IN    encode this video/dir/CSV manifest instead of the dataset
#   LADDER_SPLIT the dataset split the ladder encodes (default all)
#   LADDER_ARGS SHARDS_ARGS MERGE_ARGS  extra flags of each command
# sweep, sweep-report: EXPERIMENT, RUNS (--out), SEEDS (optional), SWEEP_ARGS,
#   REPORT_ARGS
# eval: CHECKPOINTS (file, one run or checkpoint directory a line),
#   EVAL_OUT, EVAL_ARGS (e.g. --datasets lsvq-test --root-lsvq DIR)
#
# *_ARGS values are split on white space (no quoting). DRY_RUN=1 prints the
# commands instead of running them.
#
# A partitioned stage writes OUT/done/STAGE-i-of-N when its command succeeds;
# shards and merge refuse to start until every partition of the stage before
# them has its marker, so a failed or cancelled task stops the chain with a
# message naming it, whatever the scheduler does with dependencies. Every
# cpllm command resumes, so rerunning a task (a requeue, a retry, a restarted
# pod) continues its partition.
set -euo pipefail

KEYS=(CPLLM CPLLM_ARGS PARTS INDEX DATASET ROOT LABELS DATA_ARGS OUT SPLITS LADDER LADDER_IN LADDER_SPLIT
	LADDER_ARGS SHARDS_ARGS MERGE_ARGS EXPERIMENT RUNS SEEDS SWEEP_ARGS REPORT_ARGS CHECKPOINTS EVAL_OUT EVAL_ARGS)

usage() {
	echo "usage: stage.sh ladder|shards|merge|sweep|sweep-report|eval [PARAMS_FILE]" >&2
	exit 2
}
die() {
	echo "stage.sh $STAGE: $*" >&2
	exit 1
}

STAGE=${1:-}
case "$STAGE" in
ladder | shards | merge | sweep | sweep-report | eval) ;;
*) usage ;;
esac

if [ $# -ge 2 ]; then
	params=$2
	[ -r "$params" ] || die "cannot read $params"
	keep_index=${INDEX:-}
	unset "${KEYS[@]}"
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		case "$line" in '' | '#'*) continue ;; esac
		key=${line%%=*}
		[[ "$line" == *=* && "$key" =~ ^[A-Z][A-Z0-9_]*$ ]] || die "$params:$n: want KEY=VALUE, got: $line"
		export "$key=${line#*=}"
	done <"$params"
	[ -n "$keep_index" ] && INDEX=${INDEX:-$keep_index}
fi

CPLLM=${CPLLM:-cpllm}
# words VAR: the value of VAR split on white space (no globbing), into W.
words() { read -r -a W <<<"${!1:-}" || true; }
words CPLLM_ARGS
GLOBAL=("${W[@]}")
if [ -n "${SLURM_CPUS_PER_TASK:-}" ] && [ -z "${GOMAXPROCS:-}" ]; then
	export GOMAXPROCS=$SLURM_CPUS_PER_TASK
fi

# run prints a command (shell-quoted) and runs it, or only prints it with DRY_RUN=1.
run() {
	printf '+' >&2
	printf ' %q' "$@" >&2
	printf '\n' >&2
	[ "${DRY_RUN:-0}" = 1 ] && { printf '%q ' "$@"; printf '\n'; return 0; }
	"$@"
}

partition() {
	[[ "${PARTS:-}" =~ ^[1-9][0-9]*$ ]] || die "PARTS must be the number of partitions N >= 1 (got '${PARTS:-}')"
	I=${INDEX:-${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}}
	[[ "$I" =~ ^[0-9]+$ ]] || die "no partition index: set INDEX, or run as a Slurm array task or an Indexed Job pod"
	[ "$I" -lt "$PARTS" ] || die "partition index $I is not below PARTS=$PARTS"
	N=$PARTS
}

need() {
	local v
	for v in "$@"; do
		[ -n "${!v:-}" ] || die "$v is not set"
	done
}

marker() { echo "$OUT/done/$1"; }

mark_done() {
	[ "${DRY_RUN:-0}" = 1 ] && return 0
	mkdir -p "$OUT/done"
	date -u +%FT%TZ >"$(marker "$1")"
}

# require_all STAGE: every partition of STAGE has finished.
require_all() {
	local i missing=()
	[ "${DRY_RUN:-0}" = 1 ] && return 0
	for ((i = 0; i < PARTS; i++)); do
		[ -e "$(marker "$1-$i-of-$PARTS")" ] || missing+=("$i")
	done
	[ ${#missing[@]} -eq 0 ] || die "$1 partitions ${missing[*]} of 0..$((PARTS - 1)) have not finished (no $(marker "$1-I-of-$PARTS")); rerun those tasks first"
}

dataset_args() {
	need DATASET ROOT
	SRC=(--dataset "$DATASET" --root "$ROOT")
	[ -n "${LABELS:-}" ] && SRC+=(--labels "$LABELS")
	words DATA_ARGS
	SRC+=("${W[@]}")
}

splits() {
	words SPLITS
	SPLIT_LIST=("${W[@]}")
	[ ${#SPLIT_LIST[@]} -gt 0 ] || SPLIT_LIST=(all)
}

case "$STAGE" in
ladder)
	need OUT
	partition
	[ "${LADDER:-}" = none ] && die "LADDER=none: this run has no ladder stage"
	if [ -n "${LADDER_IN:-}" ]; then
		SRC=(--in "$LADDER_IN")
	else
		dataset_args
		[ -n "${LADDER_SPLIT:-}" ] && [ "$LADDER_SPLIT" != all ] && SRC+=(--split "$LADDER_SPLIT")
	fi
	words LADDER_ARGS
	run "$CPLLM" "${GLOBAL[@]}" data ladder "${SRC[@]}" --shard "$I/$N" --out "$OUT/ladder/part-$I" "${W[@]}"
	mark_done "ladder-$I-of-$N"
	;;
shards)
	need OUT
	partition
	dataset_args
	splits
	ladders=()
	if [ "${LADDER:-}" != none ]; then
		require_all ladder
		for ((k = 0; k < N; k++)); do ladders+=(--ladder "$OUT/ladder/part-$k"); done
	fi
	for s in "${SPLIT_LIST[@]}"; do
		sp=()
		[ "$s" != all ] && sp=(--split "$s")
		words SHARDS_ARGS
		run "$CPLLM" "${GLOBAL[@]}" data shards "${SRC[@]}" "${sp[@]}" "${ladders[@]}" --shard "$I/$N" \
			--out "$OUT/parts/$s/part-$I" "${W[@]}"
	done
	mark_done "shards-$I-of-$N"
	;;
merge)
	need OUT PARTS
	[[ "$PARTS" =~ ^[1-9][0-9]*$ ]] || die "PARTS must be a number >= 1"
	splits
	require_all shards
	for s in "${SPLIT_LIST[@]}"; do
		parts=()
		for ((k = 0; k < PARTS; k++)); do parts+=("$OUT/parts/$s/part-$k"); done
		if [ -e "$OUT/shards/$s/manifest.json" ] && [ "${DRY_RUN:-0}" != 1 ]; then
			echo "stage.sh merge: $OUT/shards/$s is already merged; verifying it" >&2
		else
			words MERGE_ARGS
			run "$CPLLM" "${GLOBAL[@]}" data merge --out "$OUT/shards/$s" "${W[@]}" "${parts[@]}"
		fi
		run "$CPLLM" data verify --shards "$OUT/shards/$s"
	done
	mark_done "merge-of-$PARTS"
	;;
sweep)
	need EXPERIMENT RUNS
	partition
	seeds=()
	[ -n "${SEEDS:-}" ] && seeds=(--seeds "$SEEDS")
	words SWEEP_ARGS
	run "$CPLLM" "${GLOBAL[@]}" sweep "$EXPERIMENT" "${seeds[@]}" --shard "$I/$N" --out "$RUNS" "${W[@]}"
	;;
sweep-report)
	need EXPERIMENT RUNS
	seeds=()
	[ -n "${SEEDS:-}" ] && seeds=(--seeds "$SEEDS")
	words REPORT_ARGS
	run "$CPLLM" "${GLOBAL[@]}" sweep report "$EXPERIMENT" "${seeds[@]}" --out "$RUNS" "${W[@]}"
	;;
eval)
	need CHECKPOINTS EVAL_OUT
	[ -r "$CHECKPOINTS" ] || die "cannot read the checkpoint list $CHECKPOINTS"
	ck=()
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=${line#"${line%%[![:space:]]*}"} # trim
		line=${line%"${line##*[![:space:]]}"}
		[ -n "$line" ] && ck+=(--checkpoint "$line")
	done <"$CHECKPOINTS"
	[ ${#ck[@]} -gt 0 ] || die "$CHECKPOINTS lists no checkpoint"
	words EVAL_ARGS
	run "$CPLLM" "${GLOBAL[@]}" eval "${ck[@]}" --out "$EVAL_OUT" "${W[@]}"
	;;
esac
