# The README's entry points. Each target installs missing Debian packages first
# (scripts/install-deps.sh), then configures and builds the right CMake preset.
#   make demo    build (release) and run `loom demo`
#   make test    build (release) and run every test except those labelled gpu
#   make bench   build (release) and run the benchmarks (results: docs/benchmarks.md)
#   make asan    build and run the unit tests under ASan + UBSan
#   make check   layering check
JOBS ?= $(shell nproc)
CMAKE ?= cmake
CTEST ?= ctest

.PHONY: all deps build demo test bench asan fuzz check clean

all: build

deps:
	@scripts/install-deps.sh

build/release/build.ninja: CMakeLists.txt CMakePresets.json | deps
	$(CMAKE) --preset release

build: deps build/release/build.ninja
	$(CMAKE) --build --preset release -j $(JOBS)

demo: build
	build/release/tools/loom/loom demo

test: build
	scripts/check-layering.sh
	$(CTEST) --preset release -j $(JOBS)

bench: build
	scripts/run-benchmarks.sh build/release

asan: deps
	$(CMAKE) --preset asan
	$(CMAKE) --build --preset asan -j $(JOBS)
	$(CTEST) --preset asan -j $(JOBS)

fuzz: deps
	$(CMAKE) --preset fuzz
	$(CMAKE) --build --preset fuzz -j $(JOBS)

check:
	scripts/check-layering.sh

clean:
	rm -rf build
