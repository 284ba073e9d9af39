# Taquilla: `make run` starts it locally, `make test` proves it.
# Both set up what they need on a fresh machine.

CARGO  ?= cargo
VENV   := .venv
MOTO   := $(VENV)/bin/moto_server
ARGS   ?=

.PHONY: run test bench deps fmt lint clean
.PHONY: lambda deploy deps-lambda

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
	$(CARGO) bench -p taquilla-tests --bench lambda_cold_start

## deps: the local AWS emulator (moto's server, from PyPI) the tests start
deps: $(MOTO)

$(MOTO): scripts/requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
	touch $(MOTO)

## lambda: one deployment zip per function, target/lambda/$(ARCH)/<function>/bootstrap.zip (cargo-lambda,
## the `lambda` profile); ARCH=x86_64 by default here, ARCH=arm64 where its Rust standard library is installed
lambda: ARCH ?= x86_64
lambda: deps-lambda
	scripts/lambda.sh $(ARCH)

## deploy: build the functions (ARCH=arm64 by default, or x86_64) and deploy infra/template.yaml with the
## SAM CLI or the AWS CLI to the account of the configured credentials (DOMAIN, MAIL_DOMAIN, MASTER_KEY; docs/deploy.md)
deploy: ARCH ?= arm64
deploy: deps deps-lambda
	scripts/deploy.sh $(ARCH)

## deps-lambda: cargo-lambda (PyPI), which builds the deployment zips
deps-lambda: $(VENV)/bin/cargo-lambda

$(VENV)/bin/cargo-lambda: scripts/requirements-deploy.txt
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-deploy.txt
	touch $(VENV)/bin/cargo-lambda

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(VENV)
