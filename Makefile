# agentutils - build, check, install.
#
#   make            build every program and libagentutils
#   make check      install missing packages, build, run every test
#   make check SAN=1  the same, built with ASan and UBSan
#   make demo       install missing packages, build, run the main job
#   make bench      the benchmarks in tests/bench (not part of check)
#   make fuzz       the libFuzzer targets of tests/fuzz, FUZZ_SECONDS each
#   make install    PREFIX=/usr/local, DESTDIR for staging

VERSION = 0.1.0
SOVERSION = 0

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
DATADIR = $(PREFIX)/share
MANDIR = $(DATADIR)/man
SCHEMADIR = $(DATADIR)/agentutils/schemas
BASHCOMPDIR = $(DATADIR)/bash-completion/completions
ZSHCOMPDIR = $(DATADIR)/zsh/vendor-completions
FISHCOMPDIR = $(DATADIR)/fish/vendor_completions.d
PKGCONFIGDIR = $(LIBDIR)/pkgconfig

CC = cc
CFLAGS = -O2 -g
WARNINGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
AU_CPPFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L \
	-DAU_VERSION='"$(VERSION)"' -DAU_DATADIR='"$(DATADIR)/agentutils"' -Ilib

# SAN=1 builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# into a tree of its own, so the two builds never mix objects.
ifeq ($(SAN),1)
B = build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
else
B = build
SANFLAGS =
endif

# Quiet by default, one line per step; V=1 shows the commands.
ifeq ($(V),1)
Q =
SAY = @:
else
Q = @
SAY = @printf '  %-8s %s\n'
endif

ALL_CFLAGS = $(AU_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) $(SANFLAGS) \
	-fPIC -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# The libraries each part links, skarnet style: a program names its own.
LIB_LIBS = -ljq -lonig -lsqlite3 -lcrypto -lm
aw-plan_LIBS = -ljq -lsqlite3 -lcrypto -lm
aw-sched_LIBS = -ljq -lsqlite3 -lcrypto -lm
aw-sched_OBJ = $(B)/cmd/aw-sched/slurm.o
aw-ctl_LIBS = -ljq -lsqlite3 -lcrypto -lm
ws-approve_LIBS = -ljq -lonig -lsqlite3 -lcrypto -lm
audit-write_LIBS = -ljq -lsqlite3 -lcrypto -lm
audit-verify_LIBS = -ljq -lsqlite3 -lcrypto -larchive -lm
audit-export_LIBS = -ljq -lsqlite3 -lcrypto -larchive -lm
tg-list_LIBS = -ljq -lonig -lsqlite3 -lcrypto -lm
tg-grant_LIBS = -ljq -lonig -lsqlite3 -lcrypto -lm
tg-invoke_LIBS = -ljq -lonig -lsqlite3 -lcrypto -lm
tg-serve_LIBS = -ljq -lonig -lsqlite3 -lcrypto -lm
mf-route_LIBS = -lcurl -lpthread -ljq -lonig -lsqlite3 -lcrypto -lm
mf-usage_LIBS = -ljq -lsqlite3 -lcrypto -lm
tk-note_LIBS = -ljq -lonig -lsqlite3 -lcrypto -lm
tk-file_LIBS = -ljq -lsqlite3 -lcrypto -lm
tk-media_LIBS = -lmagic -lexif -lavformat -lavcodec -lavutil -ljq -lsqlite3 -lcrypto -lm
tk-serve_LIBS = -lmicrohttpd -lcmark-gfm-extensions -lcmark-gfm -lpthread -ljq -lm
tk-doc_OBJ = $(B)/cmd/tk-doc/xlsx.o $(B)/cmd/tk-doc/input.o \
	$(B)/cmd/tk-doc/ooxml.o $(B)/cmd/tk-doc/pptx.o $(B)/cmd/tk-doc/docx.o
tk-doc_LIBS = -lxlsxwriter -larchive -lxml2 -lcmark-gfm-extensions \
	-lcmark-gfm -ljq -lm
