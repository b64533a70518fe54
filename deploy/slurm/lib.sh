# shellcheck shell=bash
# Helpers of the submit scripts (sourced, not run).

SLURM_DIR_OF_DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CPLLM_DEPLOY
CPLLM_DEPLOY=$(dirname "$SLURM_DIR_OF_DEPLOY")

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# abspath PATH: PATH made absolute (it need not exist); "" stays "".
abspath() {
	[ -z "$1" ] && return 0
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/${1#./}" ;;
	esac
}

# default_cpllm: this checkout's bin/cpllm when built, else cpllm on PATH.
default_cpllm() {
	local b
	b=$(dirname "$CPLLM_DEPLOY")/bin/cpllm
	if [ -x "$b" ]; then printf '%s\n' "$b"; else command -v cpllm || echo cpllm; fi
}

# param FILE KEY VALUE appends KEY=VALUE to a params file (stage.sh format).
param() {
	case "$3" in *$'\n'*) die "$2 contains a newline" ;; esac
	printf '%s=%s\n' "$2" "$3" >>"$1"
}

# param_get FILE KEY prints the value of KEY in a params file.
param_get() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		[ "${line%%=*}" = "$2" ] && { printf '%s\n' "${line#*=}"; return 0; }
	done <"$1"
	return 0
}

# no_space NAME VALUE: *_ARGS values are split on white space by stage.sh.
no_space() {
	case "$2" in *[[:space:]]*) die "$1 '$2' contains white space (stage.sh splits arguments on it)" ;; esac
}

# submit NAME JOBS_FILE SBATCH_ARGS... prints the job id, and appends
# "NAME ID" to JOBS_FILE.
submit() {
	local name=$1 jobs=$2 out id
	shift 2
	[ "${SUBMIT_DRY_RUN:-0}" = 1 ] && { printf '+ sbatch %s\n' "$*" >&2; }
	out=$(sbatch --parsable "$@") || die "sbatch failed for $name: sbatch $*"
	id=${out%%;*} # "ID" or "ID;CLUSTER"
	[[ "$id" =~ ^[0-9]+$ ]] || die "sbatch printed '$out' for $name, not a job id"
	printf '%s %s\n' "$name" "$id" >>"$jobs"
	printf '%s\n' "$id"
}
