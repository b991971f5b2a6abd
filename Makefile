# memberships — `make run` serves the demo, `make test` runs every test.
GO      ?= go
DB      ?= memberships.db
ADDR    ?= 127.0.0.1:8080
BIN     := bin/memberships
# version and commit for `memberships version`: GOFLAGS here has -buildvcs=false.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/wachtbench/memberships/internal/cli.version=$(VERSION) -X github.com/wachtbench/memberships/internal/cli.commit=$(COMMIT)
GOFILES := $(shell git ls-files '*.go' 2>/dev/null | grep -v '\.gen\.go$$')

# Fuzz budgets are execution counts, not durations: Go 1.26's coordinator can
# fail a duration-limited run with a spurious "context deadline exceeded" at the
# deadline (golang/go#75804). FUZZX multiplies them for longer runs.
FUZZX ?= 1

.PHONY: bench bench-smoke soak all generate generate-ts ts-check check-generated build run test test-postgres test-stores test-topology test-writers fuzz-smoke lint lint-spec check-breaking ci clean

all: build

# Node.js and npm, for the TypeScript package and Spectral: scripts/install-node.sh
# installs Debian's. Without them a target says so and skips, except under CI.
define need_node
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	echo "$(1): Node.js and npm are not installed: run scripts/install-node.sh (Debian's nodejs and npm)."; \
	if [ -n "$$CI" ]; then echo "$(1): FAIL: CI must run this gate."; exit 1; fi; \
	echo "$(1): SKIPPED."; exit 0; \
fi
endef

## generate: regenerate gen/ and client/ (Go) and ts/src/schema.d.ts (TypeScript) from openapi.yaml
generate: generate-ts
	$(GO) generate ./...

# The TypeScript types, by the lockfile's openapi-typescript.
TS_DIR := ts
TS_BIN := node_modules/.bin
generate-ts:
	@$(call need_node,generate-ts); \
	$(MAKE) -s --no-print-directory $(TS_DIR)/node_modules/.installed && \
	cd $(TS_DIR) && $(TS_BIN)/openapi-typescript ../openapi.yaml --output src/schema.d.ts --silent

## ts-check: tsc --noEmit over ts/ (the generated types, the typed client) and its example
ts-check:
	@$(call need_node,ts-check); \
	$(MAKE) -s --no-print-directory $(TS_DIR)/node_modules/.installed && \
	cd $(TS_DIR) && $(TS_BIN)/tsc --noEmit -p . && echo "ts-check: ok"

