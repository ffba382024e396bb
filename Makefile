# vigil: build, test and demo.
#   make            build/vigild and build/vigil
#   make deps       install the Debian packages needed to build, test and demo
#   make check      deps + the whole suite, plain and under ASan/UBSan
#   make demo       deps + the daemon on a simulated local site (see README)
#   make soak       deps + kill -9 crash-consistency soak (SOAK_KILLS=200)
#   make SAN=1      the sanitizer build, in build-san/
#   make fuzz       deps + each libFuzzer target for FUZZ_SECONDS=60 (docs/fuzzing.md)
#   make install    binaries, unit, example config, MIBs, docs, man pages under
#                   PREFIX=/usr/local (DESTDIR, MIBDIR: docs/operations.md, "Install")
#   make uninstall  removes them; a config you changed and the database stay

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

PKGS = libuv sqlite3 libpq libcjson libmodbus libfreeipmi libcurl libmicrohttpd libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SNMP_CFLAGS := $(shell net-snmp-config --cflags 2>/dev/null | tr ' ' '\n' | grep -E '^-(I|D)' | tr '\n' ' ')
SNMP_LIBS := $(shell net-snmp-config --netsnmp-libs 2>/dev/null)

# The shipped MIB modules (mibs/) as the binaries look for them: here for
# a dev build; an installed build names DATADIR's (make install, below).
MIBDIR ?= $(CURDIR)/mibs
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I. $(OPT) $(SANFLAGS) -DVGL_MIBDIR=\"$(MIBDIR)\" \
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

# ---- make install / uninstall (docs/operations.md, "Install") ----
# GNU conventions: PREFIX (default /usr/local), DESTDIR for a staging tree,
# each directory overridable. vigild goes to bin/ with vigil (SBINDIR
# defaults to BINDIR): the unit and the docs name one place.
#
# The binaries know where the MIB modules of mibs/ are (VGL_MIBDIR) from
# MIBDIR at build time: the source tree by default, so a dev build runs
# from here. make install takes the binaries already built and refuses
# ones built for another MIB directory than the one it installs to:
#   make MIBDIR=/usr/local/share/vigil/mibs && sudo make install
# It builds nothing itself, so an install as root leaves no root-owned
# files in $(BUILD).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(BINDIR)
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/vigil
ifeq ($(PREFIX),/usr)
SYSCONFDIR ?= /etc
else
SYSCONFDIR ?= $(PREFIX)/etc
endif
ifeq ($(origin UNITDIR),undefined)
UNITDIR := $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
endif
ifeq ($(origin SYSUSERSDIR),undefined)
SYSUSERSDIR := $(or $(shell pkg-config --variable=sysusersdir systemd 2>/dev/null),/usr/lib/sysusers.d)
endif
# Where the installed example config keeps its database: the unit's
# StateDirectory= (the daemon may write nowhere else, ProtectSystem=strict).
STATEDIR ?= /var/lib/vigil
INST_MIBDIR = $(DATADIR)/vigil/mibs

# The installed unit runs the installed vigild on the installed config;
# the installed example config writes its database to STATEDIR.
UNIT_SED = -e '/^Exec/s|=\([-@:+!]*\)/[^ ]*/vigild\b|=\1$(SBINDIR)/vigild|' \
	-e 's|/etc/vigil/vigil\.json|$(SYSCONFDIR)/vigil/vigil.json|g' \
	-e 's|/usr/share/doc/vigil/|$(DOCDIR)/|g'
# The man pages name the Debian package's paths (PREFIX=/usr); installed
# elsewhere, they name where the files went. (vigild's default config
# stays /etc/vigil/vigil.json whatever SYSCONFDIR is: it is compiled in.)
MAN_SED = -e 's|/usr/share/vigil/|$(DATADIR)/vigil/|g' -e 's|/usr/share/doc/vigil|$(DOCDIR)|g' \
	-e 's|/lib/systemd/system/|$(UNITDIR)/|g'