# libxml2 keeps its headers beneath a directory of their own.
$(B)/cmd/tk-doc.o $(tk-doc_OBJ): CPPFLAGS += -I/usr/include/libxml2

tk-md_LIBS = -lxml2 -larchive -lpthread -ljq -lm
tk-md_OBJ = $(B)/cmd/tk-md/common.o $(B)/cmd/tk-md/csv.o $(B)/cmd/tk-md/json.o $(B)/cmd/tk-md/xlsx.o $(B)/cmd/tk-md/docx.o $(B)/cmd/tk-md/pptx.o
tk-md_OBJ += $(B)/cmd/tk-md/html.o $(B)/cmd/tk-md/odf.o $(B)/cmd/tk-md/xscan.o
$(B)/cmd/tk-md.o $(tk-md_OBJ): CPPFLAGS += -I/usr/include/libxml2

ws-browser_LIBS = -ljq -lsqlite3 -lcrypto -lm

# libonig (for the policy's JSON Schemas) defines regcomp too: libc named
# before it keeps ws-pty's waits on the POSIX regcomp.
ws-pty_LIBS = -lvterm -ljq -lsqlite3 -lcrypto -lm -lc -lonig
ws-session_LIBS = -ljq -lsqlite3 -lcrypto -lm


PROGS = aw-plan aw-sched aw-ctl ws-approve audit-write audit-verify audit-export tg-list tg-grant tg-invoke tg-serve mf-route mf-usage tk-note tk-file tk-media tk-serve tk-doc tk-md ws-browser ws-pty ws-session

LIB_SRC = lib/approval.c lib/audit.c lib/aw.c lib/beneath.c lib/cfg.c \
	lib/conf.c lib/db.c lib/err.c lib/gateway.c lib/jschema.c lib/json.c \
	lib/map.c lib/mcp.c lib/mem.c lib/mf.c lib/mfwire.c lib/ndjson.c \
	lib/opt.c lib/out.c lib/proc.c lib/run.c lib/sandbox.c lib/schema.c \
	lib/sse.c lib/tg.c lib/time.c lib/where.c lib/ws.c
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o)
UNIT_SRC = $(wildcard tests/lib/test-*.c)
UNITS = $(UNIT_SRC:tests/lib/%.c=$(B)/tests/%)
# Test-only programs, built with the tests and never installed.
DRIVERS = $(B)/tests/jschema-driver $(B)/tests/mfwire-driver \
	$(B)/tests/schema-driver
# The fuzz targets of tests/fuzz; each is also built with cc as a replay
# of its committed corpus, which make check runs (tests/fuzz.bats).
FUZZ_TARGETS = ndjson time jschema mcp sse cfg mfwire csv html ooxml odf xscan
REPLAYS = $(FUZZ_TARGETS:%=$(B)/tests/replay-%)
# A target of a program's own parts names their objects (in this tree;
# the fuzz tree builds the same under build/fuzz), libraries and headers,
# as a program does: tk-md's readers (xscan.o alone, fed by the test).
fuzz-csv_OBJ = $(tk-md_OBJ)
fuzz-html_OBJ = $(tk-md_OBJ)
fuzz-ooxml_OBJ = $(tk-md_OBJ)
fuzz-odf_OBJ = $(tk-md_OBJ)
fuzz-xscan_OBJ = $(B)/cmd/tk-md/xscan.o
fuzz-csv_LIBS = $(tk-md_LIBS)
fuzz-html_LIBS = $(tk-md_LIBS)
fuzz-ooxml_LIBS = $(tk-md_LIBS)
fuzz-odf_LIBS = $(tk-md_LIBS)
fuzz-xscan_LIBS = -lxml2 -lm
TKMD_INC = -I/usr/include/libxml2 -Icmd
fuzz-csv_INC = $(TKMD_INC)
fuzz-html_INC = $(TKMD_INC)
fuzz-ooxml_INC = $(TKMD_INC)
fuzz-odf_INC = $(TKMD_INC)
fuzz-xscan_INC = $(TKMD_INC)

STATIC = $(B)/libagentutils.a
SHARED = $(B)/libagentutils.so.$(SOVERSION)
BINS = $(PROGS:%=$(B)/bin/%)

