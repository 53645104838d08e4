# SPDX-License-Identifier: GPL-2.0-only
# Fuzz harnesses (included by the Makefile): each tests/fuzz/fuzz_NAME.c becomes
# $(BUILD)/fuzz/fuzz_NAME, a libFuzzer binary in the FUZZ=1 build and a replay
# driver (runs the files it is given once each) in the release and sanitizer builds,
# so that `make test` replays the committed corpus and regressions without clang.
# A new harness needs only its .c file and a corpus directory: nothing to add here.

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB := $(BUILD)/libmemsleuth.a
FUZZ_LIB_OBJS := $(filter-out $(BUILD)/obj/cli/main.o,$(OBJS))

ifeq ($(FUZZ),1)
FUZZ_MAIN :=
FUZZ_LINK := -fsanitize=fuzzer
else
FUZZ_MAIN := $(BUILD)/obj/tests/fuzz/replay_main.o
FUZZ_LINK :=
endif

# Bounded runs: FUZZ_SECONDS per harness, or exactly FUZZ_RUNS executions when set.
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
# One harness only, by name (e.g. FUZZ_ONLY=fuzz_arena); every harness when empty.
FUZZ_ONLY ?=

.PHONY: fuzz-build

fuzz-build: $(FUZZ_BINS)

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(FUZZ_MAIN) $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(FUZZ_LINK) -o $@ $(filter %.o,$^) $(FUZZ_LIB) $(LDLIBS)

fuzz: deps
	$(MAKE) FUZZ=1 fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_ONLY=$(FUZZ_ONLY) \
		sh tests/fuzz/run.sh build-fuzz/fuzz

-include $(patsubst tests/fuzz/%.c,$(BUILD)/obj/tests/fuzz/%.d,$(FUZZ_SRCS) tests/fuzz/replay_main.c)
