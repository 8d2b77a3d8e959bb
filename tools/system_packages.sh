#!/bin/sh
# The Debian packages `make test` and `make demo` need besides Python:
#   chromium       the pages' browser tests and the report's PDF
#   poppler-utils  pdftoppm/pdftotext, which read the printed report in the tests
# Installs the missing ones when this machine allows it (root with apt-get),
# otherwise stops with one line saying what to install.
#
# CHROMIUM     the Chromium binary to look for (default /usr/bin/chromium)
# POPPLER_BIN  where pdftoppm and pdftotext are looked for (default /usr/bin)
# TOWNHALL_SKIP_BROWSER=1  a developer without a browser: neither package is
#              needed (the tests that need them are left out and listed).
set -eu

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
POPPLER_BIN=${POPPLER_BIN:-/usr/bin}

if [ "${TOWNHALL_SKIP_BROWSER:-}" = 1 ]; then
  echo "system packages: TOWNHALL_SKIP_BROWSER=1, chromium and poppler-utils not checked" >&2
  exit 0
fi

missing() {
  out=""
  [ -x "$CHROMIUM" ] || out="$out chromium"
  { [ -x "$POPPLER_BIN/pdftoppm" ] && [ -x "$POPPLER_BIN/pdftotext" ]; } || out="$out poppler-utils"
  echo "${out# }"
}

need=$(missing)
[ -z "$need" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages: $need; install them (as root: apt-get install $need)" \
    "or set TOWNHALL_SKIP_BROWSER=1 to leave the browser tests out" >&2
  exit 1
fi

echo "system packages: installing $need (apt-get)" >&2
# Wait for another apt run to finish rather than fail on its lock.
wait_lock="-o DPkg::Lock::Timeout=300"
# shellcheck disable=SC2086  # $wait_lock and $need are lists of words
apt-get $wait_lock update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get $wait_lock install -y -qq $need >/dev/null

still=$(missing)
if [ -n "$still" ]; then
  echo "still missing after apt-get install: $still (CHROMIUM=$CHROMIUM," \
    "POPPLER_BIN=$POPPLER_BIN)" >&2
  exit 1
fi
