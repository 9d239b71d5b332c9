# SPDX-License-Identifier: GPL-2.0-only
# The verbs people type. `make test` is what CI runs.

GO ?= go
PKGS := ./...

.PHONY: test lint run fmt build verify-kernel fuzz fuzz-ci bench bench-web load tools templ

# The browser tests (web/) and the PNG export test fail rather than skip here: `tools`
# installs Debian's chromium and rsvg-convert when they are missing (CI runs as root on Debian).
test: lint tools
	LRUVIZ_REQUIRE_BROWSER=1 LRUVIZ_REQUIRE_TOOLS=1 $(GO) test -race -count=1 $(PKGS)

tools:
	@command -v chromium >/dev/null 2>&1 && command -v rsvg-convert >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium librsvg2-bin >/dev/null)

# Regenerate the templ components (web/*.templ -> web/*_templ.go).
templ:
	$(GO) tool templ generate

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) tool templ generate -log-level error
	git diff --exit-code -- '*_templ.go'

run:
	$(GO) run ./cmd/lruviz

build:
	$(GO) build -o lruviz ./cmd/lruviz

fmt:
	gofmt -w $$(git ls-files '*.go')

# The differential check against the running kernel (needs root and bpf()).
verify-kernel:
	$(GO) run ./cmd/lruviz verify-kernel --seeds 1000 --ops 300

# The fuzz targets: package and target. `go test -fuzz` takes one target at a time.
FUZZERS := ./scenario:FuzzParse ./scenario:FuzzDecoder ./trace:FuzzReader ./diagrams:FuzzParse ./web:FuzzDecodeMessage ./tour:FuzzParse ./trace:FuzzMapType ./kernelmap:FuzzDecode

# Each fuzzer for FUZZTIME (FUZZTIME=10m make fuzz). A crasher lands in the package's
# testdata/fuzz/, where plain `go test` runs it from then on: a regression test.
FUZZTIME ?= 60s
fuzz:
	@set -e; for f in $(FUZZERS); do \
		echo "fuzz $${f%%:*} $${f##*:} for $(FUZZTIME)"; \
		$(GO) test $${f%%:*} -run '^$$' -fuzz "^$${f##*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s; \
	done

# What CI runs (.ci/run): every fuzzer briefly.
fuzz-ci:
	$(MAKE) fuzz FUZZTIME=15s

bench:
	$(GO) test ./engine -run '^$$' -bench . -benchmem

# The explorer's benchmarks: replay throughput, seek, step back, start-up.
bench-web:
	$(GO) test ./web -run '^$$' -bench . -benchmem

# The explorer under load: 200 websocket clients against `lruviz serve` on loopback
# (cmd/loadtest; LOADFLAGS="--clients 50 --ramp 0" and the like).
LOADFLAGS ?=
load:
	$(GO) build -o lruviz ./cmd/lruviz
	$(GO) run ./cmd/loadtest --server ./lruviz $(LOADFLAGS)