MAN1 = $(PROGS:%=man/man1/%.1)
MAN5 = $(wildcard man/man5/*.5)
MAN7 = $(wildcard man/man7/*.7)
SCHEMAS = $(wildcard share/schemas/*.schema.json)

all: $(BINS) $(STATIC) $(SHARED) $(UNITS) $(DRIVERS) $(REPLAYS)

$(B)/lib $(B)/bin $(B)/tests:
	$(Q)mkdir -p $@

$(B)/lib/%.o: lib/%.c | $(B)/lib
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(STATIC): $(LIB_OBJ)
	$(SAY) AR $@
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(LIB_OBJ)

$(SHARED): $(LIB_OBJ) lib/agentutils.map
	$(SAY) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -shared \
		-Wl,-soname,libagentutils.so.$(SOVERSION) \
		-Wl,--version-script=lib/agentutils.map -o $@ $(LIB_OBJ) \
		$(LIB_LIBS)

# A program of several files keeps the rest in cmd/<prog>/ and names
# their objects in <prog>_OBJ; they are its own, never another's.
$(B)/cmd/%.o: cmd/%.c
	$(SAY) CC $<
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

.SECONDEXPANSION:

$(B)/bin/%: $(B)/cmd/%.o $$($$*_OBJ) $(STATIC) | $(B)/bin
	$(SAY) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $($*_OBJ) $(STATIC) $($*_LIBS)

$(B)/tests/%: tests/lib/%.c tests/lib/tap.h $(STATIC) | $(B)/tests
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/lib -DAU_SRCDIR='"$(CURDIR)"' \
		$(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS)

$(B)/tests/jschema-driver: tests/jschema-driver.c $(STATIC) | $(B)/tests
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS)

$(B)/tests/mfwire-driver: tests/mfwire-driver.c $(STATIC) | $(B)/tests
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS)

$(B)/tests/schema-driver: tests/schema-driver.c $(STATIC) | $(B)/tests
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS)

$(B)/tests/replay.o: tests/fuzz/replay.c | $(B)/tests
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/fuzz -c -o $@ $<

$(B)/tests/replay-%: tests/fuzz/fuzz-%.c $(B)/tests/replay.o \
    $$(fuzz-$$*_OBJ) $(STATIC) | $(B)/tests
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(fuzz-$*_INC) -Itests/fuzz \
		$(ALL_LDFLAGS) -o $@ $< $(B)/tests/replay.o $(fuzz-$*_OBJ) \
		$(STATIC) $(fuzz-$*_LIBS) $(LIB_LIBS)

-include $(LIB_OBJ:.o=.d) $(PROGS:%=$(B)/cmd/%.d) $(UNITS:=.d) $(DRIVERS:=.d) \
	$(foreach p,$(PROGS),$($(p)_OBJ:.o=.d)) $(REPLAYS:=.d) \
	$(B)/tests/replay.d $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BINS:=.d) \
	$(patsubst $(B)/%.o,build/fuzz/%.d,$(tk-md_OBJ))

deps:
	@tools/deps.sh
	@tools/deps.sh npm

check: deps
	@$(MAKE) --no-print-directory all
	@AU_BUILD=$(abspath $(B)) AU_SAN=$(SAN) tests/run

demo: deps
	@$(MAKE) --no-print-directory all
	@AU_BIN=$(abspath $(B)/bin) examples/demo.sh

bench: all
	@AU_BIN=$(abspath $(B)/bin) tests/bench/run

# The fuzz targets of tests/fuzz (tests/fuzz/README), built by clang with
# libFuzzer, ASan and UBSan into a tree of their own, lib/ included; each
# runs FUZZ_SECONDS on its committed corpus, what it finds kept apart in
# build/fuzz/corpus so that the committed one changes only by hand.
FUZZ_CC = clang-14
FUZZ_SECONDS = 60
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = $(AU_CPPFLAGS) -O1 -g $(WARNINGS) $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link -MMD -MP
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=build/fuzz/%.o)
FUZZ_BINS = $(FUZZ_TARGETS:%=build/fuzz/fuzz-%)
# The objects of target $(1) in this tree.
fuzz_obj = $(patsubst $(B)/%,build/fuzz/%,$(fuzz-$(1)_OBJ))

build/fuzz/lib/%.o: lib/%.c
	$(SAY) FUZZCC $<
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/libagentutils.a: $(FUZZ_LIB_OBJ)
	$(SAY) AR $@
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(FUZZ_LIB_OBJ)

build/fuzz/cmd/%.o: cmd/%.c
	$(SAY) FUZZCC $<
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -I/usr/include/libxml2 -c -o $@ $<

build/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h \
    $$(call fuzz_obj,$$*) \
    build/fuzz/libagentutils.a
	$(SAY) FUZZCC $<
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(fuzz-$*_INC) -Itests/fuzz \
		-fsanitize=fuzzer -o $@ $< \
		$(call fuzz_obj,$*) \
		build/fuzz/libagentutils.a $(fuzz-$*_LIBS) $(LIB_LIBS) -lpthread

fuzz-build: $(FUZZ_BINS)

fuzz:
	@tools/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
			-print_final_stats=1 -artifact_prefix=build/fuzz/$$t- \
			-dict=tests/fuzz/fuzz.dict \
			build/fuzz/corpus/$$t tests/fuzz/corpus/$$t; \
	done

# Regenerate the shipped completions from the option tables; the
# conventions test fails when they differ from what the programs print.
completions: $(BINS)
	for p in $(PROGS); do \
		$(B)/bin/$$p --completion bash > completions/bash/$$p; \
		$(B)/bin/$$p --completion zsh > completions/zsh/_$$p; \
		$(B)/bin/$$p --completion fish > completions/fish/$$p.fish; \
	done

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(SCHEMADIR) \
		$(DESTDIR)$(DATADIR)/agentutils \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR)
	cp $(BINS) $(DESTDIR)$(BINDIR)/
	cp $(STATIC) $(DESTDIR)$(LIBDIR)/
	cp $(SHARED) $(DESTDIR)$(LIBDIR)/libagentutils.so.$(VERSION)
	ln -sf libagentutils.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libagentutils.so.$(SOVERSION)
	ln -sf libagentutils.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libagentutils.so
	cp lib/agentutils.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		lib/agentutils.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/agentutils.pc
	cp $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	cp $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	cp $(SCHEMAS) $(DESTDIR)$(SCHEMADIR)/
	cp share/agentutils/planner.md $(DESTDIR)$(DATADIR)/agentutils/
	for p in $(PROGS); do \
		cp completions/bash/$$p $(DESTDIR)$(BASHCOMPDIR)/$$p; \
		cp completions/zsh/_$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
		cp completions/fish/$$p.fish $(DESTDIR)$(FISHCOMPDIR)/$$p.fish; \
	done

uninstall:
	for p in $(PROGS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/man1/$$p.1 \
			$(DESTDIR)$(BASHCOMPDIR)/$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p \
			$(DESTDIR)$(FISHCOMPDIR)/$$p.fish; \
	done
	rm -f $(DESTDIR)$(LIBDIR)/libagentutils.a \
		$(DESTDIR)$(LIBDIR)/libagentutils.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libagentutils.so.$(SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libagentutils.so \
		$(DESTDIR)$(INCLUDEDIR)/agentutils.h \
		$(DESTDIR)$(PKGCONFIGDIR)/agentutils.pc \
		$(MAN5:man/%=$(DESTDIR)$(MANDIR)/%) \
		$(MAN7:man/%=$(DESTDIR)$(MANDIR)/%) \
		$(SCHEMAS:share/schemas/%=$(DESTDIR)$(SCHEMADIR)/%) \
		$(DESTDIR)$(DATADIR)/agentutils/planner.md
	-rmdir $(DESTDIR)$(SCHEMADIR) $(DESTDIR)$(DATADIR)/agentutils 2>/dev/null

clean:
	rm -rf build

.PHONY: all deps check demo bench fuzz fuzz-build completions install uninstall clean
.SECONDARY:
