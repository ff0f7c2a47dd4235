# cvmkit: one hand-written Makefile.  `make help` lists the targets.
#
# Sources are discovered by folder, so that a module is added by adding its files:
#   libcvmkit          policy/ measure/ sev/ tdx/ launcher/   (the folders' own *.c)
#   libcvmkit-libvirt  launcher/libvirt/                       (the only code linked to libvirt)
#   cvmkit             launcher/cli/  but the libvirt verb, which is the program cvmkit-libvirt
#                      (launcher/cli/cmd_libvirt.c + cli_libvirt_main.c), run by `cvmkit libvirt`
#   unit tests         tests/unit/test_*.c      one cmocka program per module
#   cli tests          tests/cli/*.sh           golden tests of the cvmkit binary
#   structure tests    tests/structure/*.sh     the dependency direction, the exported symbols
#   fuzz               tests/fuzz/fuzz_*.c      libFuzzer targets (clang)
#   bench              tests/bench/*.c

VERSION     := 0.1.0
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
LIBEXECDIR  ?= $(PREFIX)/libexec
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share

CC          ?= cc
CLANG       ?= clang-14
SANITIZE    ?= 0
FUZZ_SECONDS ?= 30

ifeq ($(SANITIZE),1)
BUILD       ?= build/san
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT         := -O1
else
BUILD       ?= build/rel
SAN_FLAGS   :=
OPT         := -O2
endif

CORE_PKGS   := libcrypto json-c libcbor
VIRT_PKGS   := libvirt libxml-2.0
# libcurl is loaded when a fetch runs (launcher/fetch_http.c): its headers only.
PKG_CFLAGS  := $(shell pkg-config --cflags $(CORE_PKGS) $(VIRT_PKGS) libcurl 2>/dev/null)
CORE_LIBS   := $(shell pkg-config --libs $(CORE_PKGS) 2>/dev/null) -lpthread
VIRT_LIBS   := $(shell pkg-config --libs $(VIRT_PKGS) 2>/dev/null)
PKG_LIBS    := $(CORE_LIBS) $(VIRT_LIBS)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wmissing-declarations -Wold-style-definition -Wredundant-decls \
        -Wundef -Wwrite-strings -Wpointer-arith -Wcast-qual -Wvla -Winit-self
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) $(HARDEN) $(SAN_FLAGS) \
              -Iinclude -I. $(PKG_CFLAGS) -DCVMKIT_VERSION='"$(VERSION)"' \
              -DCVMKIT_SHARED_DIR='"$(abspath ../shared)"' \
              -DCVMKIT_LIBEXECDIR='"$(LIBEXECDIR)/cvmkit"' $(CFLAGS)
# Library objects export only what the installed headers declare (they push default visibility).
LIB_CFLAGS := -fvisibility=hidden
LDFLAGS_ALL := $(SAN_FLAGS) $(LDFLAGS)

