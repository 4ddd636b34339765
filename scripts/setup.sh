#!/usr/bin/env bash
# Installs what the kit and its tests need on a fresh Debian machine with Python 3.11:
# system packages when missing (Chromium for the browser tests, PostgreSQL for the
# gradebook tests, LibreOffice Calc to open the exports, a CJK font for screenshots and
# certificates, poppler-utils to read certificates back),
# this package with its test extras (JupyterHub included, and its proxy from npm), the learner
# page script (frontend/, built with npm packages), and Ralph (a real xAPI LRS) in its own venv
# because its pins need not match ours.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need_apt+=(postgresql); fi
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-calc-nogui)
# JupyterHub's proxy is a Node program (configurable-http-proxy, from npm below).
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need_apt+=(fonts-wqy-microhei)
# pdftotext / pdftoppm read the certificates back in the tests.
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
# openssl makes the throwaway certificate of the STARTTLS test's SMTP server.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "Missing system packages: ${need_apt[*]} (install them with apt-get as root)" >&2
  fi
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
# The learner page script (frontend/): its npm packages when the lock file changed, then a
# build (esbuild, under a second) into the page template.
if command -v npm >/dev/null 2>&1; then
  if [ ! frontend/node_modules/.package-lock.json -nt frontend/package-lock.json ]; then
    npm ci --prefix frontend --silent --no-audit --no-fund
  fi
  node frontend/build.mjs >/dev/null
else
  echo "Missing npm: the learner page script (frontend/) cannot be built; serve will refuse to start" >&2
fi
if ! command -v configurable-http-proxy >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    npm install -g --silent configurable-http-proxy@5 >/dev/null
  else
    echo "Missing configurable-http-proxy (JupyterHub's proxy): npm install -g configurable-http-proxy as root" >&2
  fi
fi

ralph_venv="${WECHAT_TRAINING_RALPH_VENV:-$HOME/.cache/wechat-training/ralph-venv}"
if [ ! -x "$ralph_venv/bin/ralph" ]; then
  python3 -m venv "$ralph_venv"
  "$ralph_venv/bin/pip" install -q --disable-pip-version-check "ralph-malph[cli,lrs]==5.1.0" requests
fi
