#!/usr/bin/env bash
# Installs what the kit and its tests need on a fresh Debian machine with Python 3.11:
# system packages (Chromium for the browser tests, PostgreSQL for the gradebook
# tests) when missing, then this package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need_apt+=(postgresql); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "Missing system packages: ${need_apt[*]} (install them with apt-get as root)" >&2
  fi
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
