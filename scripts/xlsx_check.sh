#!/usr/bin/env bash
# Opens the workbooks the web tests downloaded with LibreOffice, headless: the payment list
# (artifacts/payments-sample.xlsx) and the Roadmap's monthly report (artifacts/g1-sample.xlsx). Converts each to
# PDF, renders the first page to PNG, and checks that the person and the amount, and the region and the nation's
# work done, are there.
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
G1=artifacts/g1-sample.xlsx
[ -f "$G1" ] || { echo "no $G1: run swift test first"; exit 1; }
HOME=$(mktemp -d) soffice --headless --convert-to pdf --outdir "$OUT" "$G1" >/dev/null 2>&1
pdftoppm -png -r 80 -f 1 -l 1 "$OUT/g1-sample.pdf" "$OUT/g1"
g1=$(pdftotext -layout "$OUT/g1-sample.pdf" -)
echo "$g1" | grep -q "Карагандинская область" || { echo "xlsx: Karaganda Region is missing from the G1 report"; exit 1; }
echo "$g1" | grep -Eq "120[ , ]?000[ , ]?000[.,]00" || { echo "xlsx: the work done 120,000,000.00 is missing from the G1 report"; exit 1; }
echo "xlsx: 2 passed, 0 failed (LibreOffice opened the payment list and the G1 report: $(ls "$OUT"/page*.png | head -1), $(ls "$OUT"/g1*.png | head -1))"
