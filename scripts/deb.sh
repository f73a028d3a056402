#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make deb`: build BUILD/flowmeta_VERSION_ARCH.deb with Debian's own tooling (dpkg-buildpackage,
# debhelper, debian/ in this repository).
# dpkg-buildpackage builds in the source tree and writes its results to the parent directory, so
# it runs on a copy of the tree in BUILD/deb/flowmeta-VERSION/ (the files git knows of, or every
# file but BUILD and .git outside a git checkout): the source tree is left as it was, the package
# is built from a clean tree, and everything it writes stays under BUILD/deb/. The .deb is then
# linked into BUILD/; the source package, the .changes (which names them all), the .buildinfo and
# the debug symbols package stay in BUILD/deb/.
# Usage: scripts/deb.sh [BUILD]   (BUILD defaults to build, relative to the top of the tree)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${1:-build}

for tool in dpkg-buildpackage dpkg-parsechangelog dh; do
	command -v "$tool" >/dev/null ||
		{ echo "deb: $tool is not installed; run scripts/deps.sh as root" >&2; exit 1; }
done

version=$(cat VERSION)
changelog_version=$(dpkg-parsechangelog -S Version)
if [ "$changelog_version" != "$version" ]; then
	echo "deb: debian/changelog is at $changelog_version but VERSION says $version;" \
		"add a changelog entry for $version" >&2
	exit 1
fi
arch=$(dpkg --print-architecture)
deb=flowmeta_${version}_${arch}.deb

# Every file of the source tree, NUL-separated, relative to the top.
tree_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# Tracked and untracked-but-not-ignored files, less those deleted in the work tree.
		git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
			done
	else
		find . -path "./$build" -prune -o -path ./.git -prune -o -type f -printf '%P\0'
	fi
}

stage=$build/deb
src=$stage/flowmeta-$version
rm -rf "$stage"
mkdir -p "$src"
tree_files | tar --null -T - -cf - | tar -C "$src" -xf -

# Source and binary packages: the source package (.dsc) lets lintian check debian/ itself, through
# the .changes. -us -uc: nothing to sign with. -Jauto: one job per CPU (dh passes it to make).
(cd "$src" && dpkg-buildpackage -us -uc -Jauto)

# Only this version's package in BUILD, so that `apt-get install ./build/flowmeta_*.deb` means it.
rm -f "$build"/flowmeta_*.deb
ln -f "$stage/$deb" "$build/$deb"
echo "deb: $build/$deb"
