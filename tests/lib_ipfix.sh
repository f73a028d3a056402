# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the IPFIX tests that look past the flow records (tests/e2e/ipfix.sh, fleet.sh), on
# top of tests/lib_export.sh: the Observation Domains flowmeta must derive (computed by
# tests/tools/ipfix_options.py, not by flowmeta), the options records every template message must
# carry (checked by value), what nfcapd and nfacctd say about exporters, and the IP packets a
# capture holds (sizes, fragments).
source "$(dirname "${BASH_SOURCE[0]}")/lib_export.sh"

# The domain an interface address gives (README: Observation Domain).
ipx_domain() {	# ADDRESS
	"$FM_PY" "$FM_TOOLS/ipfix_options.py" domain "$1"
}

# The domain of an interface without an address: this machine's id and the interface name.
ipx_domain_machine() {	# IFNAME
	"$FM_PY" "$FM_TOOLS/ipfix_options.py" domain-machine "$1"
}

# The options records of a template message from flowmeta pid PID exporting domain ODID from
# interface IFINDEX named NAME with description DESC, to a collector that receives from the
# exporter address ADDR (IPv4: template 270, IPv6: 271); nothing lost or ignored. Written to FILE
# for ipfix_options.py expect. IGNORED (optional, "PACKETS OCTETS FIRST_MS LAST_MS") replaces the
# zeros of template 266.
ipx_want() {	# FILE ODID PID IFINDEX NAME DESC ADDR [IGNORED]
	"$FM_PY" - "$@" <<-'EOF'
		import ipaddress, json, sys
		path, odid, pid, ifindex, name, desc, addr = sys.argv[1:8]
		odid, pid, ifindex = int(odid), int(pid), int(ifindex)
		ignored = [int(x) for x in sys.argv[8].split()] if len(sys.argv) > 8 else [0, 0, 0, 0]
		v4 = ipaddress.ip_address(addr).version == 4
		exporter = ("270", "exporterIPv4Address") if v4 else ("271", "exporterIPv6Address")
		records = {
		  "264": {"observationDomainId": odid, "exportedMessageTotalCount": None,
		          "exportedFlowRecordTotalCount": None, "exportedOctetTotalCount": None},
		  "265": {"exportingProcessId": pid, "notSentFlowTotalCount": 0,
		          "notSentPacketTotalCount": 0, "notSentOctetTotalCount": 0,
		          "observationTimeMilliseconds": [0, 0]},
		  "266": {"observationDomainId": odid, "ignoredPacketTotalCount": ignored[0],
		          "ignoredOctetTotalCount": ignored[1],
		          "observationTimeMilliseconds": ignored[2:4]},
		  "267": {"ingressInterface": ifindex, "interfaceName": name,
		          "interfaceDescription": desc},
		  "268": {"egressInterface": ifindex, "interfaceName": name,
		          "interfaceDescription": desc},
		  "269": {"observationDomainId": odid, "samplingInterval": 1, "samplingAlgorithm": 1,
		          "samplingPacketInterval": 1, "samplingPacketSpace": 0, "selectorAlgorithm": 1},
		  exporter[0]: {"exportingProcessId": pid, exporter[1]: addr},
		}
		open(path, "w").write(json.dumps({"odid": odid, "records": records}))
	EOF
}

# The options records of the messages in MSGS (ipfix_detail.py messages) are WANT (ipx_want),
# in every message carrying them or only the first or last one.
ipx_expect_options() {	# MSGS WANT all|first|last WHAT
	local out
	out=$("$FM_PY" "$FM_TOOLS/ipfix_options.py" expect "$1" "$2" --which "$3") ||
		fail "$4: $(echo "$out" | head -n 4 | tr '\n' ';')"
}

# What nfcapd at PORT recorded of each exporter, one line each: "ADDRESS DOMAIN FLOWS
# SEQUENCE_FAILURES" (nfdump -E; files complete after coll_stop).
ipx_nfdump_exporters() {	# PORT
	local dir f line='.*IP: *\([^,]*\), version: 10, ID: \([0-9]*\), '
	line+='Sequence failures: \([0-9]*\), packets: [0-9]*, flows: \([0-9]*\).*'
	dir=${FM_COLL_DIR[$(fm_coll_key nfcapd "$1")]}
	for f in "$dir"/flows/nfcapd.*; do
		[ -e "$f" ] || continue
		nfdump -E "$f" 2>/dev/null
	done | sed -n "s/$line/\1 \2 \4 \3/p" | sort
}

# The distinct (export_proto_sysid, sampling_rate) of nfacctd's records at PORT, one pair a line.
ipx_nfacctd_domains() {	# PORT
	local dir
	dir=${FM_COLL_DIR[$(fm_coll_key nfacctd "$1")]}
	"$FM_PY" - "$dir/records.json" <<-'EOF'
		import json, sys
		seen = set()
		for line in open(sys.argv[1]):
		    if line.startswith("{"):
		        r = json.loads(line)
		        if "ip_src" in r:
		            seen.add((r.get("export_proto_sysid"), r.get("sampling_rate")))
		for odid, rate in sorted(seen, key=str):
		    print(odid, rate)
	EOF
}

# IP packets of a capture to UDP ports LO..HI: "EPOCH_MS IP_LENGTH FRAGMENT" one a line, IP_LENGTH
# the whole IP packet (IPv4 total length, IPv6 payload length + 40), FRAGMENT 1 for a fragment.
ipx_capture_packets() {	# PCAP LO HI
	tshark -r "$1" -Y "(udp.dstport >= $2 && udp.dstport <= $3) || ip.flags.mf == 1 ||
		ip.frag_offset > 0 || ipv6.fraghdr" -T fields -E separator=, -e frame.time_epoch \
		-e ip.len -e ipv6.plen -e ip.flags.mf -e ip.frag_offset -e ipv6.fraghdr.nxt \
		2>/dev/null | awk -F, '{
			len = ($2 != "") ? $2 : $3 + 40
			mf = ($4 == "1" || $4 == "True")
			frag = (mf || ($5 != "" && $5 != "0") || $6 != "") ? 1 : 0
			printf "%.0f %d %d\n", $1 * 1000, len, frag	# mawk: %d is 32 bits
		}'
}
