#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Install every Debian 12 package flowmeta needs to build, test, benchmark and demo.
# Idempotent and quiet when everything is already present.
set -euo pipefail

packages=(
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libjson-c-dev pkg-config
	iproute2 socat iperf3 iputils-ping hping3 tshark nfdump pmacct libfixbuf-tools softflowd
	python3 procps psmisc util-linux man-db
	# adversarial and datapath tests (issue 7)
	# kernel memory and benchmarks (issue 8)
	# IPFIX collectors and fleets (issue 9)
	nftables
	# Prometheus metrics (issue 10)
	libmicrohttpd-dev prometheus curl
	# Debian package (issue 10)
	debhelper dpkg-dev lintian
	# terminal views (issue 10)
	tmux
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run make deps as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
