#!/usr/bin/env bash
# make setup: installs whatever is missing, and nothing that is already there.
#   1. Debian packages (cli/setup/packages.txt; npm too when the machine has none)
#   2. Node.js and npm as pinned in cli/setup/node.env, when the machine's node is another major (cli/setup/node.sh)
#   3. npm ci when package-lock.json changed   4. the mediasoup worker, built once per version into a cache
#   5. the TypeScript build (incremental) and the web bundles; steps 3-5 run on the pinned Node.js
# Safe to run again and again; with everything present it takes seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
step() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'make setup: %s\n' "$*" >&2; exit 1; }

command -v dpkg-query >/dev/null || fail "this setup targets Debian 12 (dpkg-query not found)"

mapfile -t wanted < <(grep -Ev '^\s*(#|$)' cli/setup/packages.txt)
missing=()
for p in "${wanted[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Debian's npm (and the Node.js it pulls in) only fetches the pinned Node.js and npm; a machine with an npm of
# its own keeps it, since Debian's package would conflict with it.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || fail "missing Debian packages: ${missing[*]}
  run 'make setup' as root, or: sudo apt-get install -y ${missing[*]}"
	step "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || fail "apt-get update failed (is the Debian mirror reachable?)"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || fail "apt-get install failed for: ${missing[*]}"
fi

node_bin="$(bash cli/setup/node.sh)" || fail "provisioning Node.js failed (see the output above)"
export PATH="$node_bin:$PATH"

lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.pc-lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
	step "npm ci"
	# MEDIASOUP_WORKER_BIN makes mediasoup's own postinstall (a GitHub download) a no-op; we build the worker below.
	MEDIASOUP_WORKER_BIN=/bin/true npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed"
	echo "$lock_sum" > node_modules/.pc-lock-sha256
fi

worker_bin="$(bash sfu/worker/build.sh)" || fail "building the mediasoup worker failed (see the output above)"
[ -x "$worker_bin" ] || fail "mediasoup worker missing after build: $worker_bin"

step "tsc"
npx tsc -p tsconfig.json || fail "TypeScript build failed"
if [ -f signaling/web/build.mjs ]; then
	step "web bundles"
	node signaling/web/build.mjs || fail "web bundle build failed"
fi
sample="${PC_DATA_DIR:-.data}/demo/sample.wav"
if [ ! -s "$sample" ]; then
	step "demo speech sample ($sample, festival)"
	parts="$(mktemp -d)"
	mkdir -p "$(dirname "$sample")"
	i=0
	# One sentence per line, a pause after each: the speech worker ends an utterance at each pause.
	while IFS= read -r sentence; do
		[ -n "$sentence" ] || continue
		i=$((i + 1))
		printf '%s\n' "$sentence" > "$parts/$i.txt"
		text2wave -eval '(voice_cmu_us_slt_arctic_hts)' "$parts/$i.txt" -o "$parts/$i.raw.wav" >/dev/null 2>&1 || fail "festival could not speak the demo sample"
		sox -q "$parts/$i.raw.wav" -r 48000 "$parts/$(printf %03d $i).wav" pad 0 1.2 || fail "sox failed on the demo sample"
	done < cli/setup/demo-sample.txt
	sox -q "$parts"/[0-9][0-9][0-9].wav "$sample.part.wav" && mv "$sample.part.wav" "$sample" || fail "sox could not join the demo sample"
	rm -rf "$parts"
fi
step "setup complete (Node.js $(node --version) in $node_bin, mediasoup worker: $worker_bin)"
