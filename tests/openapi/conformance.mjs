// Checks every HTTP exchange the integration tests recorded (req() in
// tests/lib/common.sh writes them to $KPR_VAR/openapi-exchanges/) against
// docs/openapi.yaml: documented path, method and status; required headers and
// their values; the documented media type; JSON bodies against their schemas.
// Known differences being fixed elsewhere are listed in known-drift.json
// (KPR_OPENAPI_KNOWN_DRIFT names another file, for the self-test).
// Usage: node conformance.mjs DOC EXCHANGE_DIR
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadDoc, docAjv, checkExchange, parseHeaders, operations } from "./lib.mjs";

const [docFile, dir] = process.argv.slice(2);
if (!docFile || !dir) {
  console.error("usage: node conformance.mjs DOC EXCHANGE_DIR");
  process.exit(2);
}
const doc = loadDoc(docFile);
// known differences (known-drift.json): reported, not failed, while they last
const knownFile = process.env.KPR_OPENAPI_KNOWN_DRIFT || join(dirname(fileURLToPath(import.meta.url)), "known-drift.json");
const known = JSON.parse(readFileSync(knownFile, "utf8")).entries;
const knownHits = known.map(() => 0);
const knownOf = (key, mt, problem) => known.findIndex((k) => k.operation === key && k.media_type === mt && (problem === `body: ${k.path}` || problem.startsWith(`body: ${k.path} `)));
const ajv = docAjv(doc);
let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith(".meta")).sort();
} catch (e) {
  console.error(`  FAIL no recorded exchanges: ${e.message}`);
}
let passed = 0, failed = 0, skipped = 0;
const seen = new Map();
const seenTyped = new Set(); // "operationId status media-type"
for (const f of files) {
  const base = join(dir, f.slice(0, -5));
  const [method, path, status, test, where] = readFileSync(base + ".meta", "utf8").split("\n");
  if (!/^[1-5]\d\d$/.test(status)) { skipped++; continue; } // no HTTP answer (000): nothing to check
  const ex = { method, path, status: Number(status), headers: parseHeaders(readFileSync(base + ".headers", "utf8")), body: readFileSync(base + ".body", "utf8") };
  let r;
  try {
    r = checkExchange(doc, ajv, ex);
  } catch (e) {
    r = { key: "?", problems: [`checker error: ${e.message}`] };
  }
  seen.set(r.key, (seen.get(r.key) || 0) + 1);
  seenTyped.add(`${r.key} ${r.mediaType}`);
  const unknown = r.problems.filter((p) => {
    const i = knownOf(r.key, r.mediaType, p);
    if (i >= 0) knownHits[i]++;
    return i < 0;
  });
  if (unknown.length === 0) { passed++; continue; }
  r.problems = unknown;
  failed++;
  console.log(`  FAIL ${method} ${path.length > 120 ? path.slice(0, 120) + "…" : path} -> ${status}, made by ${test} (${where})`);
  for (const p of r.problems) console.log(`         ${p}`);
  if (ex.body) console.log(`         body: ${ex.body.slice(0, 200).replace(/[^\x20-\x7e]+/g, " ")}${ex.body.length > 200 ? "…" : ""}`);
}
if (files.length === 0 || passed + failed === 0) {
  console.log("  FAIL no exchange was recorded: is the req() hook in tests/lib/common.sh working?");
  failed++;
}
known.forEach((k, i) => {
  if (knownHits[i] > 0) console.log(`  KNOWN DRIFT ${k.operation} ${k.media_type} ${k.path} (${knownHits[i]}x): ${k.reason}`);
  else if (seenTyped.has(`${k.operation} ${k.media_type}`)) {
    console.log(`  FAIL known drift no longer seen (${k.operation} ${k.media_type} ${k.path}): remove it from tests/openapi/known-drift.json`);
    failed++;
  }
});
// coverage: which documented (operation, status) pairs the tests exercised
const documented = [];
for (const o of operations(doc)) for (const s of Object.keys(o.op.responses || {})) documented.push(`${o.op.operationId} ${s}`);
const covered = documented.filter((k) => seen.has(k));
console.log(`  coverage: ${covered.length} of ${documented.length} documented responses seen (${skipped} exchanges without an answer skipped)`);
console.log(`  seen: ${[...seen.entries()].sort().map(([k, n]) => `${k} x${n}`).join(", ")}`);
console.log(`openapi conformance: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