CONF_SED = -e 's|"path": "vigil\.db"|"path": "$(STATEDIR)/vigil.db"|'
CONF_FILES := vigil.json $(patsubst conf/%,%,$(wildcard conf/hosts.d/*.json conf/profiles/*.json))

.PHONY: install uninstall FORCE
FORCE:

# The MIB directory compiled in, rewritten only when MIBDIR changes, so a
# build for another directory recompiles the one object that uses it.
$(BUILD)/mibdir: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(MIBDIR)' ] || echo '$(MIBDIR)' > $@
$(BUILD)/obj/collectors/snmp_mib.o: $(BUILD)/mibdir

# Everything is checked before a file is written. A config file that
# exists and differs, installing onto the live system (no DESTDIR), stays:
# as dpkg does with a changed conffile, the shipped one lands beside it as
# F.example (not *.json, so an include directory skips it).
install:
	@for b in vigild vigil; do [ -x '$(BUILD)/'$$b ] || \
		{ echo "make install: no $(BUILD)/$$b: build first (make MIBDIR=$(INST_MIBDIR))" >&2; exit 1; }; done
	@got=$$(cat '$(BUILD)/mibdir' 2>/dev/null); [ "$$got" = '$(INST_MIBDIR)' ] || \
		{ echo "make install: $(BUILD)/vigild looks for its MIBs in $${got:-?}, not in" \
			"$(INST_MIBDIR) where they are installed: build with make MIBDIR=$(INST_MIBDIR)" >&2; exit 1; }
	@sed $(UNIT_SED) systemd/vigild.service | grep -q '^ExecStart=[-@:+!]*$(SBINDIR)/vigild ' || \
		{ echo "make install: cannot point systemd/vigild.service's ExecStart at $(SBINDIR)/vigild" >&2; exit 1; }
	@sed $(CONF_SED) conf/vigil.json | grep -qF '"path": "$(STATEDIR)/vigil.db"' || \
		{ echo "make install: cannot set conf/vigil.json's storage.path to $(STATEDIR)/vigil.db" >&2; exit 1; }
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(SBINDIR)' '$(DESTDIR)$(UNITDIR)' \
		'$(DESTDIR)$(INST_MIBDIR)' '$(DESTDIR)$(DOCDIR)' '$(DESTDIR)$(MANDIR)/man1' \
		'$(DESTDIR)$(MANDIR)/man5' '$(DESTDIR)$(MANDIR)/man8' \
		'$(DESTDIR)$(SYSCONFDIR)/vigil/hosts.d' '$(DESTDIR)$(SYSCONFDIR)/vigil/profiles'
	install -m 755 '$(BUILD)/vigild' '$(DESTDIR)$(SBINDIR)/vigild'
	install -m 755 '$(BUILD)/vigil' '$(DESTDIR)$(BINDIR)/vigil'
	sed $(UNIT_SED) systemd/vigild.service > '$(DESTDIR)$(UNITDIR)/vigild.service'
	chmod 644 '$(DESTDIR)$(UNITDIR)/vigild.service'
	@# A fixed system user (User= without DynamicUser=yes) is created by
	@# systemd-sysusers from this file (dh_installsysusers runs it in the
	@# Debian package's postinst).
	@u=$$(sed -n 's/^User=//p' systemd/vigild.service | tail -n 1); \
	if [ -n "$$u" ] && ! grep -qE '^DynamicUser=(yes|true|on|1)$$' systemd/vigild.service; then \
		echo "install $(DESTDIR)$(SYSUSERSDIR)/vigil.conf (user $$u)"; \
		install -d '$(DESTDIR)$(SYSUSERSDIR)' && \
		printf '# The user vigild runs as (its unit: User=%s).\nu %s - "vigil monitoring daemon" %s\n' \
			"$$u" "$$u" '$(STATEDIR)' > '$(DESTDIR)$(SYSUSERSDIR)/vigil.conf' && \
		chmod 644 '$(DESTDIR)$(SYSUSERSDIR)/vigil.conf'; \
	fi
	install -m 644 $(wildcard mibs/*) '$(DESTDIR)$(INST_MIBDIR)/'
	install -m 644 README.md $(wildcard docs/*.md) '$(DESTDIR)$(DOCDIR)/'
	@for m in $(wildcard man/*.[158]); do d='$(DESTDIR)$(MANDIR)/man'$${m##*.}; \
		echo "install $$m -> $$d/"; \
		sed $(MAN_SED) "$$m" > "$$d/$${m#man/}" && chmod 644 "$$d/$${m#man/}" || exit 1; \
	done
	@# The dashboard's files, whatever web/ holds, tree and all.
	@if [ -d web ]; then echo "install web/ -> $(DESTDIR)$(DATADIR)/vigil/web"; \
		(cd web && find . -type f) | while IFS= read -r f; do \
			install -D -m 644 "web/$$f" '$(DESTDIR)$(DATADIR)/vigil/web/'"$${f#./}" || exit 1; \
		done; \
	fi
	@etc='$(DESTDIR)$(SYSCONFDIR)/vigil'; for f in $(CONF_FILES); do \
		if [ "$$f" = vigil.json ]; then sed $(CONF_SED) conf/vigil.json; else cat "conf/$$f"; fi \
			> "$$etc/$$f.new" && chmod 644 "$$etc/$$f.new" || exit 1; \
		if [ -z '$(DESTDIR)' ] && [ -e "$$etc/$$f" ] && ! cmp -s "$$etc/$$f.new" "$$etc/$$f"; then \
			mv -f "$$etc/$$f.new" "$$etc/$$f.example" && \
			echo "kept $$etc/$$f (changed); the shipped one is $$etc/$$f.example"; \
		else \
			mv -f "$$etc/$$f.new" "$$etc/$$f" && echo "install $$etc/$$f"; \
		fi || exit 1; \
	done

# Removes what install put there except the configuration a person may
# have changed (files equal to the shipped ones go; the rest stays, and
# so does the database under STATEDIR).
uninstall:
	rm -f '$(DESTDIR)$(SBINDIR)/vigild' '$(DESTDIR)$(BINDIR)/vigil' \
		'$(DESTDIR)$(UNITDIR)/vigild.service' '$(DESTDIR)$(SYSUSERSDIR)/vigil.conf' \
		$(foreach m,$(wildcard man/*.[158]),'$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))')
	rm -rf '$(DESTDIR)$(DATADIR)/vigil' '$(DESTDIR)$(DOCDIR)'
	@etc='$(DESTDIR)$(SYSCONFDIR)/vigil'; for f in $(CONF_FILES); do \
		for g in "$$etc/$$f" "$$etc/$$f.example"; do [ -e "$$g" ] || continue; \
			if [ "$$f" = vigil.json ]; then sed $(CONF_SED) conf/vigil.json; else cat "conf/$$f"; fi | \
				cmp -s - "$$g" && rm -f "$$g" || echo "kept $$g (changed)"; \
		done; \
	done; rmdir "$$etc/hosts.d" "$$etc/profiles" "$$etc" 2>/dev/null || true

clean:
	rm -rf build build-san build-fuzz

-include $(DEPS)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_ALL:%=$(FUZZ_BUILD)/obj/test/fuzz/%.d)
