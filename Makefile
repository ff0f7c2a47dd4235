# cvmkit: one hand-written Makefile.  `make help` lists the targets.
#
# Sources are discovered by folder so that a module is added by adding its files:
#   library    policy/*.c measure/*.c sev/*.c tdx/*.c launcher/*.c  (but not launcher/cli*.c, cmd_*.c)
#   cli        launcher/cli*.c launcher/cmd_*.c
#   unit tests tests/unit/test_*.c      one cmocka program per module
#   cli tests  tests/cli/*.sh           golden tests of the cvmkit binary
#   fuzz       tests/fuzz/fuzz_*.c      libFuzzer targets (clang)
#   bench      tests/bench/*.c

VERSION     := 0.1.0
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
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

PKGS        := libcrypto json-c libcbor libvirt
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wmissing-declarations -Wold-style-definition -Wredundant-decls \
        -Wundef -Wwrite-strings -Wpointer-arith -Wcast-qual -Wvla -Winit-self
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) $(HARDEN) $(SAN_FLAGS) \
              -Iinclude -I. $(PKG_CFLAGS) -DCVMKIT_VERSION='"$(VERSION)"' \
              -DCVMKIT_SHARED_DIR='"$(abspath ../shared)"' $(CFLAGS)
LDFLAGS_ALL := $(SAN_FLAGS) $(LDFLAGS)

LIB_DIRS  := policy measure sev tdx launcher
ALL_SRCS  := $(wildcard $(addsuffix /*.c,$(LIB_DIRS)))
CLI_SRCS  := $(wildcard launcher/cli*.c launcher/cmd_*.c)
LIB_SRCS  := $(filter-out $(CLI_SRCS),$(ALL_SRCS))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(wildcard tests/unit/helper_*.c)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/obj/%.o)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)

STATIC_LIB := $(BUILD)/libcvmkit.a
SHARED_LIB := $(BUILD)/libcvmkit.so.$(VERSION)
CLI_BIN    := $(BUILD)/cvmkit

.PHONY: all check demo deps fuzz fuzz-run bench install uninstall clean help unit-tests
.DEFAULT_GOAL := all

all: $(STATIC_LIB) $(SHARED_LIB) $(CLI_BIN)
	@ln -sf $(CLI_BIN) cvmkit

help:
	@echo "make            build libcvmkit.a, libcvmkit.so and cvmkit (SANITIZE=1: ASan+UBSan)"
	@echo "make deps       install the Debian packages cvmkit needs (apt-get, skips what is present)"
	@echo "make demo       deps + build + run cvmkit on examples/"
	@echo "make check      deps + build + every test; ends with 'N passed, N failed'"
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
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(STATIC_LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS)
	$(Q)$(CC) -shared -Wl,-soname,libcvmkit.so.0 -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)
	$(Q)ln -sf libcvmkit.so.$(VERSION) $(BUILD)/libcvmkit.so

$(CLI_BIN): $(CLI_OBJS) $(STATIC_LIB)
	$(Q)$(CC) -o $@ $(CLI_OBJS) $(STATIC_LIB) $(LDFLAGS_ALL) $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $<")
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -Wno-missing-declarations -MMD -MP -o $@ $< \
		$(TEST_HELPER_OBJS) $(STATIC_LIB) $(LDFLAGS_ALL) $(PKG_LIBS) $(CMOCKA_LIBS)

unit-tests: $(UNIT_BINS)

# --- dependencies ----------------------------------------------------------------------------
DEB_PKGS := gcc make pkg-config libssl-dev libjson-c-dev libcbor-dev libvirt-dev libcmocka-dev \
            ovmf clang-14 libclang-rt-14-dev libvirt-daemon libvirt-clients libxml2-utils openssl
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

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh $(CLI_BIN)

# --- fuzzing (clang + libFuzzer) ---------------------------------------------------------------
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I. \
               $(PKG_CFLAGS) -DCVMKIT_VERSION='"$(VERSION)"' -DCVMKIT_SHARED_DIR='"$(abspath ../shared)"'
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(CLANG) $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -MMD -MP -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS)

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
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-cast-qual -o $@ $(BENCH_SRCS) $(STATIC_LIB) $(LDFLAGS_ALL) $(PKG_LIBS)

$(BENCH_MIN): tests/bench/minimal/minimal.c tests/bench/floor.c tests/bench/floor.h
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ tests/bench/minimal/minimal.c tests/bench/floor.c \
		$(LDFLAGS_ALL) -Wl,--as-needed $(shell pkg-config --libs libcrypto 2>/dev/null) -lpthread

bench: all $(BENCH_BIN) $(BENCH_MIN)
	@$(BENCH_BIN) --cli $(CLI_BIN) --minimal $(BENCH_MIN) $(if $(BENCH_JSON),--json $(BENCH_JSON))

# --- install -----------------------------------------------------------------------------------
PUBLIC_HEADERS := $(filter-out include/cvmkit/kvm_uapi.h,$(wildcard include/cvmkit/*.h))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/cvmkit
	install -m 0755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/cvmkit
	install -m 0644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/libcvmkit.a
	install -m 0755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/libcvmkit.so.$(VERSION)
	ln -sf libcvmkit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libcvmkit.so.0
	ln -sf libcvmkit.so.0 $(DESTDIR)$(LIBDIR)/libcvmkit.so
	install -m 0644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/cvmkit/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		docs/cvmkit.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/cvmkit.pc
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
		$(DESTDIR)$(LIBDIR)/pkgconfig/cvmkit.pc $(DESTDIR)$(MANDIR)/man1/cvmkit.1 \
		$(DESTDIR)$(MANDIR)/man5/cvmkit-policy.5 $(DESTDIR)$(DATADIR)/bash-completion/completions/cvmkit
	rm -rf $(DESTDIR)$(INCLUDEDIR)/cvmkit

clean:
	rm -rf build cvmkit

-include $(shell find build -name '*.d' 2>/dev/null)
