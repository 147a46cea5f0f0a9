#!/usr/bin/env bash
# Copies the key pages of the browser journeys (scripts/browser.sh writes them to artifacts/browser/) into
# docs/screenshots/, the ones the README and the issue notes show: each journey in Kazakh and in Russian.
# Usage: bash scripts/browser.sh && bash scripts/docs_screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FROM=${1:-artifacts/browser}
mkdir -p docs/screenshots
for lang in kk ru; do
  for shot in "$lang-casework-register" "$lang-casework-contract" "$lang-labour-candidates" "$lang-labour-hired" "$lang-labour-payroll-run" \
              "projects-$lang-1-proposed" "projects-$lang-2-approved" "projects-$lang-3-report" "business-$lang-3-inbox" "business-$lang-4-answered" \
              "monitoring-$lang-1-dashboard" "monitoring-$lang-3-pack" "integration-$lang-2-import-result"; do
    cp "$FROM/$shot.png" "docs/screenshots/$shot.png"
  done
done
ls docs/screenshots | wc -l
