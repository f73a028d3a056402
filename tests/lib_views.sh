# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the tests of the views for people (tests/e2e/views.sh), on top of tests/lib.sh: a
# metered tun overlay whose flows stay in the table (no collector, nothing ends), ICMP messages of
# any type and code, `flowmeta flows` text output kept in a file, and a terminal for `flowmeta top`:
# a tmux server of the test's own (its socket in the test's log directory) with one session of a
# fixed size, keys sent into it and its screen read back as text.
#
# Names: namespaces fmV<pid><letter> (this suite's prefix); tmux sessions "view".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
FM_NS_PREFIX=fmV

# A tun overlay metered on A by `flowmeta run` without a collector; polls and idle timeout far
# beyond the test, so every flow the test makes stays in the table with its exact counts; a table
# of 4096 flows.
views_metered_overlay() {
	topo_overlay tun
	VIEWS_CONF=$FM_LOG_DIR/flowmeta.json
	printf '{"FlowMetadata": {%s}}\n' \
		'"PollInterval": 600000, "IdleTimeout": 600000, "MaxFlows": 4096' >"$VIEWS_CONF"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$VIEWS_CONF"
	fm_wait_metering
}

# COUNT ICMP (IPv4 DST) or ICMPv6 (IPv6 DST) messages of TYPE and CODE from NS, PAYLOAD zero
# octets after the 8-octet header; SENT_PACKETS and SENT_OCTETS say what a meter must count.
send_icmp() {	# NS DST TYPE CODE COUNT [PAYLOAD]
	local out
	out=$(ns_run "$1" "$FM_PY" "$FM_TOOLS/icmp_send.py" "${@:2}") ||
		fail "icmp_send.py ${*:2} from $1 failed"
	fm_parse_sent "$out"
}

# `flowmeta flows ARGS...` on A's overlay into FILE (stdout only); the exit status must be 0.
views_flows() {	# FILE ARGS...
	local file=$1
	shift
	fm_cmd "$FM_NS_A" flows "$FM_IF_A" "$@" >"$file" 2>"$file.err" ||
		fail "flowmeta flows $*: exit $?: $(head -n 2 "$file.err")"
}

# True once `flowmeta flows` on A lists N flows (a reply the kernel sends later is in the table).
views_has_flows() {	# N
	local n
	n=$(fm_cmd "$FM_NS_A" flows "$FM_IF_A" --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'len(d)')
	[ "$n" -eq "$1" ]
}

assert_range() {	# GOT MIN MAX WHAT
	if [ "$1" -lt "$2" ] || [ "$1" -gt "$3" ]; then
		fail "$4: got $1, want $2 to $3"
	fi
}

# FILE must hold exactly the lines of WANT (a here-document on stdin), in this order.
assert_lines() {	# FILE WHAT < WANT
	local want
	want=$(cat)
	[ "$(cat "$1")" = "$want" ] ||
		fail "$2: got
$(cat "$1")
want
$want
diff: $({ diff <(echo "$want") "$1" || true; } | tr '\n' '|')"
}

# ------------------------------------------------------------------------------------------------
# A terminal for `flowmeta top`: tmux, its server private to the test (socket in FM_LOG_DIR, no
# configuration file), one detached session "view" of COLS x ROWS. The pane runs a script with job
# control (set -m: top gets its own process group in the foreground, as from an interactive shell)
# that prints a line, saves the terminal settings (stty -g), runs `flowmeta top` on A's overlay in
# A's namespace (stderr to a file), saves its exit status and the settings again, prints another
# line and sleeps: after top, the pane shows what a shell user would see. When top is stopped
# (Ctrl-Z), the script saves the settings the shell got back, says so and waits for the test to
# create the file "fg" before it resumes top in the foreground, as a user typing `fg` would.

VT_SOCK=
VT_DIR=

vt_tmux() {
	tmux -S "$VT_SOCK" "$@"
}

