#!/usr/bin/env bash
# Opens the payment list the web tests downloaded (artifacts/payments-sample.xlsx) with LibreOffice, headless:
# converts it to PDF, renders the first page to PNG, and checks that the person and the amount are there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q libreoffice-calc-nogui poppler-utils >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q libreoffice-calc-nogui poppler-utils; }
fi
XLSX=artifacts/payments-sample.xlsx
[ -f "$XLSX" ] || { echo "no $XLSX: run swift test first"; exit 1; }
OUT=artifacts/xlsx
rm -rf "$OUT"; mkdir -p "$OUT"
HOME=$(mktemp -d) soffice --headless --convert-to pdf --outdir "$OUT" "$XLSX" >/dev/null 2>&1
pdftoppm -png -r 80 -f 1 -l 1 "$OUT/payments-sample.pdf" "$OUT/page"
text=$(pdftotext "$OUT/payments-sample.pdf" -)
echo "$text" | grep -q "Нұрланов" || { echo "xlsx: the person is missing from the converted list"; exit 1; }
echo "$text" | grep -Eq "26[ , ]?000[.,]00" || { echo "xlsx: the amount 26,000.00 is missing"; exit 1; }
echo "xlsx: 1 passed, 0 failed (LibreOffice opened the payment list: $(ls "$OUT"/page*.png | head -1))"
