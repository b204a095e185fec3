# SPDX-License-Identifier: GPL-2.0
#
# fdpkv top-level build. `make` builds everything; `make test` sets up the
# machine and runs every test layer; `make demo` runs a round trip on the
# file backend. Kernel modules are built out of tree, one build directory per
# cached kernel (scripts/setup.sh fills the cache).

PREFIX		?= /usr/local
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
DESTDIR		?=
PYTHON		?= /usr/bin/python3
FDPKV_CACHE	?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/fdpkv
export FDPKV_CACHE

VERSION		:= 0.1.0
SOVERSION	:= 0
B		:= build

CC		?= gcc
OBJCOPY		?= objcopy
WARN		:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		   -Wformat=2 -Wno-unused-parameter
CFLAGS		?= -O2 -g
BASE_CFLAGS	:= -std=gnu11 $(WARN) -D_GNU_SOURCE -fPIC -pthread \
		   -Iinclude -Ilib/include -Ilib
# ISA-L (crc32c.c) is referenced weakly, so --as-needed would drop it: keep it
ISAL_LIB	:= -Wl,--push-state,--no-as-needed -lisal -Wl,--pop-state
LDLIBS_LIB	:= -luring $(ISAL_LIB) -lpthread
SAN_FLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=undefined
TSAN_FLAGS	:= -O1 -g -fsanitize=thread

