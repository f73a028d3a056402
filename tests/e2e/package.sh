#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of the Debian package (debian/, `make deb`): it builds with dpkg-buildpackage
# from a copy of the tree (the tree itself untouched), lintian finds no error and no warning, the
# daemon is built with dpkg-buildflags and the BPF programs without them; `apt-get install
# ./build/flowmeta_VERSION_ARCH.deb` on this machine puts exactly the expected files in place
# (binary, template unit not enabled, compressed man page, docs, the conffile), the computed
# Depends name every library the binary loads, and the installed binary meters real traffic; a
# purge leaves nothing; a removal keeps the conffile (edited or not) and the instances an
# administrator enabled, a reinstall keeps an edited conffile, and a purge removes both; the
# maintainer scripts, run as under systemd, restart the running instances on an upgrade and stop
# them on a removal.
#
# The package is built once per run of this script (by whichever test needs it first) and every
# test that installs it leaves the machine as it found it, however the test ends: its exit trap
# purges the package (and any package apt brought in with it) and puts back what a `make install`
# had left in /etc (/etc/flowmeta, the unit in /etc/systemd/system), moved aside meanwhile to
# /var/tmp/flowmeta-e2e-package.PID. A lock serialises this script against another copy of it
# (another work tree) on the same machine. tests/e2e/install.sh never touches the machine's own
# directories (it installs into a DESTDIR), so the two never meet. Skips only where the Debian
# tooling is absent (scripts/deps.sh installs it, as CI does).
source "$(dirname "$0")/../lib.sh"

# shellcheck disable=SC2034 # lib.sh's ns_new reads it
FM_NS_PREFIX=fmD
PK_VERSION=$(cat "$FM_TOP/VERSION")
PK_ARCH=$(dpkg --print-architecture 2>/dev/null || true)
PK_DEB=$FM_TOP/build/flowmeta_${PK_VERSION}_${PK_ARCH}.deb
PK_STAGE=$FM_TOP/build/deb
PK_SRC=$PK_STAGE/flowmeta-$PK_VERSION
PK_CHANGES=$PK_STAGE/flowmeta_${PK_VERSION}_${PK_ARCH}.changes
PK_UNIT=/lib/systemd/system/flowmeta@.service
PK_CONF=/etc/flowmeta/flowmeta.json
PK_INSTANCE=flowmeta@fmdtest0.service	# an instance name no real interface has
# What a `make install` may have left in the machine's /etc, which the package would take over.
PK_FOREIGN=(/etc/flowmeta /etc/systemd/system/flowmeta@.service)
# Exactly what `dpkg -L flowmeta` lists.
PK_FILES="/.
/etc
/etc/flowmeta
/etc/flowmeta/flowmeta.json
/lib
/lib/systemd
/lib/systemd/system
/lib/systemd/system/flowmeta@.service
/usr
/usr/sbin
/usr/sbin/flowmeta
/usr/share
/usr/share/doc
/usr/share/doc/flowmeta
/usr/share/doc/flowmeta/README.md.gz
/usr/share/doc/flowmeta/changelog.gz
/usr/share/doc/flowmeta/copyright
/usr/share/doc/flowmeta/flowmeta-alerts.yml
/usr/share/doc/flowmeta/flowmeta.json.example
/usr/share/man
/usr/share/man/man8
/usr/share/man/man8/flowmeta.8.gz"

# apt and dpkg without questions; another apt on the machine (an engineer's deps.sh) is waited for.
pk_apt() {	# APT-GET ARGS...
	DEBIAN_FRONTEND=noninteractive apt-get -y -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 \
		"$@" </dev/null
}

# ------------------------------------------------------------------------------------------------
# The build (once per run of the script)

# PK_DEB exists, built by `make deb` in this run; skips when the Debian tooling is absent.
pk_need_deb() {
	local mark=$FM_RUN_DIR/deb
	if [ ! -e "$mark.tried" ]; then
		: >"$mark.tried"
		pk_build "$mark"
	fi
	[ ! -s "$mark.skip" ] || skip "$(cat "$mark.skip")"
	[ -e "$mark.built" ] || fail "make deb failed: $(cat "$mark.failed" 2>/dev/null)"
}

pk_build() {	# MARK
	local mark=$1 tool
	for tool in dpkg-buildpackage dh lintian apt-get; do
		if ! command -v "$tool" >/dev/null; then
			echo "$tool is not installed (scripts/deps.sh installs it)" >"$mark.skip"
			return 0
		fi
	done
	pk_tree_state >"$mark.tree-before"
	if ! make -C "$FM_TOP" deb >"$FM_RUN_DIR/make-deb.log" 2>&1; then
		tail -n 3 "$FM_RUN_DIR/make-deb.log" | tr '\n' '|' >"$mark.failed"
		return 0
	fi
	pk_tree_state >"$mark.tree-after"
	[ -f "$PK_DEB" ] || { echo "no $PK_DEB after make deb" >"$mark.failed"; return 0; }
	: >"$mark.built"
}

# Every file of the source tree but build/ and .git, with its size and modification time.
pk_tree_state() {
	(cd "$FM_TOP" &&
		find . \( -path ./build -o -path ./.git \) -prune -o -printf '%p %s %T@\n' | sort)
}

# ------------------------------------------------------------------------------------------------
# Installing on this machine, and leaving it as it was

# Take over the machine for this test: refuse an installed flowmeta package (this test could not
# put it back), move aside what a `make install` left in /etc, and arm the trap that undoes all
# of it.
pk_take_machine() {
	require_root
	pk_need_deb
	local f
	[ "$(pk_state)" = gone ] ||
		fail "the flowmeta package is already on this machine ($(pk_state)): the test" \
			"would replace it; apt-get purge flowmeta first"
	PK_OWNED=1
	PK_MOVED=()
	# Outside /tmp, which other tools clean, and kept if the test is killed outright.
	PK_ASIDE=/var/tmp/flowmeta-e2e-package.$FM_ID
	trap pk_on_exit EXIT
	for f in "${PK_FOREIGN[@]}"; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			mkdir -p "$PK_ASIDE"
			mv "$f" "$PK_ASIDE/$(echo "$f" | tr / _)"
			PK_MOVED+=("$f")
			log "moved $f aside to $PK_ASIDE until the test ends"
		fi
	done
}

pk_on_exit() {
	local rc=$? pid
	set +eE
	trap - ERR INT TERM
	# Daemons first, while the binary they run is still installed.
	for pid in "${FM_FM_PIDS[@]}"; do
		stop_pid "$pid" TERM 10
	done
	pk_give_back_machine
	pk_status "$rc"
	fm_test_cleanup
}

pk_status() {
	return "$1"
}

pk_give_back_machine() {
	local f link extra=()
	for link in /etc/systemd/system/*.wants/"$PK_INSTANCE"; do
		[ -L "$link" ] && rm -f "$link"
	done
	if [ -s "$FM_LOG_DIR/apt-new" ]; then
		mapfile -t extra < <(grep -vx flowmeta "$FM_LOG_DIR/apt-new")
	fi
	if [ -n "${PK_OWNED:-}" ] && dpkg-query -W flowmeta >/dev/null 2>&1; then
		pk_apt purge flowmeta "${extra[@]}" >"$FM_LOG_DIR/cleanup-purge.log" 2>&1 ||
			echo "cleanup: apt-get purge flowmeta failed (see cleanup-purge.log)" >&2
	fi
	for f in "${PK_MOVED[@]}"; do
		rm -rf -- "$f"
		mv "$PK_ASIDE/$(echo "$f" | tr / _)" "$f"
	done
	[ ${#PK_MOVED[@]} -eq 0 ] || rmdir "$PK_ASIDE"
}

# `apt-get install` of the built package (ARGS first, e.g. --reinstall); what apt installed anew
# is kept in apt-new for the cleanup. Asserts it changed no other package.
pk_install() {	# [APT ARGS...]
	local log=$FM_LOG_DIR/apt-install-$SECONDS-$RANDOM.log
	(cd "$FM_TOP" && pk_apt install "$@" "./build/${PK_DEB##*/}") >"$log" 2>&1 ||
		fail "apt-get install $* ./build/${PK_DEB##*/}: $(tail -n 3 "$log" | tr '\n' '|')"
	sed -n '/^The following NEW packages will be installed:/,/^[^ ]/{/^ /p}' "$log" |
		tr ' ' '\n' | grep . >>"$FM_LOG_DIR/apt-new" || true
	grep -q '^0 upgraded, .* 0 to remove' "$log" ||
		fail "installing the package changed other packages: $(grep upgraded "$log")"
}

pk_remove() {	# remove|purge
	pk_apt "$1" flowmeta >"$FM_LOG_DIR/apt-$1.log" 2>&1 ||
		fail "apt-get $1 flowmeta: $(tail -n 3 "$FM_LOG_DIR/apt-$1.log" | tr '\n' '|')"
}

# dpkg's abbreviated state of flowmeta ("ii", "rc"), or "gone" when nothing of it is on the
# machine (dpkg does not know it, or knows it only as not installed: "un", "pn").
pk_state() {
	local s
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' flowmeta 2>/dev/null) || s=gone
	s=${s%% *}
	case $s in un | pn) s=gone ;; esac
	echo "$s"
}

# Which of the package's paths exist, one "PATH yes|no" a line: after a purge it must be what it
# was before the installation (only directories other packages share remain).
pk_paths_present() {
	local p
	while read -r p; do
		if [ -e "$p" ]; then echo "$p yes"; else echo "$p no"; fi
	done <<<"$PK_FILES"
}

# After a purge: dpkg has forgotten the package, every path it brought that was not there before
# is gone, no maintainer script or conffile backup is left, and no instance stays enabled.
pk_assert_purged() {	# FILE_OF_PATHS_PRESENT_BEFORE_INSTALL
	assert_eq "$(pk_state)" gone "dpkg state after purge"
	diff -u "$1" <(pk_paths_present) >"$FM_LOG_DIR/left.diff" ||
		fail "left after purge: $(grep '^+/' "$FM_LOG_DIR/left.diff" | tr '\n' ' ')"
	local left
	left=$(ls -d /var/lib/dpkg/info/flowmeta.* /etc/flowmeta* \
		/etc/systemd/system/*.wants/flowmeta@* 2>/dev/null || true)
	[ -z "$left" ] || fail "left after purge: $(echo "$left" | tr '\n' ' ')"
}

# ------------------------------------------------------------------------------------------------
# Tests

# make deb builds build/flowmeta_VERSION_ARCH.deb and leaves the source tree as it was; lintian
# finds no error and no warning in the .deb nor in the .changes (which covers the source package
# too, that is debian/ itself); the package is the one debian/changelog and VERSION name.
test_package_build() {
	pk_need_deb
	diff -u "$FM_RUN_DIR/deb.tree-before" "$FM_RUN_DIR/deb.tree-after" \
		>"$FM_LOG_DIR/tree.diff" ||
		fail "make deb changed the source tree: $(grep '^[-+]\./' "$FM_LOG_DIR/tree.diff" |
			head -n 5 | tr '\n' ' ')"
	assert_eq "$(dpkg-deb -f "$PK_DEB" Package Version Architecture | tr '\n' ' ')" \
		"Package: flowmeta Version: $PK_VERSION Architecture: $PK_ARCH " "control fields"
	[ -f "$PK_CHANGES" ] || fail "no $PK_CHANGES"
	grep -q "flowmeta_$PK_VERSION.dsc" "$PK_CHANGES" || fail "no source package in the .changes"
	local f out=$FM_LOG_DIR/lintian.out
	for f in "$PK_DEB" "$PK_CHANGES"; do
		lintian --fail-on error,warning "$f" >"$out" 2>&1 ||
			fail "lintian ${f##*/}: $(grep -v '^running with root' "$out" | head -n 5 |
				tr '\n' '|')"
		! grep -q '^[EW]: ' "$out" ||
			fail "lintian ${f##*/}: $(grep '^[EW]: ' "$out" | head -n 5 | tr '\n' '|')"
	done
}

# What dpkg-buildflags gives the package build (in its directory: -ffile-prefix-map names it).
pk_buildflags() {	# CFLAGS|CPPFLAGS|LDFLAGS
	(cd "$PK_SRC" && DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1")
}

# The daemon's objects are compiled with every flag dpkg-buildflags gives (hardening=+all, as
# debian/rules asks) and linked with its LDFLAGS; the BPF objects get none of them (clang -target
# bpf); the packaged binary shows it: PIE, full RELRO (BIND_NOW), fortified calls, stack
# protector.
test_package_build_flags() {
	pk_need_deb
	local log=$FM_RUN_DIR/make-deb.log flags ldflags flag line n=0 bin
	flags="$(pk_buildflags CPPFLAGS) $(pk_buildflags CFLAGS)"
	ldflags=$(pk_buildflags LDFLAGS)
	while read -r line; do
		n=$((n + 1))
		for flag in $flags; do
			[[ " $line " == *" $flag "* ]] || fail "compiled without $flag: $line"
		done
	done < <(grep -E ' -c user/[a-z_]+\.c ' "$log")
	assert_ge "$n" 5 "user/*.c compile lines in the build log"
	line=$(grep -E ' -o build/flowmeta$' "$log") || fail "no link line in the build log"
	for flag in $ldflags; do
		[[ " $line " == *" $flag "* ]] || fail "linked without $flag: $line"
	done
	n=0
	while read -r line; do
		n=$((n + 1))
		for flag in $flags; do
			case $flag in -g | -O2) continue ;; esac	# BPF_CFLAGS has its own
			[[ " $line " != *" $flag "* ]] || fail "the BPF build got $flag: $line"
		done
	done < <(grep -E -- '-target bpf .* -c bpf/' "$log")
	assert_ge "$n" 1 "BPF compile lines in the build log"
	bin=$FM_LOG_DIR/flowmeta
	dpkg-deb --fsys-tarfile "$PK_DEB" | tar -xOf - ./usr/sbin/flowmeta >"$bin"
	# Into files first: grep -q leaving early would fail the pipe (SIGPIPE, pipefail).
	readelf -hldW "$bin" >"$bin.elf"
	nm -D "$bin" >"$bin.syms"
	grep -q 'Type:.*DYN' "$bin.elf" || fail "the packaged binary is not PIE"
	grep -q GNU_RELRO "$bin.elf" || fail "the packaged binary has no RELRO segment"
	grep -q 'FLAGS.*\bNOW\b' "$bin.elf" || fail "the packaged binary is not BIND_NOW"
	grep -q ' U __[a-z]*_chk@' "$bin.syms" || fail "the packaged binary calls no fortified call"
	grep -q ' U __stack_chk_fail@' "$bin.syms" || fail "the packaged binary has no stack guard"
}

# apt-get install puts exactly the expected files in place, with their modes; the binary runs and
# is this VERSION; /etc/flowmeta/flowmeta.json is a conffile holding the example configuration;
# the template unit is in place, runs the installed binary, and is not enabled (no instance, no
# symlink); the man page is found by man; Depends names the package of every library the binary
# loads. Then a purge leaves nothing of the package.
test_package_install_purge() {
	pk_take_machine
	pk_paths_present >"$FM_LOG_DIR/paths-before"
	pk_install
	assert_eq "$(pk_state)" ii "dpkg state after install"
	assert_eq "$(dpkg -L flowmeta)" "$PK_FILES" "dpkg -L flowmeta"
	local f mode
	while read -r f; do
		[ -f "$f" ] || continue	# directories are shared with other packages
		mode=644
		[ "$f" = /usr/sbin/flowmeta ] && mode=755
		assert_eq "$(stat -c '%a %U:%G' "$f")" "$mode root:root" "mode of $f"
	done <<<"$PK_FILES"
	assert_eq "$(/usr/sbin/flowmeta --version)" "flowmeta $PK_VERSION" "flowmeta --version"
	/usr/sbin/flowmeta check -c "$PK_CONF" >"$FM_LOG_DIR/check.out" 2>&1 ||
		fail "flowmeta check -c $PK_CONF: $(head -n 2 "$FM_LOG_DIR/check.out")"
	cmp -s "$PK_CONF" "$FM_TOP/packaging/flowmeta.json" ||
		fail "$PK_CONF is not packaging/flowmeta.json"
	assert_eq "$(dpkg-query -W -f='${Conffiles}' flowmeta)" \
		" $PK_CONF $(md5sum <"$FM_TOP/packaging/flowmeta.json" | cut -d' ' -f1)" "Conffiles"

	grep -qx "ExecStart=/usr/sbin/flowmeta run -i %I -c $PK_CONF" "$PK_UNIT" ||
		fail "the unit's ExecStart: $(grep ExecStart= "$PK_UNIT")"
	assert_eq "$(systemctl is-enabled flowmeta@.service 2>&1 || true)" disabled \
		"systemctl is-enabled flowmeta@.service"
	local links
	links=$(find /etc/systemd/system -name 'flowmeta*' 2>/dev/null)
	[ -z "$links" ] || fail "installing enabled something: $links"

	local pages
	pages=$(man -aw flowmeta 2>&1 || true)
	grep -qx /usr/share/man/man8/flowmeta.8.gz <<<"$pages" ||
		fail "man does not find /usr/share/man/man8/flowmeta.8.gz: $pages"
	local depends lib pkg
	# The package names of Depends, one a line (alternatives included).
	depends=$(dpkg-query -W -f='${Depends}' flowmeta | tr ',|' '\n' | sed 's/^ *//; s/[ (].*//')
	readelf -dW /usr/sbin/flowmeta >"$FM_LOG_DIR/dynamic"
	assert_ge "$(grep -c NEEDED "$FM_LOG_DIR/dynamic")" 3 "NEEDED entries of /usr/sbin/flowmeta"
	while read -r lib; do
		pkg=$(dpkg -S "*/$lib" 2>/dev/null | sed -n '1s/:.*//p')
		[ -n "$pkg" ] || fail "no package owns $lib"
		grep -qx "$pkg" <<<"$depends" ||
			fail "Depends ($(echo "$depends" | tr '\n' ' ')) lacks $pkg, which has $lib"
	done < <(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' "$FM_LOG_DIR/dynamic")

	pk_remove purge
	pk_assert_purged "$FM_LOG_DIR/paths-before"
}

# The installed binary loads its embedded BPF programs and meters: pings over a veth overlay in
# namespaces are counted exactly in both directions (a broken BPF build, or hardening flags that
# reached it, would show here).
test_package_binary_meters() {
	pk_take_machine
	pk_install
	require_bpffs
	# shellcheck disable=SC2034 # lib.sh's helpers run FM_BIN
	FM_BIN=/usr/sbin/flowmeta
	topo_overlay veth
	echo '{"FlowMetadata": {"PollInterval": 1000}}' >"$FM_LOG_DIR/flowmeta.json"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$FM_LOG_DIR/flowmeta.json"
	fm_wait_metering
	send_ping "$FM_NS_A" "$FM_B4" 3 100
	fm_flows "$FM_NS_A" "$FM_IF_A" "$FM_LOG_DIR/flows.json"
	assert_flow "$FM_LOG_DIR/flows.json" egress 1 "$FM_A4" "$FM_B4" 0 2048 "$SENT_PACKETS" \
		"$SENT_OCTETS"
	assert_flow "$FM_LOG_DIR/flows.json" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$SENT_PACKETS" \
		"$SENT_OCTETS"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "flowmeta exit status"
}

# An edited conffile survives a reinstall (no prompt, no .dpkg-* file beside it) and a removal
# (state rc: only the configuration left, binary, unit and docs gone); the purge removes it.
test_package_edited_conffile() {
	pk_take_machine
	pk_paths_present >"$FM_LOG_DIR/paths-before"
	pk_install
	local edited='{"FlowMetadata": {"IpFixCollectors": ["Udp/127.0.0.1:4739"]}}'
	echo "$edited" >"$PK_CONF"
	pk_install --reinstall
	assert_eq "$(cat "$PK_CONF")" "$edited" "the conffile after a reinstall"
	assert_eq "$(ls /etc/flowmeta)" flowmeta.json "files in /etc/flowmeta after a reinstall"
	pk_remove remove
	assert_eq "$(pk_state)" rc "dpkg state after remove"
	assert_eq "$(cat "$PK_CONF")" "$edited" "the conffile after remove"
	local f
	for f in /usr/sbin/flowmeta "$PK_UNIT" /usr/share/doc/flowmeta \
		/usr/share/man/man8/flowmeta.8.gz; do
		[ ! -e "$f" ] || fail "left after remove: $f"
	done
	pk_remove purge
	pk_assert_purged "$FM_LOG_DIR/paths-before"
}

# A removal keeps the unedited conffile too, and an instance the administrator enabled: installing
# again brings it back enabled. The purge disables it (its symlink is gone) and removes the
# conffile.
test_package_enabled_instance() {
	pk_take_machine
	require_cmd systemctl
	pk_paths_present >"$FM_LOG_DIR/paths-before"
	pk_install
	systemctl enable "$PK_INSTANCE" >"$FM_LOG_DIR/enable.out" 2>&1 ||
		fail "systemctl enable $PK_INSTANCE: $(cat "$FM_LOG_DIR/enable.out")"
	assert_eq "$(systemctl is-enabled "$PK_INSTANCE")" enabled "$PK_INSTANCE after enable"
	pk_remove remove
	cmp -s "$PK_CONF" "$FM_TOP/packaging/flowmeta.json" || fail "remove did not keep $PK_CONF"
	[ -L "/etc/systemd/system/multi-user.target.wants/$PK_INSTANCE" ] ||
		fail "remove disabled $PK_INSTANCE"
	pk_install
	assert_eq "$(systemctl is-enabled "$PK_INSTANCE")" enabled "$PK_INSTANCE after reinstalling"
	pk_remove purge
	pk_assert_purged "$FM_LOG_DIR/paths-before"
}

# The packaged maintainer scripts as they run under systemd (this machine's PID 1 may not be
# systemd: they run in a private mount namespace whose /run says it is, with systemctl and
# deb-systemd-invoke replaced by recorders; the recorded systemctl has one instance running, which
# stops when signalled): a first installation reloads systemd and starts or enables nothing; an
# upgrade hands each running instance over (SIGUSR2: it exits leaving its programs attached) and
# starts it on the new binary, or restarts it when it has not exited after 30 s; a removal stops them before the binary goes, then reloads systemd. (Not postrm purge: it edits the real /etc; the purge tests
# run it for real.)
test_package_maintainer_scripts() {
	pk_need_deb
	require_cmd unshare
	local dir=$FM_LOG_DIR/maint tool
	mkdir -p "$dir/bin"
	dpkg-deb -e "$PK_DEB" "$dir/control"
	for tool in systemctl deb-systemd-invoke; do
		# shellcheck disable=SC2016 # expanded by the recorder when it runs
		printf '#!/bin/sh\necho "%s $*" >>"$PK_CALLS"\n' "$tool" >"$dir/bin/$tool"
		chmod +x "$dir/bin/$tool"
	done
	# shellcheck disable=SC2016 # expanded by the recorder when it runs
	cat >>"$dir/bin/systemctl" <<-'EOF'
		case "$1" in
		list-units) echo "flowmeta@wg0.service loaded active running flowmeta on wg0" ;;
		kill) [ -n "${PK_STUCK:-}" ] || : >"${PK_CALLS}.stopped" ;;
		is-active) [ ! -e "${PK_CALLS}.stopped" ] ;;
		esac
	EOF
	# The hand-over's wait (300 times 0.1 s) at once: only postinst sleeps.
	printf '#!/bin/sh\nexit 0\n' >"$dir/bin/sleep"
	chmod +x "$dir/bin/sleep"
	local reload="systemctl --system daemon-reload"
	pk_maint postinst configure
	assert_eq "$PK_GOT" "$reload" "postinst configure (first install)"
	pk_maint postinst configure 0.0.1
	local unit=flowmeta@wg0.service
	assert_eq "$PK_GOT" "$reload|$(printf '%s|' \
		"systemctl list-units --plain --no-legend --state=active flowmeta@*.service" \
		"systemctl kill --kill-whom=main --signal=SIGUSR2 $unit" \
		"systemctl is-active --quiet $unit" \
		"systemctl is-active --quiet $unit")deb-systemd-invoke start $unit" \
		"postinst configure 0.0.1 (upgrade: the running instance hands over)"
	# A daemon that does not exit on SIGUSR2: asked 302 times over 30 s (300 waits, the last
	# look, the check after), then a plain restart, never a start beside the old binary.
	export PK_STUCK=1
	pk_maint postinst configure 0.0.1
	unset PK_STUCK
	assert_eq "$(echo "$PK_GOT" | tr '|' '\n' | grep -c "^systemctl is-active --quiet $unit$")" \
		302 "is-active calls of a hand-over whose daemon does not exit"
	assert_eq "$(echo "$PK_GOT" | tr '|' '\n' | grep -v "^systemctl is-active " | paste -sd '|')" \
		"$reload|$(printf '%s|' \
		"systemctl list-units --plain --no-legend --state=active flowmeta@*.service" \
		"systemctl kill --kill-whom=main --signal=SIGUSR2 $unit")deb-systemd-invoke try-restart $unit" \
		"postinst configure 0.0.1 (upgrade: the daemon does not exit, it is restarted)"
	pk_maint prerm upgrade "$PK_VERSION"
	assert_eq "$PK_GOT" "" "prerm upgrade"
	pk_maint prerm remove
	assert_eq "$PK_GOT" "deb-systemd-invoke stop flowmeta@*.service" "prerm remove"
	pk_maint postrm remove
	assert_eq "$PK_GOT" "$reload" "postrm remove"
}

