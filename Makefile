# Coffer's two entry points for a newcomer are `make demo` and `make test`; both install what they
# need first (scripts/install-deps) on a fresh Debian 12 machine.
SHELL := /bin/bash
SWIFT ?= swift

.PHONY: deps build agent kernel test demo bench fuzz clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# The guest agent, PID 1 of every VM: fully static, stripped, in its own scratch path so the debug
# tree stays intact. The VM tests boot .build-agent/release/coffer-agent.
# Reproducible (scripts/check-agent-reproducible, docs/decisions/0015): swiftc stamps every object
# with a module hash (.swift_modhash, used only to skip unchanged code generation, never at run
# time) that differs between builds, so it is removed after the link, and no GNU build id (a hash
# of the output, hence of that section) is written.
agent: deps
	$(SWIFT) build -c release --static-swift-stdlib -Xswiftc -static-executable -Xlinker -s -Xlinker --build-id=none \
		--product coffer-agent --scratch-path .build-agent
	objcopy --remove-section .swift_modhash .build-agent/release/coffer-agent

# Coffer's own guest kernel (docs/decisions/0028-guest-kernel.md): linux-source-6.12 with
# Sources/CofferVMM/Kernel/coffer-guest.config over tinyconfig, cached in $$COFFER_HOME/kernel by
# source version and fragment digest (a second run reuses it). Lowest CPU priority: the build takes
# minutes and should not starve tests beside it.
kernel: build
	nice -n 19 .build/debug/coffer kernel build

# The VM tests boot Coffer's kernel (the default, decision 0040) from .build-vm/home: it is built
# first, with the machine to itself (about 10 minutes once per checkout; a cached key costs nothing).
test: deps agent
	$(SWIFT) build --build-tests
	.build/debug/coffer setup --home .build-vm/home
	$(SWIFT) test --skip-build

demo: build agent
	scripts/demo

# Benchmarks compare Coffer with a reference in one run and print ratios (docs/benchmarks.md).
bench: deps
	scripts/bench

# libFuzzer over the parsers that face hostile peers, each target for FUZZ_SECONDS; fails on a
# crash or a hang. evidence-fuzz: evidence and collateral; wire-fuzz: the host-guest frame decoder,
# every message and the kernel command-line arguments; kbs-fuzz: the key broker's JSON, messages,
# JWS/JWE, JWK and init-data. A separate scratch path keeps the instrumented build apart from the
# normal one. Findings: .build-fuzz/findings/<target>/ (replay with .build/debug/<target> FILE).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= evidence-fuzz wire-fuzz kbs-fuzz
FUZZ_FLAGS = -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DCOFFER_FUZZ
fuzz: deps
	for target in $(FUZZ_TARGETS); do \
		$(SWIFT) build --scratch-path .build-fuzz -c debug --product $$target $(FUZZ_FLAGS) || exit 1; \
	done
	Fuzz/run-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf .build .build-fuzz .build-agent .build-vm
