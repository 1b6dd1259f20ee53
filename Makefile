# CommuCat: the two commands of README's quick start, and their helpers.
#   make run   installs missing Debian packages, builds release, runs `commucat serve` on embedded defaults
#   make test  installs what tests need, starts PostgreSQL on loopback, runs `swift test` and the
#              interop tests, stops what it started; exits non-zero on any failure
SHELL := /bin/bash
SWIFT ?= swift
VENV := .build/venv
PYTHON := $(VENV)/bin/python3
TEST_TMP ?= $(CURDIR)/.build/test-services

.PHONY: run build release test deps test-deps venv swift-test interop-test clean

deps:
	@scripts/install-deps.sh build runtime

test-deps:
	@scripts/install-deps.sh build runtime test

release: deps
	$(SWIFT) build -c release --product commucat

build: deps
	$(SWIFT) build

run: release
	@exec .build/release/commucat serve $(if $(CONFIG),--config $(CONFIG),)

venv: test-deps
	@scripts/make-venv.sh $(VENV)

# Everything the tests need is started here and stopped on exit, whatever happens.
test: test-deps venv
	@scripts/run-tests.sh

clean:
	rm -rf .build