# Run the packaged maintainer SCRIPT with ARGS where /run/systemd/system exists; the calls it made
# to systemctl and deb-systemd-invoke, "|"-separated, in PK_GOT.
pk_maint() {	# SCRIPT ARGS...
	local dir=$FM_LOG_DIR/maint
	: >"$dir/calls"
	rm -f "$dir/calls.stopped"
	local run='mount -t tmpfs fmdrun /run && mkdir -p /run/systemd/system && exec sh "$@"'
	PK_CALLS=$dir/calls PATH=$dir/bin:$PATH unshare --mount --propagation private \
		sh -c "$run" sh "$dir/control/$1" "${@:2}" >"$dir/out" 2>&1 ||
		fail "$* under systemd: $(head -n 3 "$dir/out" | tr '\n' '|')"
	PK_GOT=$(paste -sd '|' "$dir/calls")
}

# One copy of this script at a time on the machine: each installs and purges the same package.
exec {PK_LOCK}>/run/lock/flowmeta-e2e-package.lock
if ! flock -w 900 "$PK_LOCK"; then
	echo "FAIL package: another tests/e2e/package.sh held /run/lock/flowmeta-e2e-package.lock" \
		"for 900 s"
	exit 1
fi

run_test package_builds_lintian_clean_tree_untouched test_package_build
run_test package_daemon_has_dpkg_buildflags_bpf_has_none test_package_build_flags
run_test package_installs_exact_files_conffile_unit_disabled_purge_leaves_nothing \
	test_package_install_purge
run_test package_installed_binary_meters_pings_exactly test_package_binary_meters
run_test package_maintainer_scripts_reload_hand_over_on_upgrade_stop_on_remove \
	test_package_maintainer_scripts
run_test package_edited_conffile_kept_by_reinstall_and_remove_purged test_package_edited_conffile
run_test package_enabled_instance_kept_by_remove_disabled_by_purge test_package_enabled_instance
finish_tests