LIB_DIRS  := policy measure sev tdx launcher
LIB_SRCS  := $(wildcard $(addsuffix /*.c,$(LIB_DIRS)))
VIRT_SRCS := $(wildcard launcher/libvirt/*.c)
VIRT_CLI_SRCS := launcher/cli/cmd_libvirt.c launcher/cli/cli_libvirt_main.c
CLI_SRCS  := $(filter-out $(VIRT_CLI_SRCS) launcher/cli/cli_util.c launcher/cli/cli_progress.c,\
                          $(wildcard launcher/cli/*.c))
CLI_COMMON_SRCS := launcher/cli/cli_util.c launcher/cli/cli_progress.c
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
VIRT_OBJS := $(VIRT_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_COMMON_OBJS := $(CLI_COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
VIRT_CLI_OBJS := $(VIRT_CLI_SRCS:%.c=$(BUILD)/obj/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(wildcard tests/unit/helper_*.c)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/obj/%.o)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)

SOVERSION  := 0
STATIC_LIB := $(BUILD)/libcvmkit.a
SHARED_LIB := $(BUILD)/libcvmkit.so.$(VERSION)
VIRT_STATIC_LIB := $(BUILD)/libcvmkit-libvirt.a
VIRT_SHARED_LIB := $(BUILD)/libcvmkit-libvirt.so.$(VERSION)
CLI_BIN    := $(BUILD)/cvmkit
VIRT_CLI_BIN := $(BUILD)/cvmkit-libvirt

.PHONY: all check demo deps fuzz fuzz-run bench install uninstall clean help unit-tests mutation
.DEFAULT_GOAL := all

all: $(STATIC_LIB) $(SHARED_LIB) $(VIRT_STATIC_LIB) $(VIRT_SHARED_LIB) $(CLI_BIN) $(VIRT_CLI_BIN)
	@ln -sf $(CLI_BIN) cvmkit

help:
	@echo "make            build libcvmkit.a, libcvmkit.so and cvmkit (SANITIZE=1: ASan+UBSan)"
	@echo "make deps       install the Debian packages cvmkit needs (apt-get, skips what is present)"
	@echo "make demo       deps + build + run cvmkit on examples/"
	@echo "make check      deps + build + every test; ends with 'N passed, N failed'"
	@echo "make mutation   mutate the launcher on a copy, one change at a time: the launch tests must catch each"
	@echo "make fuzz       build the libFuzzer targets (clang); fuzz-run runs each FUZZ_SECONDS"
	@echo "make bench      benchmarks against their floors (BENCH_JSON=FILE also writes JSON,"
	@echo "                BENCH_QUICK=1 fewer runs)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR); make uninstall removes it"

ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(if $(filter $<,$(LIB_SRCS) $(VIRT_SRCS)),$(LIB_CFLAGS)) -MMD -MP -c $< -o $@

$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(STATIC_LIB): $(LIB_OBJS)
$(VIRT_STATIC_LIB): $(VIRT_OBJS)

# Shared libraries: the soname carries the ABI major ($(SOVERSION)); the version script names
# the exported set and makes anything else local.
$(SHARED_LIB): $(LIB_OBJS) docs/libcvmkit.map
	$(Q)$(CC) -shared -Wl,-soname,libcvmkit.so.$(SOVERSION) -Wl,--version-script,docs/libcvmkit.map \
		-Wl,--no-undefined -o $@ $(LIB_OBJS) $(LDFLAGS_ALL) $(CORE_LIBS)
	$(Q)ln -sf libcvmkit.so.$(VERSION) $(BUILD)/libcvmkit.so.$(SOVERSION)
	$(Q)ln -sf libcvmkit.so.$(SOVERSION) $(BUILD)/libcvmkit.so

$(VIRT_SHARED_LIB): $(VIRT_OBJS) $(SHARED_LIB) docs/libcvmkit-libvirt.map
	$(Q)$(CC) -shared -Wl,-soname,libcvmkit-libvirt.so.$(SOVERSION) \
		-Wl,--version-script,docs/libcvmkit-libvirt.map -Wl,--no-undefined -o $@ $(VIRT_OBJS) \
		$(LDFLAGS_ALL) -L$(BUILD) -lcvmkit $(VIRT_LIBS) $(CORE_LIBS)
	$(Q)ln -sf libcvmkit-libvirt.so.$(VERSION) $(BUILD)/libcvmkit-libvirt.so.$(SOVERSION)
	$(Q)ln -sf libcvmkit-libvirt.so.$(SOVERSION) $(BUILD)/libcvmkit-libvirt.so

# cvmkit itself links no libvirt: `cvmkit libvirt` runs cvmkit-libvirt.
$(CLI_BIN): $(CLI_OBJS) $(CLI_COMMON_OBJS) $(STATIC_LIB)
	$(Q)$(CC) -o $@ $(CLI_OBJS) $(CLI_COMMON_OBJS) $(STATIC_LIB) $(LDFLAGS_ALL) $(CORE_LIBS)

$(VIRT_CLI_BIN): $(VIRT_CLI_OBJS) $(CLI_COMMON_OBJS) $(VIRT_STATIC_LIB) $(STATIC_LIB)
	$(Q)$(CC) -o $@ $(VIRT_CLI_OBJS) $(CLI_COMMON_OBJS) $(VIRT_STATIC_LIB) $(STATIC_LIB) \
		$(LDFLAGS_ALL) $(VIRT_LIBS) $(CORE_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(STATIC_LIB) $(VIRT_STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $<")
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -Wno-missing-declarations -MMD -MP -o $@ $< \
		$(TEST_HELPER_OBJS) $(VIRT_STATIC_LIB) $(STATIC_LIB) $(LDFLAGS_ALL) $(PKG_LIBS) $(CMOCKA_LIBS)

# The example hand-off receiver (docs/handoff.md): protocol constants only, no libcvmkit.
HANDOFF_RECEIVER := $(BUILD)/handoff-receiver
$(HANDOFF_RECEIVER): tests/handoff/receiver.c include/cvmkit/handoff.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(LDFLAGS_ALL)

unit-tests: $(UNIT_BINS) $(HANDOFF_RECEIVER)

# --- dependencies ----------------------------------------------------------------------------
DEB_PKGS := gcc make pkg-config libssl-dev libjson-c-dev libcbor-dev libvirt-dev libcmocka-dev \
            libcurl4-openssl-dev libxml2-dev ovmf clang-14 libclang-rt-14-dev libvirt-daemon libvirt-clients libxml2-utils openssl
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# --- tests -----------------------------------------------------------------------------------
# `check` builds with the flags of this invocation and runs every unit and CLI test.
check: deps
	@$(MAKE) --no-print-directory all unit-tests
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run-tests.sh

# Slow (one rebuild per mutation), so not part of `check`: tests/mutation/run.sh says how it works.
mutation:
	@sh tests/mutation/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh $(CLI_BIN)

# --- fuzzing (clang + libFuzzer) ---------------------------------------------------------------
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I. \
               $(PKG_CFLAGS) -DCVMKIT_VERSION='"$(VERSION)"' -DCVMKIT_SHARED_DIR='"$(abspath ../shared)"'
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build/fuzz/obj/%.o) $(VIRT_SRCS:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(CLANG) $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -MMD -MP -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS)

# The objects are shared by every target: keep them between builds.
.SECONDARY: $(FUZZ_LIB_OBJS)

fuzz: $(FUZZ_BINS)

fuzz-run: fuzz
	@for f in $(FUZZ_BINS); do \
		name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; work=build/fuzz/work/$$name; \
		mkdir -p $$work $$corpus; echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=0 \
			$$work $$corpus >build/fuzz/$$name.log 2>&1 || { tail -40 build/fuzz/$$name.log; exit 1; }; \
	done

# --- benchmarks --------------------------------------------------------------------------------
# BENCH_QUICK=1: fewer runs; BENCH_REPS=N; SNP_MEASURE=sev-snp-measure.py, TDX_REFERENCE='cmd':
# optional peers.  The minimal program links libcrypto alone (the fixed-cost floor).
BENCH_BIN := $(BUILD)/cvmkit-bench
BENCH_MIN := $(BUILD)/cvmkit-bench-minimal

$(BENCH_BIN): $(BENCH_SRCS) tests/bench/bench.h tests/bench/floor.h $(STATIC_LIB)
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-cast-qual -o $@ $(BENCH_SRCS) $(STATIC_LIB) $(LDFLAGS_ALL) $(CORE_LIBS)

$(BENCH_MIN): tests/bench/minimal/minimal.c tests/bench/floor.c tests/bench/floor.h
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ tests/bench/minimal/minimal.c tests/bench/floor.c \
		$(LDFLAGS_ALL) -Wl,--as-needed $(shell pkg-config --libs libcrypto 2>/dev/null) -lpthread

bench: all $(BENCH_BIN) $(BENCH_MIN)
	@$(BENCH_BIN) --cli $(CLI_BIN) --minimal $(BENCH_MIN) $(if $(BENCH_JSON),--json $(BENCH_JSON))

# --- install -----------------------------------------------------------------------------------
PUBLIC_HEADERS := $(wildcard include/cvmkit/*.h)
PC_SED := -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/cvmkit \
		$(DESTDIR)$(LIBEXECDIR)/cvmkit
	install -m 0755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/cvmkit
	install -m 0755 $(VIRT_CLI_BIN) $(DESTDIR)$(LIBEXECDIR)/cvmkit/cvmkit-libvirt
	for l in libcvmkit libcvmkit-libvirt; do \
		install -m 0644 $(BUILD)/$$l.a $(DESTDIR)$(LIBDIR)/$$l.a && \
		install -m 0755 $(BUILD)/$$l.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$$l.so.$(VERSION) && \
		ln -sf $$l.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$$l.so.$(SOVERSION) && \
		ln -sf $$l.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/$$l.so || exit 1; \
	done
	install -m 0644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/cvmkit/
	sed $(PC_SED) docs/cvmkit.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/cvmkit.pc
	sed $(PC_SED) docs/cvmkit-libvirt.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/cvmkit-libvirt.pc
	@if [ -d docs/man ]; then \
		install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5; \
		for m in docs/man/*.1; do [ -f $$m ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done; \
		for m in docs/man/*.5; do [ -f $$m ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done; \
	fi; true
	@if [ -f docs/cvmkit.bash-completion ]; then \
		install -d $(DESTDIR)$(DATADIR)/bash-completion/completions; \
		install -m 0644 docs/cvmkit.bash-completion $(DESTDIR)$(DATADIR)/bash-completion/completions/cvmkit; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/cvmkit $(DESTDIR)$(LIBDIR)/libcvmkit.a $(DESTDIR)$(LIBDIR)/libcvmkit.so* \
		$(DESTDIR)$(LIBDIR)/libcvmkit-libvirt.a $(DESTDIR)$(LIBDIR)/libcvmkit-libvirt.so* \
		$(DESTDIR)$(LIBDIR)/pkgconfig/cvmkit.pc $(DESTDIR)$(LIBDIR)/pkgconfig/cvmkit-libvirt.pc \
		$(DESTDIR)$(MANDIR)/man1/cvmkit.1 \
		$(DESTDIR)$(MANDIR)/man5/cvmkit-policy.5 $(DESTDIR)$(DATADIR)/bash-completion/completions/cvmkit
	rm -rf $(DESTDIR)$(INCLUDEDIR)/cvmkit $(DESTDIR)$(LIBEXECDIR)/cvmkit

clean:
	rm -rf build cvmkit

-include $(shell find build -name '*.d' 2>/dev/null)
