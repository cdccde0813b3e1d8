# KPR intake — build, run and test.
#   make run     install what is missing, build, start the embedded stack, serve
#   make check   install what is missing, build, run every test
#   make asan    the whole suite under AddressSanitizer + UBSan
# Sources are found by wildcard so adding a module or a test needs no edit here.

BUILD   ?= build
CC      ?= cc
PKGS    := libmicrohttpd gnutls libxml-2.0 libcrypto jansson zlib libpq xlsxwriter
OPT     ?= -O2
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wvla -Wpointer-arith
CFLAGS  += -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) -Iserver/include -MMD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
ifeq ($(SAN),1)
# gcc's truncation analysis at -O1 with sanitizers reports impossible ranges
# the -O2 build (also -Werror) does not; the sanitizers check the real thing
CFLAGS  += $(SAN_FLAGS) -Wno-format-truncation
LDFLAGS += $(SAN_FLAGS)
endif

LIB_SRCS  := $(filter-out server/src/main.c,$(wildcard server/src/*.c server/src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libkpr.a
TOOLS     := $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/*.c))))
TOOL_BINS := $(sort $(addprefix $(BUILD)/,$(TOOLS)))
BINS      := $(BUILD)/kprd $(TOOL_BINS)
TEST_SRCS := $(wildcard tests/unit/check_*.c)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all deps run check unit integration asan clean format format-check bench bench-validate bench-pseudo fuzz fuzz-build check-deploy

all: $(BINS) $(TEST_BINS)

deps:
	@tools/install-deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# the OpenAPI document is built into kprd (.incbin in openapi_get.c)
$(BUILD)/obj/server/src/api/openapi_get.o: docs/openapi.yaml

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/kprd: $(BUILD)/obj/server/src/main.o $(LIB)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.SECONDEXPANSION:
$(TOOL_BINS): $(BUILD)/%: $$(addprefix $(BUILD)/obj/,$$(addsuffix .o,$$(basename $$(wildcard tools/$$*/*.c)))) $(LIB)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

run: deps
	@$(MAKE) --no-print-directory all
	@tools/kpr-dev run

unit: all
	@tests/run-unit $(BUILD)

# the integration tests alone on their own throwaway stack; TESTS="intake tls"
# picks some of them
integration:
	@KPR_WITH_BROWSER=1 tools/install-deps
	@$(MAKE) --no-print-directory all
	@tests/run-integration $(BUILD) $(TESTS)

# One throwaway PostgreSQL cluster serves the whole run: unit suites that
# need a database and the end-to-end tests against a real kprd over HTTPS.
check:
	@KPR_WITH_BROWSER=1 tools/install-deps
	@$(MAKE) --no-print-directory all
	@tests/run-all $(BUILD)

asan:
	@KPR_WITH_BROWSER=1 tools/install-deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT=-O1 all
	@KPR_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  tests/run-all build-asan

FORMAT_FILES = $(wildcard server/src/*.c server/src/*/*.c server/src/*/*.h server/include/*.h \
                 tools/*/*.c tools/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c)

# docker-compose.yml started for real with podman-compose (tests/deploy/):
# images from Debian packages, first run, kill -9, down + up. As root; not
# part of make check or CI (it builds images: minutes).
check-deploy:
	@KPR_WITH_PODMAN=1 tools/install-deps
	@$(MAKE) --no-print-directory $(BUILD)/kpr-gen
	@tests/deploy/test_compose.sh $(BUILD)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/bench-national $(BUILD)

bench-validate: all
	@tests/bench/bench-validate $(BUILD)

bench-pseudo: all
	@tests/bench/bench-pseudo $(BUILD)

# --- fuzzing: every tests/fuzz/fuzz_*.c is a libFuzzer target, linked with
# the library sources built again by clang with ASan + UBSan (and coverage
# instrumentation) into build-fuzz/. `make fuzz` builds them all and runs
# each for FUZZ_SECONDS on its seed corpus (tests/fuzz/corpus/<name>/);
# tools/run-fuzz says how to run longer or minimise a corpus.
FUZZ_BUILD   := build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# no -Werror here: clang warns about other things than gcc, and a warning
# must not stop fuzzing (make all keeps the tree -Werror clean)
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Iserver/include -MMD -MP \
                $(FUZZ_SAN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB     := $(FUZZ_BUILD)/libkpr-fuzz.a

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC(fuzz) $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/server/src/api/openapi_get.o: docs/openapi.yaml

$(FUZZ_LIB): $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@echo "LD(fuzz) $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.PRECIOUS: $(FUZZ_BUILD)/obj/%.o

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tools/run-fuzz $(FUZZ_BINS)

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
