# vigil: build, test and demo.
#   make            build/vigild and build/vigil
#   make deps       install the Debian packages needed to build, test and demo
#   make check      deps + the whole suite, plain and under ASan/UBSan
#   make demo       deps + the daemon on a simulated local site (see README)
#   make soak       deps + kill -9 crash-consistency soak (SOAK_KILLS=200)
#   make SAN=1      the sanitizer build, in build-san/
#   make fuzz       deps + each libFuzzer target for FUZZ_SECONDS=60 (docs/fuzzing.md)

CC ?= cc
SAN ?=
ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT = -O1 -g
else
BUILD ?= build
SANFLAGS =
OPT = -O2 -g
endif

PKGS = libuv sqlite3 libcjson libmodbus libfreeipmi libcurl libmicrohttpd libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SNMP_CFLAGS := $(shell net-snmp-config --cflags 2>/dev/null | tr ' ' '\n' | grep -E '^-(I|D)' | tr '\n' ' ')
SNMP_LIBS := $(shell net-snmp-config --netsnmp-libs 2>/dev/null)

CFLAGS_ALL = -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I. $(OPT) $(SANFLAGS) -DVGL_MIBDIR=\"$(CURDIR)/mibs\" \
	$(PKG_CFLAGS) $(SNMP_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(SNMP_LIBS) $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

LIB_SRC := $(filter-out daemon/main.c,$(wildcard core/*.c daemon/*.c conf/*.c rules/*.c storage/*.c collectors/*.c sla/*.c alarms/*.c notify/*.c api/*.c))
# The dashboard's files (web/), compiled into the binary so vigild serves
# them with nothing installed beside it (api/assets.h).
WEB_FILES := $(sort $(wildcard web/*))
CLI_SRC := $(wildcard cli/*.c)
TEST_SRC := test/runner.c $(wildcard test/unit/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/web_assets.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
DEPS := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/obj/daemon/main.d

.PHONY: all deps check unit demo bench soak clean fuzz fuzz-build
all: $(BUILD)/vigild $(BUILD)/vigil $(BUILD)/test/unit $(BUILD)/test/mbsim

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/gen/web_assets.c: api/embed_web.py $(WEB_FILES)
	@mkdir -p $(dir $@)
	python3 api/embed_web.py $@ $(WEB_FILES)

$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libvigil.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/vigild: $(BUILD)/obj/daemon/main.o $(BUILD)/libvigil.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/vigil: $(CLI_OBJ) $(BUILD)/libvigil.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# --whole-archive: tests register themselves from constructors, and the
# library's objects must all be there for them.
$(BUILD)/test/unit: $(TEST_OBJ) $(BUILD)/libvigil.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) -Wl,--whole-archive $(BUILD)/libvigil.a \
		-Wl,--no-whole-archive $(LDLIBS_ALL)

# The Modbus simulator the integration tests, the demo and bench/ serve
# devices with (test/peers/mbsim.c, libmodbus's server side).
$(BUILD)/test/mbsim: test/peers/mbsim.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LDLIBS_ALL)

deps:
	@sh test/deps.sh

# The whole suite, plain build then sanitizer build; the last line is the
# total "N passed, N failed" over both.
check: deps
	@bash test/check.sh

# Unit tests of one build only: make unit [SAN=1] [T=name-substring]
unit: $(BUILD)/test/unit
	$(BUILD)/test/unit $(T)

demo: deps all
	@BUILD=$(BUILD) bash demo/run.sh

bench: deps all
	@bash bench/run.sh

# Crash consistency: test/integration/daemon_kill9.sh (kill -9 at random
# moments, then the database checked) with SOAK_KILLS kills, this build.
SOAK_KILLS ?= 200
soak: deps all
	@SOAK_KILLS=$(SOAK_KILLS) bash test/soak.sh $(BUILD)

# libFuzzer targets (test/fuzz/, docs/fuzzing.md), built by clang into
# build-fuzz/: the library with coverage and ASan/UBSan, each target
# linked with libFuzzer's main. `make fuzz` runs each for FUZZ_SECONDS,
# new inputs and crashes going to a scratch dir (FUZZ_WORK, else a new
# one under TMPDIR), never into the repository; FUZZ_TARGETS picks some.
# make check replays the committed corpora (test/fuzz/run.sh check).
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ALL := $(patsubst test/fuzz/%.c,%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I. -O1 -g $(FUZZ_SAN) \
	-DVGL_MIBDIR=\"$(CURDIR)/mibs\" $(PKG_CFLAGS) $(SNMP_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BIN := $(FUZZ_ALL:%=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/libvigil.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/test/fuzz/fuzz_%.o $(FUZZ_BUILD)/libvigil.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

fuzz-build: $(FUZZ_BIN)

fuzz: deps fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) bash test/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf build build-san build-fuzz

-include $(DEPS)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_ALL:%=$(FUZZ_BUILD)/obj/test/fuzz/%.d)
