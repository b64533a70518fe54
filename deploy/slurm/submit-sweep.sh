#!/bin/bash
# Submit a sweep as a Slurm job array and its report after it:
#   sweep         array 0..N-1   the cells i mod N     (sweep.sbatch)
#   sweep-report  one job        tables, tests, charts (sweep-report.sbatch, afterok:sweep)
# and print one line per job: STAGE JOBID.
#
#   deploy/slurm/submit-sweep.sh --experiment EXP.yaml --out RUNS -n N [options]
#
#   --seeds K           seeds 1..K instead of the experiment's (sweep and report)
#   --config FILE       cpllm --config for both jobs
#   --set KEY=VALUE     cpllm --set for both jobs (repeatable)
#   --sweep-args, --report-args "FLAGS"   more flags (e.g. --report-args "--resamples 2000")
#   --cpllm BIN         the binary (default: this checkout's bin/cpllm, else cpllm)
#   --sbatch-args "OPTS" sbatch options for both jobs
#   --after DEP         dependency of the array (e.g. afterok:1234, a data merge job)
#   --params FILE, --from sweep|sweep-report   resubmit from an existing params file
#
# All array tasks share RUNS (a cluster file system): each writes only its own
# cells, RUNS/<experiment>/<variant>/seed<k>/, and resumes them when rerun.
# Writes RUNS/slurm/<experiment file name>/params.env, logs/ and jobs;
# deploy/slurm/retry.sh RUNS/slurm/<name> sweep TASKS resubmits tasks.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

exp='' runs='' n='' seeds='' config='' cpllm='' sweep_args='' report_args='' sbatch_args='' after='' params='' from=sweep
sets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--experiment) exp=${2:?}; shift ;;
	--out) runs=${2:?}; shift ;;
	-n | --parts) n=${2:?}; shift ;;
	--seeds) seeds=${2:?}; shift ;;
	--config) config=${2:?}; shift ;;
	--set) no_space --set "${2:?}"; sets+=(--set "$2"); shift ;;
	--sweep-args) sweep_args=$2; shift ;;
	--report-args) report_args=$2; shift ;;
	--cpllm) cpllm=${2:?}; shift ;;
	--sbatch-args) sbatch_args=$2; shift ;;
	--after) after=${2:?}; shift ;;
	--params) params=${2:?}; shift ;;
	--from) from=${2:?}; shift ;;
	-h | --help) usage ;;
	*) echo "submit-sweep.sh: unknown option $1" >&2; usage ;;
	esac
	shift
done
case "$from" in sweep | sweep-report) ;; *) die "--from sweep|sweep-report, not $from" ;; esac

if [ -n "$params" ]; then
	[ -r "$params" ] || die "cannot read $params"
	params=$(abspath "$params")
	dir=$(dirname "$params")
	n=$(param_get "$params" PARTS)
	sbatch_args=$(param_get "$params" SBATCH_ARGS)
else
	[ -n "$exp" ] || die "--experiment is required"
	[ -n "$runs" ] || die "--out is required"
	[ -r "$exp" ] || die "cannot read $exp"
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "-n N (number of array tasks, >= 1) is required"
	[ -z "$seeds" ] || [[ "$seeds" =~ ^[1-9][0-9]*$ ]] || die "--seeds takes a number"
	cpllm=${cpllm:-$(default_cpllm)}
	case "$cpllm" in */*) cpllm=$(abspath "$cpllm") ;; esac
	global=()
	[ -n "$config" ] && { [ -r "$config" ] || die "cannot read --config $config"; global+=(--config "$(abspath "$config")"); }
	global+=("${sets[@]}")
	runs=$(abspath "$runs")
	name=$(basename "$exp")
	dir=$runs/slurm/${name%.y*ml}
	mkdir -p "$dir/logs"
	params=$dir/params.env
	echo "# written by deploy/slurm/submit-sweep.sh on $(date -u +%FT%TZ); read by deploy/stage.sh" >"$params.tmp"
	param "$params.tmp" CPLLM "$cpllm"
	param "$params.tmp" CPLLM_ARGS "${global[*]}"
	param "$params.tmp" PARTS "$n"
	param "$params.tmp" EXPERIMENT "$(abspath "$exp")"
	param "$params.tmp" RUNS "$runs"
	param "$params.tmp" SEEDS "$seeds"
	param "$params.tmp" SWEEP_ARGS "$sweep_args"
	param "$params.tmp" REPORT_ARGS "$report_args"
	param "$params.tmp" SBATCH_ARGS "$sbatch_args"
	mv "$params.tmp" "$params"
fi
mkdir -p "$dir/logs"
read -r -a extra <<<"$sbatch_args" || true
dep=()
[ -n "$after" ] && dep=(--dependency="$after")
if [ "$from" = sweep ]; then
	id=$(submit sweep "$dir/jobs" --array="0-$((n - 1))" --output="$dir/logs/%x-%A_%a.log" "${dep[@]}" "${extra[@]}" \
		"$CPLLM_DEPLOY/slurm/sweep.sbatch" "$params")
	echo "sweep $id"
	dep=(--dependency="afterok:$id")
fi
id=$(submit sweep-report "$dir/jobs" --output="$dir/logs/%x-%j.log" "${dep[@]}" "${extra[@]}" \
	"$CPLLM_DEPLOY/slurm/sweep-report.sbatch" "$params")
echo "sweep-report $id"
echo "submit-sweep.sh: params $params, logs $dir/logs/, job ids also in $dir/jobs" >&2
