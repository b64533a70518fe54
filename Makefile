# cpllm: `make demo` and `make test` work on a fresh Debian 12 machine with Go installed.
SHELL := /bin/bash
export GOEXPERIMENT := simd
GO ?= go
BIN := bin/cpllm
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the project needs: FFmpeg libraries for go-astiav (libx264
# comes with libavcodec), the ffmpeg CLI as test oracle, scipy as the
# statistics oracle.
APT_PKGS := pkg-config build-essential libavcodec-dev libavformat-dev libavutil-dev \
	libavfilter-dev libavdevice-dev libswscale-dev libswresample-dev ffmpeg python3-scipy

.PHONY: help deps build test test-long bench demo fmt vet tidy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## install missing Debian packages (apt-get only when something is missing)
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required (https://go.dev/dl)"; exit 1; }
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps ## build bin/cpllm
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/cpllm

test: deps ## run the test suite (real-data tests skip when ../shared/realdata is absent)
	$(GO) vet ./...
	$(GO) test -timeout 30m ./...

test-long: deps ## heavy variants: full 20-level ladders on real data, long runs
	$(GO) test -timeout 60m ./... -args -long

bench: deps ## benchmarks: ladder vs ffmpeg CLI, ...
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./data/augment/

demo: build ## generate a clip and build its CRF ladder (grows into data -> train -> eval)
	@mkdir -p runs/demo
	ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "testsrc2=size=640x360:rate=25:duration=4" \
		-f lavfi -i "mandelbrot=size=640x360:rate=25" -filter_complex "[0:v][1:v]blend=all_mode=average,format=yuv420p" \
		-t 4 -c:v libx264 -preset veryfast -crf 12 runs/demo/source.mp4
	./$(BIN) data ladder --in runs/demo/source.mp4 --out runs/demo/ladder --preset veryfast
	./$(BIN) data probe runs/demo/ladder/source/crf15.mp4 runs/demo/ladder/source/crf53.mp4
	@echo "demo: ladder rows in runs/demo/ladder/ladder.jsonl"

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	$(GO) vet ./...

clean:
	rm -rf bin runs/demo