# ts/'s pinned packages, installed from the lockfile on first use (and when it changes).
$(TS_DIR)/node_modules/.installed: $(TS_DIR)/package-lock.json
	@echo "installing ts/'s pinned packages (npm ci in $(TS_DIR))"
	cd $(TS_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

## check-generated: fail if the committed generated code is not what openapi.yaml gives
check-generated: generate
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "check-generated: the tree changed after 'make generate':"; \
		git status --porcelain; \
		echo "Run 'make generate' and commit openapi.yaml with gen/, client/ and ts/src/schema.d.ts."; \
		exit 1; \
	fi

## build: the memberships binary in bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/memberships

## run: serve on $(ADDR) with the embedded SQLite default ($(DB)), demo data on first start
run: build
	./$(BIN) serve --addr $(ADDR) --db $(DB)

## test: the TypeScript check, then every Go test (the browser example in internal/e2e too), every response checked against the contract
test: ts-check
	$(GO) test -count=1 ./...

## test-postgres: every test, PostgreSQL included, beside a throw-away cluster (scripts/with-postgres.sh)
test-postgres:
	scripts/with-postgres.sh $(MAKE) test test-stores

# The randomized writers test (internal/writers): `make test` runs a few
# sequences per store, from a fixed seed and a fresh one (printed); this runs
# WRITERS_CHECKS sequences of about WRITERS_STEPS steps on each, PostgreSQL
# included. A failure prints the seed and rapid's -rapid.failfile to rerun it.
WRITERS_CHECKS ?= 100
WRITERS_STEPS  ?= 60

## test-writers: the randomized writers test at length, both stores (WRITERS_CHECKS, WRITERS_STEPS)
test-writers:
	scripts/with-postgres.sh $(GO) test -count=1 -timeout 60m -v -run '^TestWriters$$' ./internal/writers \
		-rapid.checks=$(WRITERS_CHECKS) -rapid.steps=$(WRITERS_STEPS)

# The production topology: hot standby, instances behind HAProxy, demo loading on PostgreSQL.
TOPOLOGY_TESTS := ^(TestStandby.*|TestTopology.*|TestNoDemoUnasked|TestDemoLoadedOnce)$$

## test-topology: a real streaming standby and two instances behind HAProxy (scripts/install-haproxy.sh); fails if any test skips
test-topology:
	@out=$$(scripts/with-postgres.sh --replica $(GO) test -count=1 -v -tags topology -run '$(TOPOLOGY_TESTS)' ./internal/topology ./internal/cli 2>&1); rc=$$?; \
	echo "$$out" | grep -v -E '^=== (RUN|PAUSE|CONT)'; \
	if echo "$$out" | grep -q -e '--- SKIP'; then echo "test-topology: FAIL: a test skipped; it must run here"; exit 1; fi; \
	exit $$rc

# The store-facing tests: the conformance suite and the HTTP contract tests.
STORE_TESTS := ^(TestConformance|TestStatementsPerRequest|TestReadReplica|TestExplainMemberships|TestAnswer|TestOrgFilter|TestAuthentication|TestClientIP|TestMFA|TestRoutingErrors|TestStoreFailureIs500WithoutCause|TestRequestIDKeptOrMade|TestGeneratedClientEndToEnd|TestRefresh.*|TestConcurrentRefreshesConverge|TestFailureBudget|TestSessionBudget|TestResponseValidation|TestExpiredTokenWithFailingRequest|TestIDsAcrossStores)$$

## test-stores: the conformance suite and contract tests, one line per store (PostgreSQL runs when MEMBERSHIPS_TEST_POSTGRES is set)
test-stores:
	@out=$$($(GO) test -count=1 -v -run '$(STORE_TESTS)' ./internal/store/... ./server/ 2>&1); rc=$$?; \
	echo "$$out" | grep -E '^--- |^    --- [A-Z]+: [A-Za-z0-9]+/(sqlite|postgres) |^(ok|FAIL)[[:space:]]|statement|skipped:' | grep -v 'no test files'; \
	if [ $$rc -ne 0 ]; then echo "$$out"; fi; exit $$rc

## fuzz-smoke: run each fuzz target for a few seconds' worth of inputs (seed corpora: testdata/fuzz/)
fuzz-smoke:
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$$((20000 * $(FUZZX)))x ./internal/auth
	$(GO) test -run='^$$' -fuzz='^FuzzOrgIDPattern$$' -fuzztime=$$((50000 * $(FUZZX)))x ./server
	$(GO) test -run='^$$' -fuzz='^FuzzHandler$$' -fuzztime=$$((1000 * $(FUZZX)))x ./server
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeStrings$$' -fuzztime=$$((50000 * $(FUZZX)))x ./internal/store/fragment

## bench: the load benchmark (cmd/membench) on SQLite and PostgreSQL (MEMBERSHIPS_TEST_POSTGRES, else a
## throw-away cluster by scripts/with-postgres.sh): full / no-validator / floor, a 200 and a 304 each, side
## by side, and the memberships-per-user sweep of both paths, with the server's CPU per request.
## BENCHFLAGS passes flags (go run ./cmd/membench -h). Then the Go micro-benchmarks.
BENCHFLAGS ?=
bench:
	$(GO) build -o bin/membench ./cmd/membench
	if [ -n "$$MEMBERSHIPS_TEST_POSTGRES" ]; then ./bin/membench $(BENCHFLAGS); \
	else scripts/with-postgres.sh ./bin/membench $(BENCHFLAGS); fi
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/auth ./internal/eligibility ./internal/store/sqlite ./server

## soak: sustained load on the full server for SOAK (default 3m): zero errors, flat memory
SOAK ?= 3m
soak:
	$(GO) build -o bin/membench ./cmd/membench
	./bin/membench -users 2000 -tokens 500 -duration 3s -rounds 1 -warmup 1s -sweep '' -soak $(SOAK) -soak-sample 10s

## bench-smoke: the benchmark in seconds, for CI: tiny data set, no thresholds (errors still fail it)
bench-smoke:
	$(GO) build -o bin/membench ./cmd/membench
	./bin/membench -users 200 -tokens 50 -concurrency 8 -duration 1500ms -rounds 1 -warmup 300ms \
		-sweep 1,10,100 -sweep-users 3 -sweep-duration 500ms
	$(GO) test -run='^$$' -bench=. -benchtime=100x ./internal/auth ./internal/eligibility ./internal/store/sqlite ./server

## lint: gofmt, go vet (the topology tests too), and no tracked binary over 1 MiB (generated code excluded from gofmt)
lint:
	@scripts/check-no-binaries.sh
	@bad=$$(gofmt -l $(GOFILES)); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet -tags topology ./...

## lint-spec: lint openapi.yaml with Spectral (spectral:oas + OWASP, .spectral.yaml); any warning fails
SPECTRAL_DIR := tools/spectral
SPECTRAL     := $(SPECTRAL_DIR)/node_modules/.bin/spectral
lint-spec:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "lint-spec: Node.js and npm are not installed; install Node 20+ to lint openapi.yaml."; \
		if [ -n "$$CI" ]; then echo "lint-spec: FAIL: CI must run this gate."; exit 1; fi; \
		echo "lint-spec: SKIPPED."; exit 0; \
	fi; \
	$(MAKE) -s --no-print-directory $(SPECTRAL_DIR)/node_modules/.installed && \
	$(SPECTRAL) lint --ruleset .spectral.yaml --fail-severity=warn openapi.yaml

# The pinned Spectral, installed from the lockfile on first use (and when the lockfile changes).
$(SPECTRAL_DIR)/node_modules/.installed: $(SPECTRAL_DIR)/package-lock.json
	@echo "lint-spec: installing the pinned Spectral (npm ci in $(SPECTRAL_DIR))"
	cd $(SPECTRAL_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

## check-breaking: oasdiff changelog of openapi.yaml since the base of the change; a breaking change needs a major version
check-breaking:
	$(GO) run ./cmd/specgate openapi.yaml

## ci: what .ci/run runs
ci: check-generated lint lint-spec check-breaking test-postgres test-topology bench-smoke soak fuzz-smoke

clean:
	rm -rf bin
