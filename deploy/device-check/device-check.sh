#!/usr/bin/env bash
# Accelerator check for cpllm (see README.md next to this script).
#
#   device-check.sh build                 # here: build bin/paperbench (no FFmpeg) and check its links
#   device-check.sh run [--cpu-only] [--steps N] [--paper-steps N] [--out DIR]
#
# run, on a machine with an NVIDIA GPU and a PJRT CUDA plugin: the tiny model
# trained N steps on the pure-Go backend and on xla:cuda from the same weights
# (losses compared), then paper-size training steps on xla:cuda in bfloat16
# and float32; writes DIR/report.json. --cpu-only runs the same Go-side code
# with two pure-Go backends and the tiny config instead (no GPU needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${PAPERBENCH:-bin/paperbench} # PAPERBENCH: another build of it (tests)

die() { echo "device-check: $*" >&2; exit 2; }

build() {
	command -v go >/dev/null || die "Go is needed to build (run this part on the build machine)"
	GOEXPERIMENT=$(GOEXPERIMENT=simd go env GOEXPERIMENT 2>/dev/null || true) go build -o "$BIN" ./cmd/paperbench
	if go list -deps ./cmd/paperbench | grep -q go-astiav; then die "$BIN links go-astiav (FFmpeg)"; fi
	if ldd "$BIN" | grep -Eq 'libav|libsw'; then die "$BIN links FFmpeg libraries: $(ldd "$BIN" | grep -E 'libav|libsw')"; fi
	echo "device-check: built $BIN (no FFmpeg): $(ldd "$BIN" | awk '{print $1}' | tr '\n' ' ')"
}

