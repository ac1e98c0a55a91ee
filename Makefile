# Build, test, demo and bench of the report aggregation pipeline.
#   make            build bin/agg-produce, bin/agg-worker and the test programs
#   make up / down  start / stop the local Kafka + Redis (scripts/stack.sh)
#   make demo       the whole pipeline end to end on sample reports
#   make test       unit + integration + fault tests, then the same under ASan+UBSan
#   make asan       only the sanitizer run
#   make bench      benchmarks (docs/BENCHMARKS.md)
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (60) each (docs/FUZZING.md)
#   make fuzz-smoke every target for a short fixed time, as CI does

CC      ?= cc
BUILD   ?= build
BIN     ?= bin
SAN     ?=
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
           -Iinclude -I$(BUILD)/gen -MMD -MP $(SAN)
override LDFLAGS += $(SAN)
LDLIBS  += -lrdkafka -lhiredis -lprotobuf-c -ljansson -lcrypto -lm

LIB_SRC    := $(wildcard lib/*.c)
GEN_SRC    := $(BUILD)/gen/report.pb-c.c
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/report.pb-c.o $(BUILD)/gen/regions_csv.o
PROD_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard producer/*.c))
WORKER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard worker/*.c)) $(BUILD)/worker/apply_lua.o \
              $(BUILD)/worker/amend_lua.o $(BUILD)/worker/swap_lua.o
SUMM_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard summaries/*.c))
DASH_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard dashboard/*.c)) $(BUILD)/gen/dashboard_embed.o
DASH_LIBS  := -lmicrohttpd -ljansson
PAGE_SRC   := dashboard/page/index.html dashboard/page/app.js dashboard/page/style.css
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BIN)/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzzers/%)

.PHONY: all clean test unit asan demo bench up down check-deps fuzz fuzz-smoke fuzz-build fuzzers
all: $(BIN)/agg-produce $(BIN)/agg-worker $(BIN)/agg-summaries $(BIN)/agg-dashboard \
     $(BIN)/agg-import $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/gen/report.pb-c.c $(BUILD)/gen/report.pb-c.h: proto/report.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen proto/report.proto

# Every object may include the generated header.
$(LIB_OBJ) $(PROD_OBJ) $(WORKER_OBJ) $(SUMM_OBJ) $(DASH_OBJ) $(UNIT_BIN) $(TOOL_BIN) $(FUZZ_BIN): \
    | $(BUILD)/gen/report.pb-c.h

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Generated sources (protobuf-c output, embedded text); protoc-c's code is not ours to
# keep warning-free.
$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -Wno-error -c $< -o $@

# The reference region list is compiled in as the default (--regions overrides it).
$(BUILD)/gen/regions_csv.c: reference/regions.csv
	@mkdir -p $(dir $@)
	{ echo 'const char agg_default_regions_csv[] = '; sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

# The Lua scripts are compiled into the worker as strings (no path to get wrong at run
# time). summary.lua holds the summary builder both scripts that emit summaries share.
LUA_EMBED = { echo 'const char $(2)[] = '; cat $(1) | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/'; echo ';'; } > $@
$(BUILD)/worker/apply_lua.c: worker/summary.lua worker/apply.lua
	@mkdir -p $(dir $@)
	$(call LUA_EMBED,$^,agg_apply_lua)
$(BUILD)/worker/amend_lua.c: worker/summary.lua worker/amend.lua
	@mkdir -p $(dir $@)
	$(call LUA_EMBED,$^,agg_amend_lua)
$(BUILD)/worker/swap_lua.c: worker/summary.lua worker/swap.lua
	@mkdir -p $(dir $@)
	$(call LUA_EMBED,$^,agg_swap_lua)
$(BUILD)/worker/%_lua.o: $(BUILD)/worker/%_lua.c
	$(CC) $(CFLAGS) -c $< -o $@

# The dashboard's page and the goal titles are compiled in the same way; '?' is escaped
# too so that no "??x" in JavaScript becomes a C trigraph.
$(BUILD)/gen/dashboard_embed.c: $(PAGE_SRC) reference/goals.csv
	@mkdir -p $(dir $@)
	{ for f in $(PAGE_SRC) reference/goals.csv; do \
	    n=$$(basename $$f | tr '.' '_'); \
	    case $$f in reference/*) n=dash_$$n;; *) n=dash_page_$$n;; esac; \
	    echo "const char $$n[] = "; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$$/\\n"/' $$f; \
	    echo ';'; done; } > $@
$(BUILD)/gen/dashboard_embed.o: $(BUILD)/gen/dashboard_embed.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libagg.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BIN)/agg-produce: $(PROD_OBJ) $(BUILD)/libagg.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# agg-import (importer/): libzip + libxml2 read .docx; --publish links the producer's
# own reader and publisher (every producer object but its main).
IMP_CFLAGS := $(shell pkg-config --cflags libxml-2.0 libzip 2>/dev/null)
IMP_LIBS   := $(shell pkg-config --libs libxml-2.0 libzip 2>/dev/null)
IMP_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(filter-out importer/main.c,$(wildcard importer/*.c)))
PROD_LIB_OBJ := $(filter-out $(BUILD)/producer/main.o,$(PROD_OBJ))
$(IMP_OBJ) $(BUILD)/importer/main.o: | $(BUILD)/gen/report.pb-c.h
$(IMP_OBJ) $(BUILD)/importer/main.o: override CFLAGS += $(IMP_CFLAGS)
$(BIN)/agg-import: $(BUILD)/importer/main.o $(IMP_OBJ) $(PROD_LIB_OBJ) $(BUILD)/libagg.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(IMP_LIBS) $(LDLIBS)

# Importer unit tests link the importer's objects.
$(BUILD)/tests/test_imp_%: tests/unit/test_imp_%.c $(IMP_OBJ) $(BUILD)/libagg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(IMP_CFLAGS) -Iimporter $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(IMP_LIBS) $(LDLIBS)

$(BIN)/agg-worker: $(WORKER_OBJ) $(BUILD)/libagg.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/agg-summaries: $(SUMM_OBJ) $(BUILD)/libagg.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/agg-dashboard: $(DASH_OBJ) $(BUILD)/libagg.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(DASH_LIBS) $(LDLIBS)

# The dashboard's pure parts (CSV cells, Prometheus lines, scope JSON) without a server.
$(BUILD)/tests/test_dashboard: tests/unit/test_dashboard.c \
        $(filter-out $(BUILD)/dashboard/main.o,$(DASH_OBJ)) $(BUILD)/libagg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idashboard $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(DASH_LIBS) $(LDLIBS)

# The batch builder's arithmetic is tested without Kafka or Redis.
$(BUILD)/tests/test_batch: tests/unit/test_batch.c $(BUILD)/worker/batch.o $(BUILD)/worker/admit.o $(BUILD)/worker/apply_args.o $(BUILD)/worker/scopes.o \
    $(BUILD)/worker/args.o $(BUILD)/libagg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libagg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

$(BIN)/%: tests/tools/%.c $(BUILD)/libagg.a
	@mkdir -p $(BIN) $(BUILD)/deps
	$(CC) $(CFLAGS) -MF $(BUILD)/deps/$(@F).d $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

# libFuzzer harnesses: only built in the fuzz tree (make fuzz-build), where CC is clang
# and the library is compiled with coverage instrumentation. The row reader lives in
# the producer, so its harness links that one object. libagg.a goes last for the linker.
$(BUILD)/fuzzers/fuzz_rows: $(BUILD)/producer/rows.o
$(BUILD)/fuzzers/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/libagg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iproducer -fsanitize=fuzzer $(LDFLAGS) -o $@ \
	    $(filter %.c %.o,$^) $(filter %.a,$^) $(LDLIBS)

fuzzers: $(FUZZ_BIN)

check-deps:
	@scripts/deps.sh

up: check-deps
	@scripts/stack.sh up

down:
	@scripts/stack.sh down

unit: all
	@tests/run.sh unit

# The bench smoke keeps the harness working; it asserts exact totals, not speed.
test: check-deps
	@$(MAKE) --no-print-directory all
	@scripts/stack.sh up
	@tests/run.sh all
	@bench/run.sh --smoke
	@$(MAKE) --no-print-directory asan

# Sanitizer build in its own tree so it never mixes objects with the normal one.
asan: check-deps
	@$(MAKE) --no-print-directory all BUILD=build/asan BIN=build/asan/bin \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" CFLAGS="-O1 -g"
	@scripts/stack.sh up
	@AGG_BIN=build/asan/bin AGG_TEST_BUILD=build/asan tests/run.sh sanitizer

# Fuzzing (docs/FUZZING.md) in its own tree: clang, ASan + UBSan, libFuzzer. Needs no
# stack. FUZZ_SECONDS per target; FUZZ_TARGETS="csv envelope" to run only some.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=all
fuzz-build:
	@scripts/deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzzers BUILD=$(FUZZ_BUILD) BIN=$(FUZZ_BUILD)/bin \
	    CC=$(FUZZ_CC) SAN="$(FUZZ_SAN)" CFLAGS="-O1 -g"

fuzz: fuzz-build
	@AGG_FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# CI's short run: each target for a fixed few seconds with a fixed seed.
fuzz-smoke: fuzz-build
	@AGG_FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run.sh --smoke $(FUZZ_TARGETS)

demo: check-deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: check-deps
	@$(MAKE) --no-print-directory all
	@scripts/stack.sh up
	@bench/run.sh

clean:
	rm -rf $(BUILD) $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
