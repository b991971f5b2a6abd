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

FUZZTIME ?= 5s

.PHONY: all generate check-generated build run test fuzz-smoke lint ci clean

all: build

## generate: regenerate gen/ and client/ from openapi.yaml
generate:
	$(GO) generate ./...

## check-generated: fail if the committed generated code is not what openapi.yaml gives
check-generated: generate
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "check-generated: the tree changed after 'make generate':"; \
		git status --porcelain; \
		echo "Run 'make generate' and commit openapi.yaml with gen/ and client/."; \
		exit 1; \
	fi

## build: the memberships binary in bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/memberships

## run: serve on $(ADDR) with the embedded SQLite default ($(DB)), demo data on first start
run: build
	./$(BIN) serve --addr $(ADDR) --db $(DB)

## test: every test, every response checked against the contract
test:
	$(GO) test -count=1 ./...

## fuzz-smoke: run each fuzz target for $(FUZZTIME) (seed corpora: testdata/fuzz/)
fuzz-smoke:
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZTIME) ./internal/auth
	$(GO) test -run='^$$' -fuzz='^FuzzOrgIDPattern$$' -fuzztime=$(FUZZTIME) ./server
	$(GO) test -run='^$$' -fuzz='^FuzzHandler$$' -fuzztime=$(FUZZTIME) ./server

## lint: gofmt and go vet (generated code excluded from gofmt)
lint:
	@bad=$$(gofmt -l $(GOFILES)); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...

## ci: what .ci/run runs
ci: check-generated lint test fuzz-smoke

clean:
	rm -rf bin
