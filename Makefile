# Sluice: `make run` and `make test` work on a fresh Debian machine as root:
# they install what is missing (apt), build, and run.

SWIFT        ?= swift
CONFIG       ?= etc/sluice.yaml
# Debian packages the build needs: SQLite headers for GRDB (credentials store), libunbound
# (the DNS resolver component), libopendkim (DKIM), libspf2 (SPF), and the Public Suffix
# List (DMARC organizational domains), vectorscan and zlib (DLP).
BUILD_PACKAGES = libsqlite3-dev pkg-config libunbound-dev libopendkim-dev libspf2-dev publicsuffix libvectorscan-dev zlib1g-dev
# Debian packages the tests need: interop clients (swaks needs Net::SSLeay for TLS,
# a recommends that --no-install-recommends would skip), TLS tooling, and dnslib for the
# fixture DNS server (Tests/dns/fixture_dns.py, run with Debian's /usr/bin/python3), and
# dkimpy (python3-dkim) that verifies our DKIM signatures, and CPython's email test messages
# (libpython3.11-testsuite) the MIME walker must read without a crash.
TEST_PACKAGES  = swaks libnet-ssleay-perl python3 python3-dnslib python3-dkim libpython3.11-testsuite openssl ca-certificates
# Postfix's smtp-source/smtp-sink drive the benchmarks.
BENCH_PACKAGES = postfix
APT_GET      = DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confold

.PHONY: all build release run test test-unit bench deps deps-test deps-bench clean check

all: build

# Installs only the packages that are missing, so a prepared machine stays offline.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root, or install:$$missing" >&2; exit 1; fi; \
	  $(APT_GET) update >/dev/null && $(APT_GET) install --no-install-recommends $$missing; \
	fi
endef

deps:
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 toolchain not found on PATH (https://swift.org/install)" >&2; exit 1; }
	$(call apt_install,$(BUILD_PACKAGES))

deps-test: deps
	$(call apt_install,$(TEST_PACKAGES))

deps-bench: deps-test
	$(call apt_install,$(BENCH_PACKAGES))

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds in release mode and runs the daemon on the default config (Ctrl-C stops it).
# The default config signs as example.test with selector s1: the key is made on first run.
run: release
	@test -f var/dkim/example.test.s1.pem || .build/release/sluice dkim keygen --config $(CONFIG) --domain example.test --selector s1
	.build/release/sluice serve --config $(CONFIG) --log-format text

check: build
	@test -f var/dkim/example.test.s1.pem || .build/debug/sluice dkim keygen --config $(CONFIG) --domain example.test --selector s1
	.build/debug/sluice check --config $(CONFIG)

# Every test: unit, integration (real daemon on 127.0.0.1 ephemeral ports) and interop.
test: deps-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

test-unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing --skip SluiceIntegrationTests

# Throughput and idle-connection figures; see bench/README.md.
bench: deps-bench release
	bench/ingest.sh
	bench/relay.sh
	bench/idle.sh

clean:
	rm -rf .build var/queue var/outbox var/run
