# Flash Deal — the commands a user runs. Each installs what it needs first (scripts/setup).
.PHONY: setup build test test-asan demo bench fuzz chaos image image-test format stack-up stack-down stack-status clean

setup:            ## install Debian packages, the project venv and librdkafka 2.16 (idempotent)
	scripts/setup

build: setup      ## debug build of every target
	swift build

test:             ## the test command: installs, starts the local stack, runs all tests, stops what it started
	scripts/test

test-asan:        ## the adapter integration tests under AddressSanitizer
	scripts/test --sanitize=address

demo:             ## the main job: a whole flash sale through the gateway and worker, verified; report.md + report.html in reports/
	scripts/demo

bench:            ## benchmarks with figures and ratios (release build, local stack)
	scripts/bench

fuzz:             ## every outside-input decoder under libFuzzer + AddressSanitizer, 600 s each (FUZZ_SECONDS=… to change)
	scripts/setup
	scripts/fuzz --seconds $${FUZZ_SECONDS:-600}

chaos:            ## randomized fault runs on the real stack, each checked (RUNS=20 by default, SEED=… to choose; root for iptables); report in reports/chaos-<time>/
	scripts/chaos --runs $${RUNS:-20} $${SEED:+--seed $$SEED}

image:            ## the container image from this machine's debug binaries with podman (scripts/image; --release via scripts/image build --release); docs/image.md
	scripts/image build

image-test:       ## build that image, run a gateway and a worker from it as the manifests do (read-only, non-root, no capabilities) on the local stack, wait for both /readyz
	scripts/image-test

format:           ## rewrite every Swift file as swift format (configuration .swift-format) writes it
	git ls-files -co --exclude-standard '*.swift' | xargs swift format format --in-place --configuration .swift-format

stack-up:
	scripts/stack up
stack-down:
	scripts/stack down
stack-status:
	scripts/stack status

clean:
	rm -rf .build .build-*
