#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of `make install` into a staging directory (DESTDIR): the binary, the systemd
# unit (verified by systemd-analyze when it is there), the example and default configuration, the
# man page (rendered by man without a warning); a second install keeps an edited configuration;
# `make uninstall` removes what install put, except the operator's configuration.
# Installing with PREFIX=/usr moves all of it but the unit and /etc, and the unit follows.
# The binary is not rebuilt here (make -o): other engineers rebuild build/ while tests run, and
# the build is tested elsewhere; the install rules are what this file is about.
source "$(dirname "$0")/../lib_lifecycle.sh"

PREFIX_DIR=/usr/local

# `make install DESTDIR=...` into a new directory: IN_DIR; its output in the test's log.
in_install() {	# [MAKE_VARIABLE=VALUE...]
	[ -x "$FM_TOP/build/flowmeta" ] || skip "build/flowmeta not built"
	IN_DIR=$(mktemp -d "$FM_LOG_DIR/destdir.XXXXXX")
	in_make install "$@"
}

in_make() {	# TARGET [MAKE_VARIABLE=VALUE...]
	make -C "$FM_TOP" -o build/flowmeta "$@" DESTDIR="$IN_DIR" >"$FM_LOG_DIR/make-$1.log" \
		2>&1 ||
		fail "make $* failed: $(tail -n 3 "$FM_LOG_DIR/make-$1.log" | tr '\n' '|')"
}

in_unit() {
	echo "$IN_DIR/etc/systemd/system/flowmeta@.service"
}

