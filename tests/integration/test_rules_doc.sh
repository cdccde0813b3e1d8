#!/usr/bin/env bash
# test_rules_doc.sh — fails when docs/rules.md is not what the rule catalogue
# (server/src/validation/rules.c, rendered by BUILD/kpr-rules) produces now.
# Run from the repo root; BUILD is the build directory (default: build).
# check_rules makes the same comparison in-process; this one checks the
# shipped tool itself.
set -euo pipefail
build=${BUILD:-build}
tool="$build/kpr-rules"
if [ ! -x "$tool" ]; then
  echo "test_rules_doc: $tool not built" >&2
  exit 1
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$tool" >"$tmp"
if ! diff -u docs/rules.md "$tmp" >&2; then
  echo "test_rules_doc: docs/rules.md is out of date; run tools/gen-rules-md" >&2
  exit 1
fi
echo "test_rules_doc: ok"
