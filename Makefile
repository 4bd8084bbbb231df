# Flash Deal — the commands a user runs. Each installs what it needs first (scripts/setup).
.PHONY: setup build test test-asan demo bench fuzz chaos format stack-up stack-down stack-status clean

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
