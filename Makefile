# SPDX-License-Identifier: GPL-2.0-only
# Builds memsleuth: BPF objects and skeletons, the user-space binary, test targets.

SAN ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
# libFuzzer build (make fuzz): clang instruments every object for coverage.
BUILD ?= build-fuzz
CC := clang
# clang, unlike gcc, flags the vsnprintf in libbpf's print callback, whose format comes from libbpf.
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wno-format-nonliteral
else ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON ?= /usr/bin/python3
PREFIX ?= /usr/local
# Tests mostly wait for windows to close, so they run several at a time even on 2 cores.
TEST_JOBS ?= 3

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

PKGS := libbpf libelf libdw ncursesw jansson libmicrohttpd zlib libzstd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-D_GNU_SOURCE -MMD -MP -I. -I$(BUILD) $(PKG_CFLAGS) $(SANFLAGS)
override LDFLAGS += $(SANFLAGS)
# libiberty: the demangler of C++, Rust and D names (names.h, symbols.c).
LDLIBS += $(PKG_LIBS) -liberty -lm -lpthread

# v3: atomics that return the old value (clang 14 defaults to v1).
BPF_CFLAGS := -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -g -O2 -Wall -Werror -I$(BUILD) -Ibpf

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

SRCS := $(wildcard lib/*.c cli/*.c collectors/*.c analyzer/*.c tui/*.c recording/*.c export/*.c)
OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRCS))

TARGET_SRCS := $(filter-out tests/targets/lib%.c,$(wildcard tests/targets/*.c))
TARGET_CXX_SRCS := $(wildcard tests/targets/*.cc)
TARGETS := $(patsubst tests/targets/%.c,$(BUILD)/tests/%,$(TARGET_SRCS)) \
	$(patsubst tests/targets/%.cc,$(BUILD)/tests/%,$(TARGET_CXX_SRCS))
# tests/targets/libNAME.c is a shared library for targets that dlopen it.
TARGET_LIBS := $(patsubst tests/targets/%.c,$(BUILD)/tests/%.so,$(wildcard tests/targets/lib*.c))
# Test targets are built like ordinary programs a user would run: optimised, with
# frame pointers unless a target's name says it is the no-frame-pointer variant,
# dynamically linked unless its name says "static".
TARGET_CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fno-omit-frame-pointer -pthread

.PHONY: all deps test test-targets bench demo install clean san fuzz soak
.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS) $(SKELS)

all: $(BUILD)/memsleuth

$(BUILD)/memsleuth: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# The demo's target is built like a program a user would run, whose stacks read whole.
$(BUILD)/obj/cli/demo_target.o: override CFLAGS += -fno-omit-frame-pointer

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

test-targets: $(TARGETS) $(TARGET_LIBS)

$(BUILD)/tests/lib%.so: tests/targets/lib%.c tests/targets/target.h
	@mkdir -p $(@D)
	$(CC) $(TARGET_CFLAGS) -shared -fPIC -o $@ $<

$(BUILD)/tests/grow_heap_static: tests/targets/grow_heap_anon.c

$(BUILD)/tests/%: tests/targets/%.c $(wildcard tests/targets/*.h)
	@mkdir -p $(@D)
	$(CC) $(TARGET_CFLAGS) $(if $(findstring nofp,$*),-fomit-frame-pointer) \
		$(if $(findstring static,$*),-static) -o $@ $< -lm

# Linked with Debian's jemalloc, as redis is (libjemalloc-dev provides the link name).
$(BUILD)/tests/site_jemalloc_nofp: tests/targets/site_jemalloc_nofp.c tests/targets/target.h
	@mkdir -p $(@D)
	$(CC) $(TARGET_CFLAGS) -fomit-frame-pointer -o $@ $< -ljemalloc

# The no-frame-pointer variant includes the source of the target it varies.
$(BUILD)/tests/alloc_leak_nofp: tests/targets/alloc_leak.c
$(BUILD)/tests/relay_nofp: tests/targets/relay.c
$(BUILD)/tests/alloc_bench_nofp: tests/targets/alloc_bench.c

$(BUILD)/tests/%: tests/targets/%.cc tests/targets/target.h
	@mkdir -p $(@D)
	$(CXX) $(TARGET_CFLAGS) $(if $(findstring nofp,$*),-fomit-frame-pointer) -o $@ $<

deps:
	@sh scripts/deps.sh

# The suite runs twice: against the release build, then against an
# AddressSanitizer + UndefinedBehaviorSanitizer build of the same sources.
test: deps
	$(MAKE) all test-targets fuzz-build
	$(MAKE) SAN=1 all fuzz-build
	$(PYTHON) -m pytest -q -n $(TEST_JOBS) --dist loadgroup --durations=15 tests
	MEMSLEUTH=$(CURDIR)/build-san/memsleuth MEMSLEUTH_SAN=1 \
		$(PYTHON) -m pytest -q -n $(TEST_JOBS) --dist loadgroup --durations=15 -m "not nosan" tests

# Long runs left out of `make test`, every test marked soak: 20 minutes on the leaking
# relay, the agent for an hour against three services.
soak: deps
	$(MAKE) all test-targets
	$(PYTHON) -m pytest -q -m soak tests

bench:
	@sh scripts/deps.sh bench
	$(MAKE) all test-targets
	$(PYTHON) tests/bench/bench.py

demo: deps
	$(MAKE) all test-targets
	$(BUILD)/memsleuth demo

install: all
	install -D -m 0755 $(BUILD)/memsleuth $(DESTDIR)$(PREFIX)/bin/memsleuth

clean:
	rm -rf build build-san build-fuzz

include tests/fuzz/fuzz.mk

-include $(OBJS:.o=.d) $(BPF_OBJS:.o=.d)
