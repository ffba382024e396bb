# vigil: build, test and demo.
#   make            build/vigild and build/vigil
#   make deps       install the Debian packages needed to build, test and demo
#   make check      deps + the whole suite, plain and under ASan/UBSan
#   make demo       deps + the daemon on a simulated local site (see README)
#   make SAN=1      the sanitizer build, in build-san/

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

PKGS = libuv sqlite3 libcjson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SNMP_CFLAGS := $(shell net-snmp-config --cflags 2>/dev/null | tr ' ' '\n' | grep -E '^-(I|D)' | tr '\n' ' ')
SNMP_LIBS := $(shell net-snmp-config --netsnmp-libs 2>/dev/null)

CFLAGS_ALL = -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I. $(OPT) $(SANFLAGS) -DVGL_MIBDIR=\"$(CURDIR)/mibs\" \
	$(PKG_CFLAGS) $(SNMP_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(SNMP_LIBS) $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

LIB_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c conf/*.c rules/*.c storage/*.c collectors/*.c sla/*.c))
CLI_SRC := $(wildcard cli/*.c)
TEST_SRC := test/runner.c $(wildcard test/unit/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
DEPS := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/obj/daemon/main.d

.PHONY: all deps check unit demo bench clean
all: $(BUILD)/vigild $(BUILD)/vigil $(BUILD)/test/unit

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

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
	@bash demo/run.sh

bench: deps all
	@bash bench/run.sh

clean:
	rm -rf build build-san

-include $(DEPS)
