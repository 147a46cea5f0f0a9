#!/usr/bin/env bash
# Browser checks in real headless Chromium against `jumys serve --demo` on a temporary SQLite file.
# Screenshots go to artifacts/browser/. Installs Debian's chromium and chromium-driver and Selenium when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromedriver >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium chromium-driver; }
fi
python3 -c 'import selenium' 2>/dev/null || pip install -q selenium
# axe-core (the accessibility rules engine) as packaged on PyPI.
python3 -c 'import axe_core_python' 2>/dev/null || pip install -q axe-core-python
BIN=$(swift build --show-bin-path)/jumys
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-browser.XXXXXX)
PORT=${BROWSER_PORT:-18090}
DATABASE_URL="sqlite:$WORK/jumys.sqlite" HOST=127.0.0.1 PORT=$PORT BCRYPT_COST=8 "$BIN" serve --demo >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
mkdir -p artifacts/browser
python3 tests/browser/foundation.py "http://127.0.0.1:$PORT" artifacts/browser
python3 tests/browser/casework.py "http://127.0.0.1:$PORT" artifacts/browser
python3 tests/browser/labour.py "http://127.0.0.1:$PORT" artifacts/browser
python3 tests/browser/projects.py "http://127.0.0.1:$PORT" artifacts/browser
python3 tests/browser/finance.py "http://127.0.0.1:$PORT" artifacts/browser
python3 tests/browser/monitoring.py "http://127.0.0.1:$PORT" artifacts/browser
python3 tests/browser/integration.py "http://127.0.0.1:$PORT" artifacts/browser
python3 tests/browser/business.py "http://127.0.0.1:$PORT" artifacts/browser
# The main pages of every role in Kazakh and Russian through axe-core (WCAG 2.1 A and AA), one h1, labels, lang, and
# the pages with JavaScript off.
python3 tests/browser/a11y.py "http://127.0.0.1:$PORT" artifacts/browser
