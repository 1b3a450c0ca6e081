# Coffer's two entry points for a newcomer are `make demo` and `make test`; both install what they
# need first (scripts/install-deps) on a fresh Debian 12 machine.
SHELL := /bin/bash
SWIFT ?= swift

.PHONY: deps build test demo bench fuzz clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	scripts/demo

bench: deps
	$(SWIFT) build -c release
	scripts/bench

clean:
	rm -rf .build
