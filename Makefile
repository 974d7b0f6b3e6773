# Sluice: `make run` and `make test` work on a fresh Debian machine as root:
# they install what is missing (apt), build, and run.

SWIFT        ?= swift
CONFIG       ?= etc/sluice.yaml
# Debian packages the build needs: SQLite headers for GRDB (credentials store), libunbound
# (the DNS resolver component), libopendkim (DKIM), libspf2 (SPF), and the Public Suffix
# List (DMARC organizational domains), vectorscan and zlib (DLP), and OpenSSL's libcrypto
# (DKIM signatures on key handles parsed once), Poppler's GLib interface (the text of PDF attachments),
# libarchive (tar, cpio, 7z, rar, iso, xz, bzip2, zstd and lz4 attachments), and Tesseract with Leptonica
# and its English data (OCR of images for DLP profiles with `ocr: true`).
BUILD_PACKAGES = libsqlite3-dev pkg-config libunbound-dev libopendkim-dev libspf2-dev publicsuffix libvectorscan-dev zlib1g-dev libssl-dev libpoppler-glib-dev libarchive-dev libtesseract-dev libleptonica-dev tesseract-ocr-eng
# Debian packages the tests need: interop clients (swaks needs Net::SSLeay for TLS,
# a recommends that --no-install-recommends would skip), TLS tooling, and dnslib for the
# fixture DNS server (Tests/dns/fixture_dns.py, run with Debian's /usr/bin/python3), and
# dkimpy (python3-dkim) that verifies our DKIM signatures, and CPython's email test messages
# (libpython3.11-testsuite) the MIME walker must read without a crash, and Info-ZIP's zip (encrypted
# archives for the DLP tests), the tools that make the other archives they open (7z, zstd, lz4, cpio, xz,
# bzip2), Postfix (a real remote for delivery tests: a private instance per test), the DejaVu fonts the
# OCR tests render card numbers in, clamd (a private instance per test, with a one-signature database) and
# SpamAssassin's spamd (a private instance per test, local rules only), Dovecot's LMTP (a private instance per
# test, Maildir users in a temp dir), NSD and ldnsutils (DNSSEC-signed fixture zones for DANE: ldns-signzone signs, a
# private nsd serves them).
TEST_PACKAGES  = postgresql haproxy swaks dovecot-core dovecot-lmtpd nsd ldnsutils libnet-ssleay-perl python3 python3-dnslib python3-dkim python3-authres libpython3.11-testsuite openssl ca-certificates zip p7zip-full zstd lz4 cpio xz-utils bzip2 postfix fonts-dejavu-core clamav-daemon spamassassin spamd
# Python libraries that make the documents and images the DLP tests attach (Tests/interop/make_documents.py,
# make_images.py) and validate the webhook JSON against its schema (jsonschema), installed with pip into the python3 on PATH (the one the tests run).
PIP_PACKAGES   = python-docx openpyxl python-pptx odfpy reportlab pillow jsonschema
PIP_MODULES    = docx, openpyxl, pptx, odf, reportlab, PIL, jsonschema
# Postfix's smtp-source/smtp-sink drive the benchmarks; Postfix and OpenDKIM are the
# comparison (bench/compare.sh); testssl.sh audits the TLS listeners.
BENCH_PACKAGES = postfix opendkim testssl.sh linux-perf strace
# The Debian package (make deb): dpkg-shlibdeps names the libraries the binary links, strip, man
# for the install test, systemd for systemd-analyze verify, adduser for postinst.
DEB_PACKAGES   = dpkg-dev binutils man-db systemd adduser
APT_GET      = DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confold

.PHONY: all build release run test test-unit deb deb-test bench compare profile reliability reliability-smoke tls-audit fuzz deps deps-test deps-bench clean check

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
	@python3 -c "import $(PIP_MODULES)" 2>/dev/null || { echo "installing (pip): $(PIP_PACKAGES)"; \
	  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore $(PIP_PACKAGES) || \
	  { echo "pip could not install $(PIP_PACKAGES) for $$(command -v python3)" >&2; exit 1; }; }

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
	SWIFT=$(SWIFT) Tests/run-tests.sh

test-unit: deps
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) Tests/run-tests.sh --skip SluiceIntegrationTests

# The Debian package .build/deb/sluice_VERSION_ARCH.deb (packaging/debian/build.sh): a release
# build with the Swift runtime linked in (--static-swift-stdlib, in .build/static), /etc/sluice
# conffiles, the systemd unit, completions and the man page; no Swift toolchain needed to install it.
deb: deps
	$(call apt_install,$(DEB_PACKAGES))
	$(SWIFT) build
	packaging/debian/build.sh

# Installs the package with dpkg -i, runs it as its unit would, sends mail, purges it (root).
deb-test: deb deps-test
	packaging/debian/install-test.sh $$(ls -t .build/deb/sluice_*.deb | head -1)

# Throughput and idle-connection figures; see bench/README.md.
bench: deps-bench release
	bench/ingest.sh
	bench/relay.sh
	bench/idle.sh

# Sluice next to Postfix and Postfix + OpenDKIM, 4 KiB and 100 KiB, 3 runs (needs root).
compare: deps-bench release
	bench/compare.sh

# Where a message's CPU goes in the full pipeline (perf call graphs by stage), and fsyncs per message.
profile: deps-bench release
	bench/profile.sh
	bench/fsync.sh

# kill -9 under load (R-REL-1) and a next hop that fails and drops connections: no loss.
reliability: deps-bench release
	bench/crash.sh
	bench/faults.sh

# The same two tests, short, on the debug build: .ci/run runs this after make test, so the
# scripts and the no-loss claim are checked on every submission (smtp-sink comes with postfix).
reliability-smoke: deps-test
	$(call apt_install,postfix)
	$(SWIFT) build
	SLUICE_BIN=$(CURDIR)/.build/debug/sluice MESSAGES=2000 KILLS=3 bench/crash.sh
	SLUICE_BIN=$(CURDIR)/.build/debug/sluice MESSAGES=600 FAULT_SECONDS=5 bench/faults.sh

tls-audit: deps-bench release
	bench/tls_audit.sh

# libFuzzer (R-REL-2): each target runs FUZZ_SECONDS from the seeds in Tests/fuzz/<target>
# (the MIME target also from CPython's email test messages). A crash stops the run and leaves
# the input in .build/fuzz-artifacts/; fix it and copy the input into Tests/fuzz/<target>/,
# where `make test` replays it.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = smtp mime rules
# lld: gold fails on the sanitized debug info (internal error in format_file_lineno).
FUZZ_FLAGS    = --build-path .build/fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
fuzz: deps-test
	@for t in $(FUZZ_TARGETS); do $(SWIFT) build $(FUZZ_FLAGS) --product fuzz-$$t || exit 1; done
	@mkdir -p .build/fuzz-artifacts
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build/fuzz-corpus/$$t; \
	  extra=""; [ $$t = mime ] && [ -d /usr/lib/python3.11/test/test_email/data ] && extra=/usr/lib/python3.11/test/test_email/data; \
	  echo "fuzz-$$t: $(FUZZ_SECONDS) s"; \
	  .build/fuzz/debug/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=.build/fuzz-artifacts/$$t- \
	    .build/fuzz-corpus/$$t Tests/fuzz/$$t $$extra 2>.build/fuzz-artifacts/$$t.log \
	    || { tail -40 .build/fuzz-artifacts/$$t.log; exit 1; }; \
	  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^Done" .build/fuzz-artifacts/$$t.log; \
	done

clean:
	rm -rf .build var/queue var/outbox var/run
