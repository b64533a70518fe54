# cpllm: `make demo` and `make test` work on a fresh Debian 12 machine with Go installed.
SHELL := /bin/bash
GO ?= go
# GOEXPERIMENT=simd (Go 1.26) compiles the pure-Go backend's AVX2/AVX-512
# kernels (~3x faster training); toolchains without it build without.
export GOEXPERIMENT := $(shell GOEXPERIMENT=simd $(GO) env GOEXPERIMENT 2>/dev/null)
BIN := bin/cpllm
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the project needs: FFmpeg libraries for go-astiav (libx264
# comes with libavcodec), and the test oracles: the ffmpeg CLI, scipy for
# statistics, SentencePiece's spm_* tools, PyTorch for numerics.
APT_PKGS := pkg-config build-essential libavcodec-dev libavformat-dev libavutil-dev \
	libavfilter-dev libavdevice-dev libswscale-dev libswresample-dev ffmpeg python3-scipy sentencepiece \
	python3-torch

.PHONY: help deps build tokenizer test test-cluster test-long bench demo demo-avx2 cpuidmask model model-ladders model-data model-data-frames model-data-deep pretrained-deps fmt vet tidy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## install missing Debian packages (apt-get only when something is missing)
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required (https://go.dev/dl)"; exit 1; }
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@$(MAKE) --no-print-directory onnx-deps || echo "deps: ONNX Runtime could not be installed: binaries fall back to the pure-Go backend (backend: auto)"
	@$(MAKE) --no-print-directory pretrained-deps || echo "deps: the pretrained MobileNetV2 could not be installed: its features (model/mobilenet) are unavailable"

# -tags onnx links GoMLX's ONNX Runtime backend, which loads the library
# make deps installed at run time: backend auto (the configs' default) uses it
# where it is present and the pure-Go backend elsewhere.
build: deps ## build bin/cpllm (ONNX Runtime backend compiled in)
	$(GO) build -tags onnx -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/cpllm

# The tokenizer configs/model/*.yaml name: spm_train on the built-in corpus
# (prompts, answer words, data/describe descriptions); the same bytes every
# time (cmd/cpllm TestBuiltinTokenizerIsReproducible checks the committed files).
tokenizer: build ## retrain configs/tokenizer/cpllm.{model,vocab} (512 pieces) from the built-in corpus
	./$(BIN) tokenizer train --builtin --out configs/tokenizer/cpllm --vocab 512

# Under make, a test whose oracle (ffmpeg, scipy, spm_*, torch) is missing
# fails instead of skipping: make deps installs them all.
test: deps ## run the test suite (real-data tests skip when ../shared/realdata is absent)
	$(GO) vet ./...
	CPLLM_REQUIRE_ORACLES=1 $(GO) test -timeout 30m ./...
	@if [ -f $(ONNXRT_LIB) ]; then $(GO) test -tags onnx -run 'ONNX' -timeout 20m ./model/ ./model/mobilenet/ ./train/; \
	else echo "test: the ONNX Runtime library ($(ONNXRT_LIB)) is absent: the ONNX backend's tests did not run"; fi

# Pretrained image features (model/mobilenet): the MobileNetV2 (Keras
# applications layout, ImageNet weights up to block 10, blocks 11-16
# fine-tuned for content classification; uint8-quantized) that npm's nsfwjs
# (MIT) ships inside its tarball as JavaScript modules. npm pack fetches the
# pinned tarball (no install scripts, no dependencies), its SHA-256 checked;
# deploy/tfjs-export.js writes the plain TF.js files, their SHA-256 checked,
# into .deps/pretrained/mobilenetv2. Rerunning does nothing when they are in place.
NSFWJS_VERSION := 4.4.0
NSFWJS_SHA256 := 585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382
MNV2_DIR := .deps/pretrained/mobilenetv2
MNV2_SHA256 := 8e7dddbb16acacc1bf1601b1b8a761e730ff934b7f2d7771312b2f000e5f5f13  $(MNV2_DIR)/group1-shard1of1.bin\nfeffc6868d61e412a4e7a22657a3d07a8a48df6e11688a9e25b77c23cb7b45c9  $(MNV2_DIR)/model.json
.PHONY: pretrained-deps
pretrained-deps: ## pretrained MobileNetV2 for model/mobilenet (npm nsfwjs, pinned + SHA-256) in .deps/pretrained/mobilenetv2
	@if ! printf '$(MNV2_SHA256)\n' | sha256sum -c --status 2>/dev/null; then \
		command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends npm >/dev/null; }; \
		tmp=$$(mktemp -d) && \
		(cd $$tmp && npm pack --silent nsfwjs@$(NSFWJS_VERSION) >/dev/null) && \
		echo "$(NSFWJS_SHA256)  $$tmp/nsfwjs-$(NSFWJS_VERSION).tgz" | sha256sum -c --status && \
		tar -xzf $$tmp/nsfwjs-$(NSFWJS_VERSION).tgz -C $$tmp package/dist/models/mobilenet_v2 package/LICENSE && \
		node deploy/tfjs-export.js $$tmp/package/dist/models/mobilenet_v2 $(MNV2_DIR) && \
		cp $$tmp/package/LICENSE $(MNV2_DIR)/LICENSE.nsfwjs && rm -rf $$tmp && \
		printf '$(MNV2_SHA256)\n' | sha256sum -c --status || { \
			echo "pretrained-deps: nsfwjs@$(NSFWJS_VERSION) or the files exported from it do not match their pinned SHA-256"; exit 1; }; \
	fi
	@echo "pretrained-deps: MobileNetV2 (nsfwjs $(NSFWJS_VERSION)) in $(MNV2_DIR)"

# A one-node Slurm cluster on this machine (root; installs slurm-wlm and munge
# when missing) runs the deploy/slurm scripts for real: deploy/test-cluster.sh.
test-cluster: build ## the Slurm job scripts on a real one-node Slurm cluster (root)
	$(SUDO) env PATH="$$PATH" GOEXPERIMENT=$(GOEXPERIMENT) deploy/test-cluster.sh

test-long: deps ## heavy variants: full 20-level ladders on real data, long runs
	$(GO) test -timeout 60m ./... -args -long

# The model, trainer and scoring benchmarks run on every backend available
# (model.AvailableBackends): built with -tags onnx, they add ONNX Runtime
# beside the pure-Go backend, and print each one's ratio to PyTorch.
bench: deps onnx-deps ## benchmarks: ladder and shards vs ffmpeg CLI, shard RSS, sampler, shard I/O, model and trainer per backend vs PyTorch, generation, seconds per scored video per backend
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./data/augment/ ./data/prep/ ./data/sample/ ./data/shards/ ./data/stats/
	$(GO) test -tags onnx -run '^$$' -bench 'Tiny(Forward|TrainStep)' -timeout 30m ./model/
	$(GO) test -tags onnx -run '^$$' -bench VsPyTorch -benchtime 1x -timeout 30m ./model/
	$(GO) test -run '^$$' -bench Generate -benchtime 5x -timeout 30m ./model/generate/
	$(GO) test -tags onnx -run '^$$' -bench TrainerVsPyTorch -benchtime 1x -timeout 30m ./train/
	$(GO) test -tags onnx -run '^$$' -bench ScoreVideo -benchtime 5x -timeout 30m ./eval/suite/

# The paper-size model (configs/model/paper.yaml, ~3 B parameters) on this
# CPU: pieces with one and two layers per tower, extrapolated by layer count,
# then the full-size runs that fit under the RSS watchdog's limit
# (docs/benchmarks.md, "Paper-size model"). About an hour on 2 cores (half
# of it the bfloat16 forward); needs ~13 GiB available. bfloat16 is measured on the one-layer forward only:
# the pure-Go backend's bfloat16 is too slow for its pieces (BENCH_PAPER_DTYPES
# adds it to the plan).
BENCH_PAPER_DTYPES ?= float32
.PHONY: bench-paper device-check
bench-paper: ## paper-size model on CPU: forward and training-step time, peak RSS, memory a step needs -> runs/bench-paper/report.{json,md}
	$(GO) build -o bin/paperbench ./cmd/paperbench
	nice -n 10 bin/paperbench plan -full -dtypes $(BENCH_PAPER_DTYPES) -out runs/bench-paper
	for dt in float32 bfloat16; do GOGC=25 nice -n 10 timeout 1800 bin/paperbench run -layers 1,1,1,1 -dtype $$dt -forward 1 -train 0 \
		> runs/bench-paper/piece-forward-$$dt.json || echo "bench-paper: the one-layer $$dt forward failed or took over 30 min"; done

# Builds bin/paperbench (no FFmpeg), then runs the check: on a machine with an
# NVIDIA GPU and a PJRT CUDA plugin it compares xla:cuda with the Go backend
# and times paper-size steps; elsewhere it stops with what is missing.
# DEVICE_CHECK_ARGS=--cpu-only runs its Go half (deploy/device-check/README.md).
device-check: ## accelerator check (deploy/device-check): build without FFmpeg, xla:cuda vs Go losses, paper-size bf16 steps -> runs/device-check/report.json
	deploy/device-check/device-check.sh build
	deploy/device-check/device-check.sh run $(DEVICE_CHECK_ARGS)

DEMO ?= runs/demo
REALDATA ?= ../shared/realdata
KONVID_ROOT = $(REALDATA)/KoNViD-1k
KONVID_LABELS = $(REALDATA)/labels/VIDEVAL/features/KONVID_1K_metadata.csv
demo: build ## the shipped model scores a few clips; then synthetic corpus -> CRF ladder -> shards -> train tiny model -> eval (test split, KoNViD clips) -> runs/demo/report.json
	@start=$$(date +%s); \
	./$(BIN) --config configs/demo.yaml data synth --out $(DEMO)/synth && \
	{ [ ! -d models/real ] || { ./$(BIN) score --describe=false $$(ls $(DEMO)/synth/*/*.mp4 | head -4) \
		$$(ls $(KONVID_ROOT)/KoNViD_1k_videos/*.mp4 2>/dev/null | head -4) > $(DEMO)/shipped-model-scores.jsonl && \
		echo "demo: the shipped model (models/real) scored a few clips -> $(DEMO)/shipped-model-scores.jsonl"; }; } && \
	./$(BIN) --config configs/demo.yaml data ladder --in $(DEMO)/synth/pristine.csv --limit 3 --out $(DEMO)/ladder && \
	for s in train val test; do \
		./$(BIN) --config configs/demo.yaml data shards --dataset manifest --root $(DEMO)/synth --split $$s \
			--ladder $(DEMO)/ladder --out $(DEMO)/shards/$$s || exit 1; \
	done && \
	for s in train val test; do ./$(BIN) data verify --shards $(DEMO)/shards/$$s || exit 1; done && \
	./$(BIN) tokenizer train --shards $(DEMO)/shards/train --out $(DEMO)/tokenizer/spm --vocab 512 && \
	rm -rf $(DEMO)/run $(DEMO)/eval && \
	./$(BIN) --config configs/demo.yaml --set model.tokenizer=$(DEMO)/tokenizer/spm.model \
		train --train-shards $(DEMO)/shards/train --val-shards $(DEMO)/shards/val --out $(DEMO)/run && \
	if [ -d "$(KONVID_ROOT)" ]; then \
		./$(BIN) --config configs/demo.yaml eval --checkpoint $(DEMO)/run --datasets shards:$(DEMO)/shards/test,konvid1k \
			--root-konvid1k $(KONVID_ROOT) --labels-konvid1k $(KONVID_LABELS) --out $(DEMO)/eval; \
	else \
		./$(BIN) --config configs/demo.yaml eval --checkpoint $(DEMO)/run --datasets shards:$(DEMO)/shards/test --out $(DEMO)/eval; \
	fi && \
	./$(BIN) --config configs/demo.yaml report --run $(DEMO)/run --eval $(DEMO)/eval \
		--manifest $(DEMO)/synth/manifest.csv --split test --describe 3 --out $(DEMO) && \
	echo "demo: $$(( $$(date +%s) - start )) s; report in $(DEMO)/report.json and $(DEMO)/report.md"

# The shipped model (models/real, models/README.md): KoNViD-1k's train split
# (+ its CRF ladder for the score fit's ranking rows and the pair task) and
# CLIVE, trained with configs/train/real-kernelrank.yaml and
# real-deep-describe.yaml (validation: their seeded holdout of that pool),
# then shipped. Point REALDATA (or KONVID_ROOT, KONVID_LABELS, CLIVE_ROOT) at your
# own copies. Every step resumes: rerunning skips what is complete.
CLIVE_ROOT = $(REALDATA)/CLIVE
KONVID_TRAIN = $(REALDATA)/splits/konvid1k-train.txt
KONVID_DEV = $(REALDATA)/splits/konvid1k-dev.txt
REAL = runs/real
MODEL_RUN ?= runs/model
KONVID = --dataset konvid1k --root $(KONVID_ROOT) --labels $(KONVID_LABELS)
# deploy/cpuidmask: an LD_PRELOAD library that hides AVX-512 from CPUID (Linux
# CPUID faulting), so ONNX Runtime, the Go backend and FFmpeg take the code
# paths of an AVX2-only CPU on this one.
CPUIDMASK := .deps/cpuidmask.so
cpuidmask: $(CPUIDMASK) ## build the AVX2-only CPUID mask (deploy/cpuidmask) into .deps/
$(CPUIDMASK): deploy/cpuidmask/cpuidmask.c
	@mkdir -p .deps
	cc -O2 -Wall -shared -fPIC -o $@ $< -ldl

demo-avx2: build $(CPUIDMASK) ## make demo as an AVX2-only CPU runs it (CPUID mask), into runs/demo-avx2
	LD_PRELOAD=$(CURDIR)/$(CPUIDMASK) $(MAKE) --no-print-directory demo DEMO=$(if $(filter runs/demo,$(DEMO)),runs/demo-avx2,$(DEMO))

model-ladders: build ## CRF ladders of KoNViD-1k's train split (CRF 15-53) for make model's pair task
	@test -d "$(KONVID_ROOT)" -a -d "$(CLIVE_ROOT)" -a -f "$(KONVID_TRAIN)" || { \
		echo "make model needs KoNViD-1k, its split files and CLIVE under REALDATA=$(REALDATA) (or KONVID_ROOT, CLIVE_ROOT)"; exit 1; }
	./$(BIN) data ladder $(KONVID) --ids $(KONVID_TRAIN) --crf 23,31,39,47 --preset veryfast --out $(REAL)/ladder-train
	./$(BIN) data ladder $(KONVID) --ids $(KONVID_TRAIN) --crf 15,53 --preset veryfast --out $(REAL)/ladder-train-ends

# Shards whose statistics token is of the 8 stored patches (the patch-token
# recipe: experiments/real-rank.yaml, real-cv.yaml and others train on these).
model-data: model-ladders ## shards with patch statistics: KoNViD-1k train (+ CRF ladder) and dev splits, CLIVE
	./$(BIN) --set shards.source_views=true data shards $(KONVID) --ids $(KONVID_TRAIN) \
		--ladder $(REAL)/ladder-train --ladder $(REAL)/ladder-train-ends --out $(REAL)/shards/konvid-train-views
	./$(BIN) data shards $(KONVID) --ids $(KONVID_DEV) --out $(REAL)/shards/konvid-dev
	./$(BIN) data shards --dataset clive --root $(CLIVE_ROOT) --allow-missing --out $(REAL)/shards/clive

# make model's shards: model-data's records plus whole-frame statistics
# (shards.frame_stats) for models with stats frame-nss-logsignals
# (experiments/real-framestats.yaml): about 1 s more per 540p clip.
model-data-frames: model-ladders ## shards of make model (whole-frame statistics): KoNViD-1k train (+ CRF ladder) and dev splits, CLIVE, under runs/real/shards-fs
	./$(BIN) --set shards.source_views=true --set shards.frame_stats=true data shards $(KONVID) --ids $(KONVID_TRAIN) \
		--ladder $(REAL)/ladder-train --ladder $(REAL)/ladder-train-ends --out $(REAL)/shards-fs/konvid-train-views
	./$(BIN) --set shards.frame_stats=true data shards $(KONVID) --ids $(KONVID_DEV) --out $(REAL)/shards-fs/konvid-dev
	./$(BIN) --set shards.frame_stats=true data shards --dataset clive --root $(CLIVE_ROOT) --allow-missing --out $(REAL)/shards-fs/clive

# model-data-frames' records plus pretrained features of the same whole
# frames (shards.frame_deep: MobileNetV2, make pretrained-deps) for models
# with stats frame-nss-logsignals+mnv2mid (experiments/real-deepstats.yaml):
# about 1 s more per 540p clip on ONNX Runtime.
model-data-deep: model-ladders pretrained-deps ## shards with whole-frame statistics and pretrained MobileNetV2 features, under runs/real/shards-fd
	./$(BIN) --set shards.source_views=true --set shards.frame_stats=true --set shards.frame_deep=mobilenetv2 data shards $(KONVID) --ids $(KONVID_TRAIN) \
		--ladder $(REAL)/ladder-train --ladder $(REAL)/ladder-train-ends --out $(REAL)/shards-fd/konvid-train-views
	./$(BIN) --set shards.frame_stats=true --set shards.frame_deep=mobilenetv2 data shards $(KONVID) --ids $(KONVID_DEV) --out $(REAL)/shards-fd/konvid-dev
	./$(BIN) --set shards.frame_stats=true --set shards.frame_deep=mobilenetv2 data shards --dataset clive --root $(CLIVE_ROOT) --allow-missing --out $(REAL)/shards-fd/clive

# The committed checkpoint was trained on ONNX Runtime (the default backend
# where make deps installed it); MODEL_BACKEND=go:parallelism=-1 trains the
# same seed on the pure-Go backend, to other weights (models/README.md,
# "reproduce").
MODEL_BACKEND ?= auto
# Two stages, both on configs/model/real.yaml with the statistics token of
# whole frames (45 statistics, 352 pretrained MobileNetV2 features and a
# still-image indicator), a linear path from it to the score with still
# images' and videos' own weights beside the shared ones, a kernel ridge
# reading of the 45 statistics beside it and the decoder's level logits
# gated at 0, the heads frozen (MODEL_STAGE1): the score is the closed-form
# reading fit at the start of configs/train/real-kernelrank.yaml (ridge on
# MOS plus the training clips' CRF-ladder pairs, averaged with a kernel
# ridge fit to the same pairs, whose rungs join its 1024 supports), and that
# stage trains descriptions and pairs; then a describe
# fine-tune from it with the pixel encoder and projectors frozen too, room
# for a whole description and the ladder pairs kept
# (configs/train/real-deep-describe.yaml). experiments/real-kernelrank.yaml
# runs the same two stages on every seed and holdout fold (fold0,
# fold0-describe are these), and a test keeps them identical.
MODEL_STAGE1 := --set model.stats=frame-nss-logsignals+mnv2mid+still --set model.heads.stats_linear=true --set model.heads.stats_linear_domains=true --set model.heads.level_gate=true --set model.heads.stats_kernel=1024 --set model.trainable.heads=frozen
MODEL_STAGE2 := --set model.trainable.pixel_encoder=frozen --set model.trainable.projectors=frozen --set model.trainable.heads=frozen --set model.input.max_text_len=96
model: model-data-deep ## train the shipped model from the real data and ship it to models/real (about 25 min on 2 cores)
	./$(BIN) --set model_config=configs/model/real.yaml --set train_config=configs/train/real-kernelrank.yaml \
		--set model.backend=$(MODEL_BACKEND) $(MODEL_STAGE1) train --out $(MODEL_RUN) --resume
	./$(BIN) --set model_config=configs/model/real.yaml --set train_config=configs/train/real-deep-describe.yaml \
		--set model.backend=$(MODEL_BACKEND) $(MODEL_STAGE1) $(MODEL_STAGE2) train --init $(MODEL_RUN) --out $(MODEL_RUN)-describe --resume
	./$(BIN) model ship --run $(MODEL_RUN)-describe --out models/real
	@grep '"eval"' $(MODEL_RUN)/metrics.jsonl | tail -1
	@grep '"eval"' $(MODEL_RUN)-describe/metrics.jsonl | tail -1

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	$(GO) vet ./...

clean:
	rm -rf bin $(DEMO)

# Experimental ONNX Runtime backend (backend: onnx:cpu; docs/benchmarks.md,
# "ONNX Runtime backend"). npm's onnxruntime-node ships libonnxruntime.so for
# linux-x64 inside its tarball: installed without its install scripts (no
# download at build or run time) into .deps/onnxruntime, its library checked
# against a pinned SHA-256. Binaries built with -tags onnx (make build) find it
# there (from the working directory or the binary's directory upwards) or at
# $$ONNXRUNTIME_SHARED_LIBRARY_PATH. Rerunning does nothing when it is in place.
ONNXRT_VERSION := 1.30.0
ONNXRT_SHA256 := ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ONNXRT_DIR := .deps/onnxruntime
ONNXRT_LIB := $(ONNXRT_DIR)/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
.PHONY: onnx-deps
onnx-deps: ## ONNX Runtime library for the experimental onnx backend (npm onnxruntime-node, pinned + SHA-256) in .deps/onnxruntime
	@if ! echo "$(ONNXRT_SHA256)  $(ONNXRT_LIB)" | sha256sum -c --status 2>/dev/null; then \
		command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends npm >/dev/null; }; \
		mkdir -p $(ONNXRT_DIR) && \
		npm install --prefix $(ONNXRT_DIR) --ignore-scripts --no-audit --no-fund --save-exact onnxruntime-node@$(ONNXRT_VERSION) >/dev/null && \
		echo "$(ONNXRT_SHA256)  $(ONNXRT_LIB)" | sha256sum -c --status || { \
			echo "onnx-deps: $(ONNXRT_LIB) missing or its SHA-256 is not $(ONNXRT_SHA256)"; exit 1; }; \
	fi
	@echo "onnx-deps: ONNX Runtime $(ONNXRT_VERSION) in $(ONNXRT_LIB)"

