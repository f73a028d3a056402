# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# flowmeta build: BPF objects and skeletons, the flowmeta binary, tests and benchmarks, all in build/.

BUILD		?= build
PREFIX		?= /usr/local
DESTDIR		?=
# Where `make install` puts the systemd unit: the administrator's directory by default; the Debian
# package installs it with the distribution's units (debian/rules).
UNITDIR		?= /etc/systemd/system
CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
VERSION		:= $(shell cat VERSION 2>/dev/null || echo 0.0.0)

MULTIARCH	:= $(shell $(CC) -dumpmachine)
BPF_ARCH	:= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# CFLAGS, CPPFLAGS and LDFLAGS may be given (make CFLAGS=-O0; debian/rules passes dpkg-buildflags'):
# the flags flowmeta needs are kept apart. None of them reaches the BPF side (BPF_CFLAGS): hardening
# and host tuning flags mean nothing to clang -target bpf.
CFLAGS		?= -O2 -g
override CFLAGS	+= -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror \
		   -D_GNU_SOURCE -DFLOWMETA_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(BUILD) \
		   $(shell pkg-config --cflags libbpf json-c libmicrohttpd)
LDLIBS		+= $(shell pkg-config --libs libbpf json-c libmicrohttpd) -lelf -lz
BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Wextra -Werror \
		   -Wno-unused-parameter -Iinclude -Ibpf -I/usr/include/$(MULTIARCH)

BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS	:= $(wildcard bpf/*.h) $(wildcard include/*.h)

USER_SRCS	:= $(wildcard user/*.c)
USER_OBJS	:= $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS	:= $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
USER_HDRS	:= $(wildcard user/*.h) $(wildcard include/*.h)

# C test and benchmark programs: each tests/unit/X.c, tests/bpf/X.c and bench/X.c is one binary
# linked with every daemon module except main.o.
TEST_SRCS	:= $(wildcard tests/unit/*.c) $(wildcard tests/bpf/*.c) $(wildcard bench/*.c)
TEST_BINS	:= $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))
TEST_HDRS	:= $(wildcard tests/*.h) $(wildcard tests/*/*.h) $(wildcard bench/*.h)

.PHONY: all deps test bench demo install uninstall deb clean format
# Skeletons and BPF objects are inputs of later rules, not throwaway intermediates.
.SECONDARY: $(BPF_OBJS) $(SKELS)

all: $(BUILD)/flowmeta $(TEST_BINS)

deps:
	scripts/deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(BUILD)/user
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/flowmeta: $(USER_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(LIB_OBJS) $(TEST_HDRS) $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests $(LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(LIB_OBJS) $(TEST_HDRS) $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests -Ibench $(LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

$(BUILD) $(BUILD)/user:
	mkdir -p $@

# The README's test command. Needs root (BPF, network namespaces).
test: all
	tests/run.sh

bench: all
	bench/run.sh

demo: deps all
	scripts/demo.sh

install: $(BUILD)/flowmeta
	install -D -m 0755 $(BUILD)/flowmeta $(DESTDIR)$(PREFIX)/sbin/flowmeta
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' packaging/flowmeta.service \
		> $(DESTDIR)$(UNITDIR)/flowmeta@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/flowmeta@.service
	install -D -m 0644 packaging/flowmeta.json $(DESTDIR)$(PREFIX)/share/doc/flowmeta/flowmeta.json.example
	install -D -m 0644 packaging/flowmeta-alerts.yml \
		$(DESTDIR)$(PREFIX)/share/doc/flowmeta/flowmeta-alerts.yml
	test -e $(DESTDIR)/etc/flowmeta/flowmeta.json || \
		install -D -m 0644 packaging/flowmeta.json $(DESTDIR)/etc/flowmeta/flowmeta.json
	install -D -m 0644 docs/flowmeta.8 $(DESTDIR)$(PREFIX)/share/man/man8/flowmeta.8

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/flowmeta $(DESTDIR)$(UNITDIR)/flowmeta@.service \
		$(DESTDIR)$(PREFIX)/share/man/man8/flowmeta.8
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/flowmeta

# build/flowmeta_VERSION_ARCH.deb, built by dpkg-buildpackage from a copy of the tree (see there).
deb:
	scripts/deb.sh $(BUILD)

format:
	clang-format -i $(wildcard bpf/*.c bpf/*.h user/*.c user/*.h include/*.h tests/*/*.c \
		tests/*/*.h tests/*.h bench/*.c bench/*.h)

clean:
	rm -rf $(BUILD)
