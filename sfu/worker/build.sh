#!/usr/bin/env bash
# Builds the mediasoup C++ worker offline, once per mediasoup version, into a cache outside the repo.
#
# `npm install mediasoup` would download a prebuilt worker from GitHub, and its source build pulls
# Meson subprojects (abseil, libuv, openssl, libsrtp3, ...) from the internet. Neither is reachable
# here, so we build the worker source that the npm package ships against Debian's -dev packages:
# each .wrap subproject is replaced by a thin shim that wraps the system library via pkg-config,
# and a small header maps libsrtp3's out-of-place API onto Debian's libsrtp 2.5.
#
# Usage: sfu/worker/build.sh            prints the binary's path on its last line of stdout
# Env:   PC_CACHE_DIR (default ~/.cache/polyglot-connect), JOBS (default nproc)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pkg="$root/node_modules/mediasoup"
[ -f "$pkg/package.json" ] || { echo "build.sh: $pkg is missing; run npm ci first" >&2; exit 1; }
version="$(node -p "require('$pkg/package.json').version")"
case "$version" in
	3.16.* | 3.17.* | 3.18.* | 3.19.*) ;;
	*) echo "build.sh: mediasoup $version is not supported offline (3.21+ need libraries Debian 12 lacks)" >&2; exit 1 ;;
esac

cache="${PC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/polyglot-connect}"
bin="$cache/mediasoup-worker-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

for tool in pkg-config g++ python3; do
	command -v "$tool" >/dev/null || { echo "build.sh: '$tool' is missing; run 'make setup' as root" >&2; exit 1; }
done

# One build at a time per version: a second `make setup` (another checkout, a CI run) waits for the
# first and then finds its binary, instead of wiping the build directory under it.
mkdir -p "$cache"
exec 9>"$cache/build-$version.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

work="$cache/build-$version"
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

echo "==> meson + ninja in a venv (from the pip index configured on this machine)" >&2
venv="$cache/venv"
[ -x "$venv/bin/meson" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q --retries 0 meson ninja; } >&2
export PATH="$venv/bin:$PATH"

src="$work/worker"
cp -r "$pkg/worker" "$src" && rm -rf "$src/out"
# shellcheck source=shims.sh
source "$here/shims.sh"
sp="$src/subprojects"
shim "$sp" openssl "" "openssl" openssl_dep "libcrypto_lib libssl_lib"
shim "$sp" libuv "build_tests build_benchmarks" "libuv" libuv_dep "libuv"
shim "$sp" usrsctp "sctp_build_programs" "usrsctp" usrsctp_dep "usrsctp"
shim "$sp" abseil-cpp "" "absl_flat_hash_map absl_flat_hash_set absl_btree absl_inlined_vector absl_memory absl_optional absl_strings" \
	"absl_container_dep absl_strings_dep absl_types_dep" "absl_container_lib"
shim "$sp" catch2 "" "" catch2_dep ""
shim "$sp" flatbuffers "" "flatbuffers" flatbuffers_dep "flatbuffers_lib"
shim_srtp3 "$sp" libsrtp3

echo "==> DTLS write-BIO fix (Debian's OpenSSL has kernel TLS; unpatched, the worker crashes on the first DTLS handshake)" >&2
patch -s -p2 -d "$src" < "$here/dtls-bio-callback.patch"

extra=()
grep -q ms_disable_liburing "$src/meson_options.txt" && extra+=(-Dms_disable_liburing=true)
cd "$src"
echo "==> compiling mediasoup-worker $version (8-15 min on 2 cores)" >&2
meson setup --buildtype release -Db_ndebug=true -Db_pie=true -Db_staticpic=true "${extra[@]}" out/Release/build >&2
# The FlatBuffers headers must exist before deps/libwebrtc compiles, which has no dependency on them.
targets="$(ninja -C out/Release/build -t targets all)"
if grep -q '^fbs/FBS:' <<<"$targets"; then ninja -C out/Release/build fbs/FBS >&2; fi
meson compile -C out/Release/build -j "${JOBS:-$(nproc)}" mediasoup-worker >&2
install -m 0755 out/Release/build/mediasoup-worker "$bin.tmp"
strip "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$bin"
