# Parley's build and test entry points. `make test` is the whole suite and
# what CI runs (.ci/run).

GO      ?= go
PKGS    := ./...
# The race detector needs cgo; the machine has gcc.
export CGO_ENABLED ?= 1

.PHONY: test deps check fmt-check vet staticcheck unit bench build fuzz

test: deps check unit

# deps installs the programs the tests run besides Go (Debian packages,
# as root, only when missing): curl runs the demo's printed commands;
# Chromium runs the web UI's browser tests (internal/webui), which write
# their screenshots to artifacts/screenshots.
DEBS := $(if $(shell command -v curl),,curl) $(if $(wildcard /usr/bin/chromium),,chromium)
deps:
	@if [ -n "$(strip $(DEBS))" ]; then echo "installing $(strip $(DEBS))"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade $(DEBS); fi

check: fmt-check vet staticcheck

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

unit:
	$(GO) test -race -timeout 30m $(PKGS)

build:
	$(GO) build -o bin/parley ./cmd/parley

# Benchmarks are not part of `make test`; see docs/performance.md.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)
