# Polyglot Connect. The two commands a newcomer needs: `make demo` and `make test`.
# Each runs `make setup` first, which installs only what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
POLYGLOT := node dist/cli/src/polyglot.js
# Every recipe runs on the Node.js that make setup provisions (cli/setup/node.sh) when the machine's is
# another major; where the machine's node is already that major, the cache directory does not exist.
include cli/setup/node.env
PC_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/polyglot-connect
export PATH := $(PC_CACHE_DIR)/node-$(NODE_VERSION)/bin:$(PATH)
TAP_ARGS ?=

.PHONY: setup demo test bench typecheck clean

setup:
	@bash cli/setup/setup.sh

demo: setup
	$(POLYGLOT) up

# One throwaway set of real NATS/Postgres/Redis for the whole run; tap runs every *.test.ts.
test: setup
	$(POLYGLOT) infra exec -- npx tap $(TAP_ARGS)

bench: setup
	$(POLYGLOT) infra exec -- node dist/bench/run.js

typecheck:
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p signaling/web/tsconfig.json --noEmit

clean:
	rm -rf dist .tap
