# Taquilla: `make run` starts it locally, `make test` proves it.
# Both set up what they need on a fresh machine.

CARGO  ?= cargo
VENV   := .venv
MOTO   := $(VENV)/bin/moto_server
ARGS   ?=

.PHONY: run test bench deps fmt lint clean

## run: build and start the local server on the embedded default (./var), with a demo instance
## (built without the AWS adapters, which the embedded default does not use: a much shorter first build)
run:
	$(CARGO) run --release --no-default-features --bin taquilla -- serve $(ARGS)

## test: formatting, lints and every test (conformance suites on SQLite and the AWS emulator)
test: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace

## bench: benchmarks, in release mode, with ratios against in-process baselines
bench:
	$(CARGO) bench -p taquilla-tests --bench store --bench api --bench rules --bench sla
	$(CARGO) bench -p taquilla-cli --bench pipe

## deps: the local AWS emulator (moto's server, from PyPI) the tests start
deps: $(MOTO)

$(MOTO): scripts/requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
	touch $(MOTO)

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(VENV)