LIB_SRCS	:= $(wildcard lib/*.c)
LIB_HDRS	:= $(wildcard lib/*.h lib/include/*.h include/uapi/*.h)
TOOL_SRCS	:= $(wildcard tools/*.c)
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_HELPERS	:= $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))

LIB_OBJS	:= $(LIB_SRCS:%.c=$(B)/obj/%.o)
ASAN_OBJS	:= $(LIB_SRCS:%.c=$(B)/asan/%.o)
TSAN_OBJS	:= $(LIB_SRCS:%.c=$(B)/tsan/%.o)
# Library objects of the sanitizer builds are kept: without this make deletes
# them as intermediates after building one test binary, and the next rebuilds all.
.SECONDARY: $(ASAN_OBJS) $(TSAN_OBJS)
UNIT_BINS	:= $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/asan/%)
TSAN_BINS	:= $(patsubst tests/unit/%.c,$(B)/tests/tsan/%,$(wildcard tests/unit/test_*concurren*.c))

-include $(FDPKV_CACHE)/kernels.env
# Debian 12's kernels build on this host; Debian 13's (trixie, and
# trixie-backports' newest) need trixie's gcc-14 and C library, so their
# module builds run inside the trixie root (scripts/in-trixie.sh).
KVERS_TRIXIE	:= $(strip $(KVER_TRIXIE) $(KVER_TRIXIE_BPO))
KVERS		:= $(strip $(KVER_61) $(KVER_612) $(KVERS_TRIXIE))
kbuild_wrap	= $(if $(filter $(1),$(KVERS_TRIXIE)),scripts/in-trixie.sh)

.PHONY: all lib tools plugin kmod setup test demo lint install clean unit-build dkms-src \
	tsan-build vm-build check-setup bench bench-build crashtest crash-build deb deb-vm vm-all \
	fuzz-build
all: lib tools plugin kmod $(B)/examples/roundtrip

setup:
	@scripts/setup.sh

# --- libfdpkv ------------------------------------------------------------------
lib: $(B)/lib/libfdpkv.a $(B)/lib/libfdpkv.so.$(VERSION) $(B)/lib/libfdpkv.pc

$(B)/obj/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) -fvisibility=hidden -c -o $@ $<

# The static library is one relocatable object in which only the public
# fdpkv_* names stay global (what libfdpkv.map exports from the .so), so the
# library's internal names (entry_drop, backend_open, ...) never clash with a
# program linked against it.
$(B)/lib/libfdpkv.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(LD) -r -o $(B)/lib/libfdpkv-static.o $^
	$(OBJCOPY) --wildcard --keep-global-symbol='fdpkv_*' $(B)/lib/libfdpkv-static.o
	rm -f $@ && ar rcs $@ $(B)/lib/libfdpkv-static.o

$(B)/lib/libfdpkv.so.$(VERSION): $(LIB_OBJS) lib/libfdpkv.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libfdpkv.so.$(SOVERSION) \
		-Wl,--version-script=lib/libfdpkv.map -o $@ $(LIB_OBJS) $(LDLIBS_LIB)
	ln -sf libfdpkv.so.$(VERSION) $(B)/lib/libfdpkv.so.$(SOVERSION)
	ln -sf libfdpkv.so.$(SOVERSION) $(B)/lib/libfdpkv.so

$(B)/lib/libfdpkv.pc: lib/libfdpkv.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $< >$@

# --- fdpkvctl ------------------------------------------------------------------
tools: $(B)/bin/fdpkvctl

$(B)/bin/fdpkvctl: $(TOOL_SRCS) $(wildcard tools/*.h) $(B)/lib/libfdpkv.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Itools -o $@ $(TOOL_SRCS) $(B)/lib/libfdpkv.a \
		$$(pkg-config --cflags --libs libnvme) $(LDLIBS_LIB)

# --- examples ---------------------------------------------------------------
$(B)/examples/%: examples/%.c $(B)/lib/libfdpkv.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(B)/lib/libfdpkv.a $(LDLIBS_LIB)

# --- plugin (CPython extension, built in place) --------------------------------
plugin: $(B)/lib/libfdpkv.a
	cd plugin && FDPKV_TOP=$(CURDIR) $(PYTHON) setup.py -q build_ext --inplace \
		--force --build-temp $(abspath $(B))/plugin

# --- kernel module, one out-of-tree build per cached kernel ---------------------
KMOD_SRCS	:= Kbuild $(wildcard kmod/*.c kmod/*.h kmod/tests/*.c) include/uapi/fdpkv.h

kmod: $(foreach k,$(KVERS),$(B)/kmod/$(k)/fdpkv.ko)

# Sources are copied into the build dir: Kbuild writes its outputs next to
# them and `make M=... clean` deletes every *.ko below M.
$(B)/kmod/%/fdpkv.ko: $(KMOD_SRCS)
	@test -d $(FDPKV_CACHE)/kernels/$*/root || { echo "kernel $* is not cached: run make setup" >&2; exit 1; }
	@mkdir -p $(@D) && cp --parents $(KMOD_SRCS) $(@D)/
	$(call kbuild_wrap,$*) $(MAKE) -s -C $(FDPKV_CACHE)/kernels/$*/root/usr/src/linux-headers-$* \
		M=$(abspath $(@D)) modules

# --- tests -----------------------------------------------------------------
$(B)/asan/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(B)/tsan/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -c -o $@ $<

$(B)/tests/asan/%: tests/unit/%.c $(UNIT_HELPERS) $(ASAN_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(UNIT_HELPERS) $(ASAN_OBJS) -lcmocka $(LDLIBS_LIB) $(UNIT_LDFLAGS)

# test_oom makes chosen allocations fail through wrappers of its own
$(B)/tests/asan/test_oom: UNIT_LDFLAGS := -Wl,--wrap=malloc -Wl,--wrap=calloc

$(B)/tests/tsan/%: tests/unit/%.c $(UNIT_HELPERS) $(TSAN_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -Itests/unit -o $@ $< $(UNIT_HELPERS) $(TSAN_OBJS) -lcmocka $(LDLIBS_LIB)

unit-build: $(UNIT_BINS)

# The module's command predicate and tables, compiled unchanged in userspace
# with libFuzzer (tests/fuzz/README.md); _broken is the oracle's self-test.
FUZZ_SRCS	:= tests/fuzz/fuzz_check.c tests/fuzz/model.c kmod/fdpkv_tables.c \
		   kmod/fdpkv_validate.c kmod/fdpkv_cmd.c
FUZZ_DEPS	:= $(FUZZ_SRCS) $(wildcard tests/fuzz/*.h tests/fuzz/shim/linux/*.h kmod/*.h) \
		   include/uapi/fdpkv.h
FUZZ_FLAGS	:= -g -O2 -std=gnu11 -Wall -Wextra -Werror -fno-omit-frame-pointer \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		   -Itests/fuzz/shim -Iinclude -Ikmod -Itests/fuzz
fuzz-build: $(B)/fuzz/fuzz_check $(B)/fuzz/fuzz_check_broken
$(B)/fuzz/fuzz_check: $(FUZZ_DEPS)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -o $@ $(FUZZ_SRCS)
$(B)/fuzz/fuzz_check_broken: $(FUZZ_DEPS)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -DFDPKV_FUZZ_BROKEN_COVERAGE -o $@ $(FUZZ_SRCS)
tsan-build: $(TSAN_BINS)

# --- the long crash run (README: Crash consistency) ------------------------
# The power-cut checker built optimized, CRASH_POINTS crash points per
# durability mode from seed CRASH_SEED, then the kill -9 test; the log goes
# to build/crashtest.log. The `crash` layer of make test (run-tests.sh) runs
# the same binaries shorter, on fixed seeds.
CRASH_POINTS	?= 34000
CRASH_SEED	?= 1000
$(B)/crash/%: tests/crash/%.c $(UNIT_HELPERS) $(LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(UNIT_HELPERS) $(LIB_OBJS) -lcmocka $(LDLIBS_LIB)

crash-build: $(B)/crash/test_crashcheck $(B)/crash/test_crash_inflight

crashtest: crash-build
	{ FDPKV_CRASH_POINTS=$(CRASH_POINTS) FDPKV_CRASH_SEED=$(CRASH_SEED) \
		$(B)/crash/test_crashcheck; $(B)/crash/test_crash_inflight; } 2>&1 | \
		tee $(B)/crashtest.log | grep -v '^VIOLATION'

test: setup
	@scripts/run-tests.sh

demo: setup
	@scripts/demo.sh

# --- benchmarks (programs, not tests; not part of all): see bench/README.md ----
# `make bench` runs the set (bench/run.sh: CSV + PNG in build/bench/).
BENCH_BINS	:= $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
bench-build: $(BENCH_BINS)
bench: bench-build
	bench/run.sh $(B)/bench

# Benchmarks link the library's objects: some measure internals (crc32c).
$(B)/bench/%: bench/%.c $(LIB_OBJS) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS_LIB)

# --- lint ------------------------------------------------------------------
lint:
	@scripts/lint.sh

# --- install ---------------------------------------------------------------
install: lib tools
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/fdpkv/uapi $(DESTDIR)$(BINDIR)
	install -m 0644 $(B)/lib/libfdpkv.a $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(B)/lib/libfdpkv.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libfdpkv.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libfdpkv.so.$(SOVERSION)
	ln -sf libfdpkv.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libfdpkv.so
	install -m 0644 lib/include/fdpkv.h $(DESTDIR)$(INCLUDEDIR)/fdpkv/
	install -m 0644 include/uapi/fdpkv.h $(DESTDIR)$(INCLUDEDIR)/fdpkv/uapi/
	# generated here: the PREFIX of this install, not of an earlier build
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		lib/libfdpkv.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/libfdpkv.pc
	install -m 0755 $(B)/bin/fdpkvctl $(DESTDIR)$(BINDIR)/

# Module sources for DKMS: /usr/src/fdpkv-$(VERSION), then
#   dkms add fdpkv/$(VERSION) && dkms install fdpkv/$(VERSION)
DKMS_SRC	:= $(DESTDIR)/usr/src/fdpkv-$(VERSION)
dkms-src:
	install -d $(DKMS_SRC)/kmod/tests $(DKMS_SRC)/include/uapi
	install -m 0644 Kbuild dkms.conf $(DKMS_SRC)/
	install -m 0644 kmod/*.c kmod/*.h $(DKMS_SRC)/kmod/
	install -m 0644 kmod/tests/*.c $(DKMS_SRC)/kmod/tests/
	install -m 0644 include/uapi/fdpkv.h $(DKMS_SRC)/include/uapi/
	install -D -m 0644 kmod/60-fdpkv.rules $(DESTDIR)/etc/udev/rules.d/60-fdpkv.rules

# --- Debian packages (debian/): build/deb/*.deb, then lintian ----------------
# The tree (tracked and new files, not build/) is copied to build/deb/src so
# dpkg-buildpackage writes its .debs into build/deb, not next to the checkout.
deb:
	rm -rf $(B)/deb && mkdir -p $(B)/deb/src
	{ git ls-files -co --exclude-standard 2>/dev/null || find . -path ./$(B) -prune -o -type f -print; } | \
		grep -v '^$(B)/' | tar -cf - -T - | tar -xf - -C $(B)/deb/src
	cd $(B)/deb/src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error,warning $(B)/deb/*.changes

# The packages in a booted Debian guest (QEMU TCG): apt install, DKMS build
# for the running kernel, udev, purge. Not in `make test`: see README.
deb-vm:
	@tests/deb/test-deb-vm.sh

# Every VM plan on every kernel it can run on (the four Debian kernels, and
# the KUnit/KASAN kernel for its plans), two VMs at a time; a plans x
# kernels table at the end. Not in `make test` (which runs the heavy plans
# on two kernels): see README.
vm-all: all
	FDPKV_VM_ALL=1 FDPKV_VM_JOBS=$${FDPKV_VM_JOBS:-2} tests/vm/vm-test.sh

clean:
	rm -rf $(B) plugin/build plugin/fdpkv_lmcache/*.so plugin/*.egg-info