# plugin_path prints the PJRT CUDA plugin: from PJRT_PLUGIN_LIBRARY_PATH, else
# from the jax CUDA plugin packages (jax-cuda13-pjrt / jax-cuda12-pjrt) of a python3.
plugin_path() {
	local d f
	if [ -n "${PJRT_PLUGIN_LIBRARY_PATH:-}" ]; then
		IFS=: read -ra dirs <<<"$PJRT_PLUGIN_LIBRARY_PATH"
		for d in "${dirs[@]}"; do
			for f in "$d"/pjrt_c_api_cuda_plugin.so "$d"/pjrt[-_]plugin[-_]cuda*.so "$d"/xla_cuda_plugin.so; do
				[ -f "$f" ] && { echo "$f"; return 0; }
			done
		done
	fi
	local py
	for py in python3 /usr/bin/python3 /usr/local/bin/python3; do
		command -v "$py" >/dev/null || continue
		d=$("$py" - <<'PY' 2>/dev/null || true
import importlib.util, os
for name in ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12", "jax_cuda13_plugin", "jax_cuda12_plugin"):
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        continue
    if spec and spec.submodule_search_locations:
        print(list(spec.submodule_search_locations)[0]); break
PY
)
		[ -n "$d" ] || continue
		f=$(find "$d" -maxdepth 2 -name '*.so' \( -name '*pjrt*' -o -name 'xla_cuda_plugin.so' \) | head -1)
		[ -n "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# setup_plugin links the plugin under the name go-xla searches for and puts
# the nvidia/*/lib directories of its Python installation on LD_LIBRARY_PATH.
setup_plugin() {
	local p=$1 site link
	link=$(mktemp -d)/pjrt
	mkdir -p "$link"
	ln -s "$p" "$link/pjrt_c_api_cuda_plugin.so"
	export PJRT_PLUGIN_LIBRARY_PATH=$link
	site=$(cd "$(dirname "$p")" && while [ "$PWD" != / ] && [ ! -d nvidia ]; do cd ..; done; [ -d nvidia ] && echo "$PWD/nvidia" || true)
	if [ -n "$site" ]; then
		local libs
		libs=$(find "$site" -maxdepth 2 -type d -name lib | tr '\n' ':')
		export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
		ln -s "$site" "$(dirname "$link")/nvidia" # go-xla looks for nvidia/ beside the plugin's directory
	fi
}

# gpu_mem_watch samples the GPU's used memory (MiB) into $1 until killed.
gpu_mem_watch() { while nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits >>"$1" 2>/dev/null; do sleep 0.5; done; }

# json_or_null prints file $1 when it holds a JSON object, else null.
json_or_null() { if grep -q '^{' "$1" 2>/dev/null; then tail -1 "$1"; else echo null; fi; }

# peak_mib prints the largest number in file $1, else null.
peak_mib() { grep -E '^[0-9]+$' "$1" 2>/dev/null | sort -n | tail -1 | grep . || echo null; }

run() {
	local cpu_only=0 steps=20 paper_steps=3 out=runs/device-check
	while [ $# -gt 0 ]; do
		case $1 in
		--cpu-only) cpu_only=1 ;;
		--steps) steps=$2; shift ;;
		--paper-steps) paper_steps=$2; shift ;;
		--out) out=$2; shift ;;
		*) die "unknown option $1" ;;
		esac
		shift
	done
	[ -x "$BIN" ] || die "$BIN missing: run '$0 build' (make device-check) on a machine with Go first"
	mkdir -p "$out"
	local gpu=none plugin=none backends accel paper=configs/model/paper.yaml
	if [ $cpu_only = 1 ]; then
		backends="go:parallelism=-1 go:ops_sequential"; accel=go:parallelism=-1; paper=configs/model/tiny.yaml
	else
		if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
			gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)
		else
			die "no NVIDIA GPU found (nvidia-smi missing or lists no device); --cpu-only runs the Go-backend half"
		fi
		plugin=$(plugin_path) || die "no PJRT CUDA plugin found: set PJRT_PLUGIN_LIBRARY_PATH to the directory of pjrt_c_api_cuda_plugin.so, or install jax-cuda13-pjrt (pip) for python3"
		setup_plugin "$plugin"
		backends="go:parallelism=-1 xla:cuda,tf32=false"; accel=xla:cuda
	fi
	echo "device-check: GPU: $gpu; plugin: $plugin"
	echo "device-check: tiny model, $steps steps on: $backends"
	local rc=0
	"$BIN" compare -config configs/model/tiny.yaml -backends "$backends" -steps "$steps" >"$out/compare.json" || rc=1
	local dt
	for dt in bfloat16 float32; do
		echo "device-check: $paper, $dt, $paper_steps training steps on $accel"
		: >"$out/gpu-mem-$dt.txt"
		local watch=""
		if [ $cpu_only = 0 ]; then gpu_mem_watch "$out/gpu-mem-$dt.txt" & watch=$!; fi
		"$BIN" run -config "$paper" -dtype "$dt" -backend "$accel" -forward 2 -train "$paper_steps" >"$out/paper-$dt.json" 2>"$out/paper-$dt.log" || { rc=1; tail -5 "$out/paper-$dt.log" >&2; }
		[ -z "$watch" ] || kill "$watch" 2>/dev/null || true
	done
	{
		printf '{"date":"%s","gpu":"%s","plugin":"%s","cpu_only":%s,' "$(date -u +%FT%TZ)" "$gpu" "$plugin" "$([ $cpu_only = 1 ] && echo true || echo false)"
		printf '"tiny_compare":%s,' "$(json_or_null "$out/compare.json")"
		for dt in bfloat16 float32; do
			printf '"paper_%s":%s,"gpu_mem_peak_mib_%s":%s,' "$dt" "$(json_or_null "$out/paper-$dt.json")" "$dt" "$(peak_mib "$out/gpu-mem-$dt.txt")"
		done
		printf '"ok":%s}\n' "$([ $rc = 0 ] && echo true || echo false)"
	} >"$out/report.json"
	echo "device-check: report in $out/report.json (ok=$([ $rc = 0 ] && echo true || echo false))"
	return $rc
}

case ${1:-} in
build) build ;;
run) shift; run "$@" ;;
*) echo "usage: $0 build | run [--cpu-only] [--steps N] [--paper-steps N] [--out DIR]" >&2; exit 2 ;;
esac
