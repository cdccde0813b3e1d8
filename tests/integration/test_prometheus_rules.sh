#!/usr/bin/env bash
# The Prometheus alerting rules in deploy/prometheus/: promtool checks the
# rules and the example configuration, and runs the rules' unit tests. Then
# this script makes sure the tests cover every alert and can fail: each
# alert must have a case that fires it and one that shows it silent, and
# with the alert's expression replaced by one that always fires (or never
# does) promtool test must fail on exactly such a case. The metric names
# the rules use must be what kprd serves (from the running stack's
# /metrics under tests/run-all, from kprd's source when run alone), and
# every alert's runbook anchor must exist in docs/runbook.md.
# It needs no stack: run it alone as tests/integration/test_prometheus_rules.sh.
# A missing promtool is a failure (tools/install-deps installs Debian's
# prometheus package for make check).
set -u
cd "$(dirname "$0")/../.."
T_PASS=0
T_FAIL=0
ok() { T_PASS=$((T_PASS + 1)); echo "  ok   $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL $*"; }
check() { # description, command...
  local d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
}
finish() {
  echo "test_prometheus_rules: $T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}

DIR=deploy/prometheus
RULES=$DIR/kpr-alerts.yml
TESTS=("$DIR/kpr-alerts.test.yml" "$DIR/kpr-alerts-calendar.test.yml")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if ! command -v promtool >/dev/null; then
  not_ok "promtool not found (tools/install-deps installs the prometheus package)"
  finish; exit 1
fi

quiet_ok() { # command...: exit 0; the output is shown only on failure
  local out
  if out=$("$@" 2>&1); then return 0; fi
  echo "$out" | sed 's/^/    /'; return 1
}
ALERTS=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\) *$/\1/p' "$RULES")
N=$(echo "$ALERTS" | wc -w)
check "the rules define alerts ($N)" [ "$N" -ge 12 ]
check "promtool check rules $RULES" quiet_ok promtool check rules "$RULES"
check "promtool check config $DIR/prometheus.yml (loads the rules)" \
  quiet_ok promtool check config "$DIR/prometheus.yml"
check "promtool test rules: every case passes" quiet_ok promtool test rules "${TESTS[@]}"

# --- every alert has a firing and a silent case, and tests name no unknown alert
# (promtool passes a silent case for a misspelt alertname)
awk '
  /^ *alertname:/ { name = $2 }
  /^ *exp_alerts: *\[\] *$/ { if (name != "") print "silent", name; name = "" }
  /^ *exp_alerts: *$/ { if (name != "") print "fires", name; name = "" }
' "${TESTS[@]}" | sort -u > "$WORK/cases"
for a in $ALERTS; do
  check "$a: a case that fires it" grep -qx "fires $a" "$WORK/cases"
  check "$a: a case that shows it silent" grep -qx "silent $a" "$WORK/cases"
done
unknown=$(awk '{print $2}' "$WORK/cases" | sort -u | grep -vxF -f <(echo "$ALERTS") || true)
check "the tests name only alerts the rules define ${unknown:+($unknown)}" [ -z "$unknown" ]

# --- mutations: the cases bite. Every alert's expr becomes "always"
# (vector(1)), or "never" (vector(1) < 0); promtool must then fail, and for
# each alert show a silent case that got an alert (always) and a firing case
# that got none (never). promtool reports every failing case, so one run per
# mutation and test file covers all alerts.
mutate() { # expr, out-dir
  mkdir -p "$2"
  cp "${TESTS[@]}" "$2/"
  python3 - "$RULES" "$1" > "$2/kpr-alerts.yml" <<'EOF'
import re, sys
lines, expr = open(sys.argv[1]).read().split("\n"), sys.argv[2]
out, i, n = [], 0, 0
while i < len(lines):
    e = re.match(r"^(\s*)expr:(.*)$", lines[i])
    if e:
        ind = len(e.group(1))
        out.append(" " * ind + "expr: " + expr)
        n += 1
        i += 1
        if e.group(2).strip() in ("|", ">", "|-", ">-"):  # a block: skip its deeper lines
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > ind):
                i += 1
        continue
    out.append(lines[i])
    i += 1
print("\n".join(out), end="")
sys.exit(0 if n == len([l for l in lines if re.match(r"^\s*- alert:", l)]) else 1)
EOF
}
for kind in always never; do
  if [ $kind = always ]; then e='vector(1)'; else e='vector(1) < 0'; fi
  m="$WORK/$kind"
  check "every expr replaced by $e" mutate "$e" "$m"
  : > "$m/out"
  for tf in "${TESTS[@]}"; do
    if promtool test rules "$m/$(basename "$tf")" >> "$m/out" 2>&1; then
      not_ok "expr $e: promtool test $(basename "$tf") still passes"
    fi
  done
done
# one verdict line per alert and mutation: "ok|..." or "FAIL|..."
while IFS= read -r line; do
  case "$line" in
    ok\|*) ok "${line#ok|}" ;;
    FAIL\|*) not_ok "${line#FAIL|}" ;;
    *) echo "  $line" ;;
  esac
done < <(python3 - "$WORK/always/out" "$WORK/never/out" $ALERTS 2>&1 <<'EOF' || echo "FAIL|the mutation verdicts crashed"
import re, sys
always, never, alerts = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3:]
def failed(text, name, kind):
    case = (r"alertname: " + re.escape(name) + r", time: [^,]*,\s*" +
            (r"exp:\[\]," if kind == "silent" else r"exp:\[\s*0:.*?got:\[\]"))
    # promtool prints one block per failing case, each starting with "name:"
    return any(re.search(case, b, re.S) for b in re.split(r"\n(?=\s*name: )", text))
for a in alerts:
    for text, kind, expr in ((always, "silent", "vector(1)"), (never, "fires", "vector(1) < 0")):
        verdict = "ok" if failed(text, a, kind) else "FAIL"
        print(f"{verdict}|{a} with expr {expr}: a {'silent' if kind == 'silent' else 'firing'} case fails")
EOF
)

# --- the rules use what kprd serves
NAMES=$(grep -v '^ *#' "$RULES" | grep -oE '\bkpr_[a-z_]+' | sort -u)
check "the rules use kprd metrics ($(echo "$NAMES" | wc -w))" [ -n "$NAMES" ]
if [ -n "${KPR_URL:-}" ] && [ -n "${KPR_CACERT:-}" ]; then
  check "scrape the stack's /metrics" curl -fsS --cacert "$KPR_CACERT" "$KPR_URL/metrics" -o "$WORK/metrics"
  where="the stack's /metrics"
  has() { grep -qE "^(# TYPE )?$1(\{| )" "$WORK/metrics"; } # a labelled family may have no series yet
else
  where="kprd's source (no stack)"
  has() { grep -rqF "\"$1" server/src; }
fi
for n in $NAMES; do
  check "$n is in $where" has "$n"
done

# --- each alert's runbook annotation names a section of docs/runbook.md
for a in $ALERTS; do
  anchor=$(echo "$a" | tr 'A-Z' 'a-z')
  check "$a: runbook annotation docs/runbook.md#$anchor" grep -q "runbook: \"docs/runbook.md#$anchor\"" "$RULES"
  check "$a: docs/runbook.md has a section '### $a'" grep -qx "### $a" docs/runbook.md
done

finish