# Start the terminal with `flowmeta top ARGS...` in it; VT_TOP_PID is top's pid once it runs.
vt_start_top() {	# COLS ROWS ARGS...
	local cols=$1 rows=$2 script
	shift 2
	VT_DIR=$FM_LOG_DIR/vt
	mkdir -p "$VT_DIR"
	VT_SOCK=$VT_DIR/tmux.sock
	script=$VT_DIR/term.sh
	{
		printf 'set -m\ncd %q\n' "$VT_DIR"
		echo 'echo "views: before top"'
		echo 'stty -g >stty.before'
		printf 'nsenter --net=/run/netns/%q -- %q top -i %q --pin-dir %q' "$FM_NS_A" \
			"$FM_BIN" "$FM_IF_A" "$(fm_pin_dir "$FM_IF_A")"
		printf ' %q' "$@"
		printf ' 2>top.err\n'
		cat <<-'EOF'
			rc=$?
			while [ "$rc" -eq 148 ]; do
				stty -g >stty.stopped
				echo "views: top stopped"
				until [ -e fg ]; do sleep 0.05; done
				rm fg
				fg >/dev/null
				rc=$?
			done
			stty -g >stty.after
			echo "$rc" >rc.tmp
			mv rc.tmp rc
			echo "views: after top"
			exec sleep 600
		EOF
	} >"$script"
	vt_tmux -f /dev/null new-session -d -s view -x "$cols" -y "$rows" "bash $script"
	FM_PIDS+=("$(vt_tmux display -p -t view '#{pid}')")
	VT_SHELL_PID=$(vt_tmux display -p -t view '#{pane_pid}')
	wait_until 10 vt_top_started || fail "flowmeta top did not start: $(vt_screen)"
}

vt_top_started() {
	VT_TOP_PID=$(ps -o pid=,comm= --ppid "$VT_SHELL_PID" | awk '$2 == "flowmeta" {print $1}')
	[ -n "$VT_TOP_PID" ]
}

# The visible screen, one line per row (tmux drops the trailing blanks of each row).
vt_screen() {
	vt_tmux capture-pane -p -t view
}

# A tmux format of the pane: alternate_on (1 while top holds the alternate screen), cursor_flag
# (1: the cursor is visible), pane_width, pane_height.
vt_pane() {	# FORMAT
	vt_tmux display -p -t view "#{$1}"
}

# Wait until a screen row matches REGEX (grep -E, whole row); VT_MATCH is the row.
vt_wait_row() {	# TIMEOUT REGEX
	wait_until "$1" vt_has_row "$2"
}

vt_has_row() {
	VT_MATCH=$(vt_screen | grep -Ex -- "$1" | head -n 1)
	[ -n "$VT_MATCH" ]
}

# The same for a row equal to TEXT.
vt_wait_text() {	# TIMEOUT TEXT
	wait_until "$1" vt_has_text "$2"
}

vt_has_text() {
	vt_screen | grep -Fxq -- "$1"
}

# top has exited: its exit status is in VT_RC.
vt_top_done() {
	[ -e "$VT_DIR/rc" ] && VT_RC=$(cat "$VT_DIR/rc")
}

# After top ended: status 0, the terminal settings and the normal screen back, the cursor shown,
# the shell's lines before and after top on the screen and nothing of top's frames left.
vt_assert_restored() {	# HOW
	wait_until 10 vt_top_done || fail "$1: flowmeta top did not exit: $(vt_screen)"
	assert_eq "$VT_RC" 0 "$1: exit status of flowmeta top"
	[ ! -s "$VT_DIR/top.err" ] || fail "$1: top wrote to stderr: $(head -n 3 "$VT_DIR/top.err")"
	assert_eq "$(cat "$VT_DIR/stty.after")" "$(cat "$VT_DIR/stty.before")" \
		"$1: terminal settings (stty -g) after top"
	wait_until 5 vt_has_row 'views: after top' || fail "$1: the shell went on? $(vt_screen)"
	assert_eq "$(vt_pane alternate_on)" 0 "$1: alternate screen after top"
	assert_eq "$(vt_pane cursor_flag)" 1 "$1: cursor visible after top"
	assert_eq "$(vt_screen | grep -v '^views: top stopped$' | grep -c .)" 2 \
		"$1: rows on the screen after top (the shell's two)"
	assert_eq "$(vt_screen | grep . | head -n 1)" "views: before top" "$1: first row after top"
}
