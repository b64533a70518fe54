#!/bin/bash
# Submit one evaluation job over a list of checkpoints and print "eval JOBID".
#
#   deploy/slurm/submit-eval.sh --checkpoints FILE --out DIR [options] -- EVAL_FLAGS...
#
# FILE lists run or checkpoint directories, one a line ('#' comments); the job
# runs cpllm eval --checkpoint C1 --checkpoint C2 ... --out DIR EVAL_FLAGS
# (all checkpoints loaded at once, each video decoded once for all of them;
# predictions per checkpoint and of their mean). EVAL_FLAGS are the datasets,
# e.g. --datasets lsvq-test,lsvq-1080p --root-lsvq /data/LSVQ, or
# --datasets shards:/runs/lsvq/shards/test; no flag may contain white space.
#
#   --config FILE, --set KEY=VALUE   cpllm global flags
#   --cpllm BIN         the binary (default: this checkout's bin/cpllm, else cpllm)
#   --sbatch-args "OPTS" sbatch options (--partition, --gres, ...)
#   --after DEP         dependency, e.g. afterok:1234 (a sweep's array)
#
# Writes DIR/slurm/params.env, DIR/slurm/logs/ and DIR/slurm/jobs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

ckpts='' out='' config='' cpllm='' sbatch_args='' after=''
sets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--checkpoints) ckpts=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--config) config=${2:?}; shift ;;
	--set) no_space --set "${2:?}"; sets+=(--set "$2"); shift ;;
	--cpllm) cpllm=${2:?}; shift ;;
	--sbatch-args) sbatch_args=$2; shift ;;
	--after) after=${2:?}; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "submit-eval.sh: unknown option $1 (eval flags go after --)" >&2; usage ;;
	esac
	shift
done
[ -n "$ckpts" ] || die "--checkpoints is required"
[ -n "$out" ] || die "--out is required"
[ -r "$ckpts" ] || die "cannot read $ckpts"
[ $# -gt 0 ] || die "eval flags (the datasets) go after --"
for a in "$@"; do no_space "eval flag" "$a"; done
cpllm=${cpllm:-$(default_cpllm)}
case "$cpllm" in */*) cpllm=$(abspath "$cpllm") ;; esac
global=()
[ -n "$config" ] && { [ -r "$config" ] || die "cannot read --config $config"; global+=(--config "$(abspath "$config")"); }
global+=("${sets[@]}")
out=$(abspath "$out")
dir=$out/slurm
mkdir -p "$dir/logs"
params=$dir/params.env
echo "# written by deploy/slurm/submit-eval.sh on $(date -u +%FT%TZ); read by deploy/stage.sh" >"$params.tmp"
param "$params.tmp" CPLLM "$cpllm"
param "$params.tmp" CPLLM_ARGS "${global[*]}"
param "$params.tmp" CHECKPOINTS "$(abspath "$ckpts")"
param "$params.tmp" EVAL_OUT "$out"
param "$params.tmp" EVAL_ARGS "$*"
param "$params.tmp" SBATCH_ARGS "$sbatch_args"
mv "$params.tmp" "$params"
read -r -a extra <<<"$sbatch_args" || true
dep=()
[ -n "$after" ] && dep=(--dependency="$after")
id=$(submit eval "$dir/jobs" --output="$dir/logs/%x-%j.log" "${dep[@]}" "${extra[@]}" "$CPLLM_DEPLOY/slurm/eval.sbatch" "$params")
echo "eval $id"
echo "submit-eval.sh: params $params, logs $dir/logs/" >&2
