# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the end-to-end tests of the kernel side (pin directories, the datapath), on top of
# tests/lib.sh: ids of pinned objects, another tool's pins, a crafted marker of another flowmeta
# version (tests/tools/pin_marker.py), the counts a pinned flow map holds, and the flowmeta
# binary of the previous pin layout built from the git history, for the upgrade test.
#
# bpftool is Debian's (scripts/deps.sh); the old binary is built once into build/old-REV.

# The commit whose pins are layout 1 (flowmeta 0.1.0: no marker): main before layout 2.
BPF_OLD_REV=52fd2ea

# The kernel id of the map, program or link pinned at PATH; empty when there is none.
bpf_pin_id() {	# PATH
	local out
	out=$(bpftool -j map show pinned "$1" 2>/dev/null) ||
		out=$(bpftool -j prog show pinned "$1" 2>/dev/null) ||
		out=$(bpftool -j link show pinned "$1" 2>/dev/null) || return 0
	echo "$out" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd["id"]'
}

# Another tool's map pinned at PATH: a small hash map, or of the type and sizes given.
bpf_foreign_map() {	# PATH NAME [TYPE KEY_SIZE VALUE_SIZE]
	bpftool map create "$1" type "${3:-hash}" key "${4:-4}" value "${5:-4}" entries 8 name "$2"
}

# The marker (flowmeta_owner) of flowmeta pin layout LAYOUT in DIR, recording NAME=ID pins.
bpf_marker() {	# DIR LAYOUT CREATED_DIRS [NAME=ID[:KIND[:PIN_LAYOUT]]]...
	local dir=$1 value
	shift
	value=$("$FM_PY" "$FM_TOOLS/pin_marker.py" "$@")
	bpftool map create "$dir/flowmeta_owner" type array key 4 value 1936 entries 1 \
		name flowmeta_owner
	# shellcheck disable=SC2086 # one argument per octet
	bpftool map update pinned "$dir/flowmeta_owner" key 0 0 0 0 value hex $value
}

# "PACKETS OCTETS" of the flows of a pinned per-CPU flow map with this direction (0 ingress, 1
# egress), protocol and destination port (ICMP: type << 8 | code), summed over them and CPUs.
bpf_map_flow() {	# PATH DIRECTION PROTO DPORT
	local match sums
	match='[e["formatted"] for e in d if (e["formatted"]["key"]["direction"], '
	match+='e["formatted"]["key"]["protocol"], e["formatted"]["key"]["dst_port"]) == '
	match+='(int(a[0]), int(a[1]), int(a[2]))]'
	sums='(lambda fs: (sum(v["value"]["packets"] for f in fs for v in f["values"]), '
	sums+='sum(v["value"]["octets"] for f in fs for v in f["values"])))'
	bpftool -j map dump pinned "$1" | "$FM_PY" "$FM_TOOLS/jsonq.py" - "$sums($match)" "${@:2}"
}

# The names pinned in DIR, sorted, on one line.
bpf_pins() {	# DIR
	ls "$1" | sort | tr '\n' ' '
}

# Print the path of the flowmeta binary of BPF_OLD_REV, built once (about a minute on a loaded
# 2-CPU machine); fails when the git history is not there.
bpf_old_flowmeta() {
	local dir=$FM_TOP/build/old-$BPF_OLD_REV
	if [ ! -x "$dir/build/flowmeta" ]; then
		git -C "$FM_TOP" cat-file -e "$BPF_OLD_REV^{commit}" 2>/dev/null || return 1
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		git -C "$FM_TOP" archive "$BPF_OLD_REV" | tar -x -C "$dir.tmp" || return 1
		make -C "$dir.tmp" -j2 build/flowmeta >"$dir.tmp/build.log" 2>&1 || return 1
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir/build/flowmeta"
}