# Every file in place with its mode; the installed binary runs and is the built one.
test_install_tree() {
	in_install
	local f mode
	for f in "$PREFIX_DIR/sbin/flowmeta:755" "/etc/systemd/system/flowmeta@.service:644" \
		"$PREFIX_DIR/share/doc/flowmeta/flowmeta.json.example:644" \
		"$PREFIX_DIR/share/doc/flowmeta/flowmeta-alerts.yml:644" \
		"/etc/flowmeta/flowmeta.json:644" "$PREFIX_DIR/share/man/man8/flowmeta.8:644"; do
		mode=${f##*:}
		f=$IN_DIR${f%:*}
		[ -f "$f" ] || fail "not installed: ${f#"$IN_DIR"}"
		assert_eq "$(stat -c %a "$f")" "$mode" "mode of ${f#"$IN_DIR"}"
	done
	cmp -s "$FM_TOP/build/flowmeta" "$IN_DIR$PREFIX_DIR/sbin/flowmeta" ||
		fail "the installed binary is not build/flowmeta"
	assert_eq "$("$IN_DIR$PREFIX_DIR/sbin/flowmeta" --version)" "flowmeta $(cat "$FM_TOP/VERSION")" \
		"installed binary --version"
	# Both configurations are valid for the installed binary.
	for f in /etc/flowmeta/flowmeta.json "$PREFIX_DIR/share/doc/flowmeta/flowmeta.json.example"; do
		"$IN_DIR$PREFIX_DIR/sbin/flowmeta" check -c "$IN_DIR$f" >"$FM_LOG_DIR/check.out" 2>&1 ||
			fail "flowmeta check of the installed $f: $(head -n 2 "$FM_LOG_DIR/check.out")"
	done
}

# The unit: its ExecStart runs the installed binary on the instance's interface with the installed
# configuration; the capabilities flowmeta needs are granted and bounded; systemd-analyze verify
# finds nothing to say (run on a copy whose ExecStart points into DESTDIR, with the staged man
# page on MANPATH, so it checks this installation rather than the host).
test_install_unit() {
	in_install
	local unit exec cap
	unit=$(in_unit)
	exec=$(sed -n 's/^ExecStart=//p' "$unit")
	assert_eq "$(echo "$exec" | grep -c . || true)" 1 "ExecStart lines"
	[[ $exec == "$PREFIX_DIR/sbin/flowmeta run -i %I "* ]] ||
		fail "ExecStart does not run the installed binary on %I (the unescaped instance): $exec"
	[ -x "$IN_DIR${exec%% *}" ] || fail "ExecStart's binary ${exec%% *} is not in DESTDIR"
	[[ $exec == *" -c /etc/flowmeta/flowmeta.json"* ]] || [[ $exec != *" -c "* ]] ||
		fail "ExecStart names another configuration: $exec"
	grep -q '^ExecReload=.*kill -HUP \$MAINPID' "$unit" || fail "no ExecReload sending SIGHUP"
	for cap in CAP_BPF CAP_NET_ADMIN CAP_PERFMON; do
		grep -q "^CapabilityBoundingSet=.*$cap" "$unit" || fail "CapabilityBoundingSet lacks $cap"
		grep -q "^AmbientCapabilities=.*$cap" "$unit" || fail "AmbientCapabilities lacks $cap"
	done
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed (static checks passed)"
	local copy=$FM_LOG_DIR/flowmeta@fmHtest0.service
	sed "s#^ExecStart=$PREFIX_DIR/#ExecStart=$IN_DIR$PREFIX_DIR/#" "$unit" >"$copy"
	MANPATH=$IN_DIR$PREFIX_DIR/share/man SYSTEMD_LOG_COLOR=0 \
		systemd-analyze verify "$copy" >"$FM_LOG_DIR/verify.out" 2>"$FM_LOG_DIR/verify.err" ||
		fail "systemd-analyze verify: $(head -n 3 "$FM_LOG_DIR/verify.err" | tr '\n' '|')"
	[ ! -s "$FM_LOG_DIR/verify.err" ] ||
		fail "systemd-analyze verify warns: $(head -n 3 "$FM_LOG_DIR/verify.err" | tr '\n' '|')"
}

# The man page renders with no warning and documents every command and the exit codes.
test_install_man() {
	in_install
	require_cmd man
	local page=$IN_DIR$PREFIX_DIR/share/man/man8/flowmeta.8 cmd
	MANWIDTH=80 man --warnings -l "$page" >"$FM_LOG_DIR/man.txt" 2>"$FM_LOG_DIR/man.err" ||
		fail "man -l failed: $(head -n 3 "$FM_LOG_DIR/man.err")"
	[ ! -s "$FM_LOG_DIR/man.err" ] ||
		fail "man warns: $(head -n 3 "$FM_LOG_DIR/man.err" | tr '\n' '|')"
	# Justified text: runs of spaces squeezed before searching.
	tr -s ' ' <"$FM_LOG_DIR/man.txt" >"$FM_LOG_DIR/man.squeezed"
	for cmd in run check status flows detach; do
		grep -q "flowmeta $cmd" "$FM_LOG_DIR/man.squeezed" ||
			fail "the man page does not show flowmeta $cmd"
	done
	grep -q 'FlowMetadata' "$FM_LOG_DIR/man.txt" || fail "the man page does not describe FlowMetadata"
}

# A second install keeps the operator's edited configuration and refreshes the rest.
test_install_keeps_config() {
	in_install
	local conf=$IN_DIR/etc/flowmeta/flowmeta.json
	lc_config "$conf" '{"IpFixCollectors": ["Udp/127.0.0.1:4750"]}'
	cp "$conf" "$FM_LOG_DIR/edited.json"
	rm "$IN_DIR$PREFIX_DIR/share/man/man8/flowmeta.8"
	in_make install
	cmp -s "$conf" "$FM_LOG_DIR/edited.json" ||
		fail "a second make install replaced the edited configuration"
	[ -f "$IN_DIR$PREFIX_DIR/share/man/man8/flowmeta.8" ] ||
		fail "a second make install did not restore the man page"
}

# make uninstall removes the binary, the unit, the man page and the documentation, and leaves the
# configuration in /etc.
test_uninstall() {
	in_install
	in_make uninstall
	in_assert_only_config_left
}

in_assert_only_config_left() {
	local left
	left=$(cd "$IN_DIR" && find . -type f | sort)
	assert_eq "$(echo "$left" | tr '\n' ' ')" "./etc/flowmeta/flowmeta.json " \
		"files left after uninstall"
}

# A distribution's PREFIX=/usr: the binary, documentation and man page under DESTDIR/usr, none
# under /usr/local, and the unit's ExecStart runs /usr/sbin/flowmeta (the unit itself stays in
# /etc/systemd/system); uninstall with the same PREFIX leaves only the configuration.
test_install_prefix_usr() {
	in_install PREFIX=/usr
	local f exec
	for f in /usr/sbin/flowmeta /usr/share/doc/flowmeta/flowmeta.json.example \
		/usr/share/man/man8/flowmeta.8; do
		[ -f "$IN_DIR$f" ] || fail "PREFIX=/usr: not installed: $f"
	done
	cmp -s "$FM_TOP/build/flowmeta" "$IN_DIR/usr/sbin/flowmeta" ||
		fail "PREFIX=/usr: the installed binary is not build/flowmeta"
	[ ! -e "$IN_DIR/usr/local" ] ||
		fail "PREFIX=/usr: installed under /usr/local: $(find "$IN_DIR/usr/local" -type f)"
	exec=$(sed -n 's/^ExecStart=//p' "$(in_unit)")
	[[ $exec == "/usr/sbin/flowmeta run -i %I "* ]] ||
		fail "PREFIX=/usr: ExecStart does not run /usr/sbin/flowmeta: $exec"
	! grep -n '/usr/local\|@[A-Z]*@' "$(in_unit)" >"$FM_LOG_DIR/unit-leftovers" ||
		fail "PREFIX=/usr: the unit names $(head -n 1 "$FM_LOG_DIR/unit-leftovers")"
	in_make uninstall PREFIX=/usr
	in_assert_only_config_left
}

run_test install_files_in_place_binary_runs test_install_tree
run_test install_systemd_unit_verifies test_install_unit
run_test install_man_page_renders_without_warnings test_install_man
run_test install_again_keeps_edited_config test_install_keeps_config
run_test uninstall_removes_all_but_config test_uninstall
run_test install_prefix_usr_binary_in_usr_sbin_and_execstart_names_it test_install_prefix_usr
finish_tests
