// The checks must be able to fail: deliberate drift, each of which lint or
// conformance must catch, and answers that must pass. Runs against the real
// docs/openapi.yaml and server sources (ROOT), changed in memory only.
// Usage: node selftest.mjs ROOT
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadDoc, lint, docAjv, checkExchange } from "./lib.mjs";

const root = process.argv[2] || ".";
const docFile = join(root, "docs/openapi.yaml");
const routesSrc = readFileSync(join(root, "server/src/api/routes.c"), "utf8");
const errorsSrc = readFileSync(join(root, "server/src/core/errors.c"), "utf8");
let passed = 0, failed = 0;
const result = (ok, what, extra = "") => {
  if (ok) passed++;
  else failed++;
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}${extra ? ": " + extra : ""}`);
};

// --- lint: the document as it is passes; each drift is caught ------------------
const base = await lint(loadDoc(docFile), { routesSrc, errorsSrc });
result(base.length === 0, "lint passes on the document as it is", base.join("; "));
const lintDrift = [
  ["an endpoint missing from the document", (d) => delete d.paths["/metrics"], {}, /route GET \/metrics/],
  ["a documented endpoint the server does not have", (d) => (d.paths["/api/v1/nothing"] = { get: { operationId: "x", responses: { 200: { description: "x" } } } }), {}, /not in the route table/],
  ["a route the document does not know", () => {}, { routesSrc: routesSrc.replace("};\nconst size_t", '    {"DELETE", "/api/v1/submissions/{}", api_x, HTTP_AUTH_STAFF, "submission_delete"},\n};\nconst size_t') }, /DELETE \/api\/v1\/submissions\/\{\}/],
  ["wrong auth on an operation", (d) => (d.paths["/api/v1/progress"].get["x-kpr-auth"] = "any"), {}, /x-kpr-auth any/],
  ["an operation needing a token without 503 (tokens_not_loaded)", (d) => delete d.paths["/api/v1/progress"].get.responses["503"], {}, /documents no 503/],
  ["a token-free operation declared as needing a token", (d) => (d.paths["/healthz"].get.security = [{ bearer: [] }]), {}, /does not fit auth none/],
  ["an error code missing from the document", (d) => d.components.schemas.ErrorCode.enum.pop(), {}, /ErrorCode.enum/],
  ["an error code with another status", (d) => (d.components.schemas.ErrorCode["x-kpr-http-status"].not_found = 410), {}, /not_found is 410/],
  ["a new code in the registry", () => {}, { errorsSrc: errorsSrc.replace("};\n\nconst struct kpr_error_def", '    [KPR_E_TEAPOT] = {KPR_E_TEAPOT, "teapot", 418, "x"},\n};\n\nconst struct kpr_error_def') }, /teapot/],
  ["a per-status error schema with a code of another status", (d) => d.components.schemas.Error404.properties.code.enum.push("forbidden"), {}, /Error404\.code/],
  ["an error schema under the wrong status", (d) => (d.paths["/api/v1/submissions/{id}"].get.responses["404"] = { $ref: "#/components/responses/Forbidden" }), {}, /Error403 under status 404/],
  ["a response without X-Request-Id", (d) => delete d.components.responses.NotFound.headers["X-Request-Id"], {}, /X-Request-Id is not a required header/],
  ["a typo in a schema keyword", (d) => (d.components.schemas.Health.requried = ["status"]), {}, /unknown keyword/],
  ["a broken $ref", (d) => (d.components.schemas.SubmissionList.properties.submissions.items.$ref = "#/components/schemas/Submision"), {}, /resolve #\/components\/schemas\/Submision/],
  ["not OpenAPI 3.1 (a response without a description)", (d) => delete d.paths["/healthz"].get.responses["200"].description, {}, /not a valid OpenAPI 3.1 document/],
];
for (const [what, change, src, expect] of lintDrift) {
  const d = loadDoc(docFile);
  change(d);
  const p = await lint(d, { routesSrc, errorsSrc, ...src });
  result(p.some((x) => expect.test(x)), `lint catches ${what}`, p.length ? "" : "nothing reported");
}

// --- conformance: answers that must pass, drift that must fail ------------------
const doc = loadDoc(docFile);
const ajv = docAjv(doc);
const rid = "0123456789abcdef0123456789abcdef";
const common = { "x-request-id": rid, "x-content-type-options": "nosniff", "cache-control": "no-store", "referrer-policy": "no-referrer", "strict-transport-security": "max-age=31536000" };
const json = (o) => JSON.stringify(o);
const ex = (method, path, status, body, headers = {}) => {
  const h = { ...common, "content-type": "application/json", ...headers };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  return { method, path, status, body: typeof body === "string" ? body : json(body), headers: h };
};
const err = (code) => ({ code, message: "m", detail: null, request_id: rid });
const id = "3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22";
const submission = (over = {}) => ({
  id, kommunenummer: "0301", aargang: 2025, innsending_id: id, forrige_id: null, sha256: "a".repeat(64), bytes: 123, dry_run: false,
  status: "accepted",
  times: { received_at: "2026-01-05T09:12:00.123+01:00", started_at: "2026-01-05T09:12:01+01:00", processed_at: "2026-01-05T09:12:02.5+01:00" },
  counts: { persons: 1, registrations: 30, persons_loaded: 1, persons_excluded: 0, registrations_loaded: 30, registrations_excluded: 0, messages: { fatal: 0, error: 0, warning: 1, info: 0 } },
  timings: { validate_seconds: 0.1, load_seconds: 0.2, total_seconds: 0.3 },
  sender: { fagsystem: "Gerica", fagsystem_versjon: "7.4.1" }, superseded_by: null,
  links: { self: `/api/v1/submissions/${id}`, feedback: { csv: `/api/v1/submissions/${id}/feedback?format=csv`, xlsx: `/api/v1/submissions/${id}/feedback?format=xlsx` } },
  ...over,
});
const loc = { location: `/api/v1/submissions/${id}` };
const good = [
  ["healthz", ex("GET", "/healthz", 200, { status: "ok", version: "0.1.0", test_mode: true })],
  ["a submission in Oslo time", ex("GET", `/api/v1/submissions/${id}`, 200, submission())],
  ["a submission in UTC (Z)", ex("GET", `/api/v1/submissions/${id}`, 200, submission({ times: { received_at: "2026-01-05T08:12:00Z", started_at: null, processed_at: null } }))],
  ["status failed", ex("GET", `/api/v1/submissions/${id}`, 200, submission({ status: "failed" }))],
  ["202 with Location", ex("POST", "/api/v1/submissions?dry_run=true", 202, submission({ status: "received" }), loc)],
  ["429 with Retry-After", ex("POST", "/api/v1/submissions", 429, err("rate_limited"), { "retry-after": "30" })],
  ["feedback CSV", ex("GET", `/api/v1/submissions/${id}/feedback?format=csv`, 200, "\ufeffregel;alvorlighet\r\n", { "content-type": "text/csv; charset=utf-8", "content-disposition": 'attachment; filename="kpr-tilbakemelding-0301-2025-3f1c0d2e.csv"' })],
  ["feedback XLSX", ex("GET", `/api/v1/submissions/${id}/feedback?format=xlsx&enhet=Bydel%20Frogner`, 200, "PK", { "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "content-disposition": 'attachment; filename="kpr-tilbakemelding-0301-2025-3f1c0d2e.xlsx"' })],
  ["an unknown path: 404 not_found", ex("GET", "/no/such/path", 404, err("not_found"))],
  ["an undocumented method: 405", ex("DELETE", "/healthz", 405, err("method_not_allowed"))],
  ["openapi.yaml 304 without a body", ex("GET", "/api/v1/openapi.yaml", 304, "", { etag: '"' + "0".repeat(32) + '"', "content-type": undefined, "cache-control": "no-cache" })],
];
for (const [what, e] of good) {
  const r = checkExchange(doc, ajv, e);
  result(r.problems.length === 0, `conformance passes ${what}`, r.problems.join("; "));
}
const { links: _l, ...noLinks } = submission();
const bad = [
  ["a required field missing", ex("GET", `/api/v1/submissions/${id}`, 200, noLinks), /links/],
  ["a field the document does not know", ex("GET", "/healthz", 200, { status: "ok", version: "0.1.0", test_mode: true, uptime: 1 }), /additional/],
  ["a status value the document does not know", ex("GET", `/api/v1/submissions/${id}`, 200, submission({ status: "loaded" })), /allowed values/],
  ["a time that is not a date-time", ex("GET", `/api/v1/submissions/${id}`, 200, submission({ times: { received_at: "05.01.2026 09:12", started_at: null, processed_at: null } })), /date-time/],
  ["an error code that does not go with the status", ex("GET", `/api/v1/submissions/${id}`, 404, err("forbidden")), /allowed values/],
  ["an error code not in the registry", ex("GET", `/api/v1/submissions/${id}`, 404, err("gone")), /allowed values/],
  ["an undocumented status", ex("GET", "/healthz", 418, err("not_found")), /status 418 is not documented/],
  ["an undocumented path answering 200", ex("GET", "/api/v1/secret", 200, {}), /undocumented/],
  ["an undocumented method answering 200", ex("PUT", "/healthz", 200, {}), /undocumented/],
  ["X-Request-Id missing", ex("GET", "/healthz", 200, { status: "ok", version: "0.1.0", test_mode: true }, { "x-request-id": undefined }), /X-Request-Id missing/],
  ["a malformed X-Request-Id", ex("GET", "/healthz", 200, { status: "ok", version: "0.1.0", test_mode: true }, { "x-request-id": "42" }), /X-Request-Id/],
  ["Location missing on 202", ex("POST", "/api/v1/submissions", 202, submission({ status: "received" })), /Location missing/],
  ["Retry-After missing on 429", ex("POST", "/api/v1/submissions", 429, err("rate_limited")), /Retry-After missing/],
  ["Content-Disposition missing on a feedback file", ex("GET", `/api/v1/submissions/${id}/feedback`, 200, "x", { "content-type": "text/csv; charset=utf-8" }), /Content-Disposition missing/],
  ["an undocumented media type", ex("GET", "/healthz", 200, { status: "ok", version: "0.1.0", test_mode: true }, { "content-type": "text/plain" }), /Content-Type text\/plain/],
  ["a CSV without its charset", ex("GET", "/api/v1/progress/missing.csv", 200, "x", { "content-type": "text/csv", "content-disposition": 'attachment; filename="kpr-purreliste-2025.csv"' }), /Content-Type text\/csv/],
  ["a body that is not JSON", ex("GET", "/healthz", 200, "<html>"), /not JSON/],
  ["a 404 on an unknown path that is not an error body", ex("GET", "/no/such/path", 404, "not found"), /not JSON/],
];
for (const [what, e, expect] of bad) {
  const r = checkExchange(doc, ajv, e);
  result(r.problems.some((p) => expect.test(p)), `conformance catches ${what}`, r.problems.length ? r.problems.join("; ") : "nothing reported");
}
// --- conformance.mjs end to end: recorded files, known drift, stale entries ------
const tmp = mkdtempSync(join(tmpdir(), "kpr-openapi-selftest-"));
const knownFile = join(tmp, "known.json");
writeFileSync(knownFile, json({ entries: [{ operation: "submission_get 200", media_type: "application/json", path: "/counts", reason: "selftest" }] }));
const record = (dir, name, e) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name + ".meta"), `${e.method}\n${e.path}\n${e.status}\nselftest\nselftest.mjs:1\n`);
  writeFileSync(join(dir, name + ".headers"), `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 ${e.status} X\r\n` + Object.entries(e.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n");
  writeFileSync(join(dir, name + ".body"), e.body);
};
const conformance = (dir) => spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), "conformance.mjs"), docFile, dir], { env: { ...process.env, KPR_OPENAPI_KNOWN_DRIFT: knownFile }, encoding: "utf8" });
const { counts: _c, ...noCounts } = submission();
const runs = [
  ["an empty recording fails", [], 1, /no exchange was recorded/],
  ["a conforming exchange passes", [ex("GET", "/healthz", 200, { status: "ok", version: "0.1.0", test_mode: true })], 0, /1 passed, 0 failed/],
  ["a known drift is reported, not failed", [ex("GET", `/api/v1/submissions/${id}`, 200, { ...submission(), counts: 1 })], 0, /KNOWN DRIFT submission_get 200/],
  ["a new problem beside a known drift still fails", [ex("GET", `/api/v1/submissions/${id}`, 200, { ...submission(), counts: 1, status: "loaded" })], 1, /FAIL GET .*made by selftest/],
  ["a known drift that no longer happens fails (remove the entry)", [ex("GET", `/api/v1/submissions/${id}`, 200, submission())], 1, /known drift no longer seen/],
  ["an answer-less exchange (000) is skipped", [{ ...ex("GET", "/healthz", "000", ""), headers: {} }, ex("GET", "/healthz", 200, { status: "ok", version: "0.1.0", test_mode: true })], 0, /1 exchanges without an answer skipped/],
  ["a drifted recording fails and names the test", [ex("GET", `/api/v1/submissions/${id}`, 200, noCounts)], 1, /made by selftest \(selftest.mjs:1\)/],
];
runs.forEach(([what, exchanges, code, expect], i) => {
  const dir = join(tmp, `r${i}`);
  mkdirSync(dir, { recursive: true });
  exchanges.forEach((e, j) => record(dir, `x.${j}`, e));
  const r = conformance(dir);
  const out = (r.stdout || "") + (r.stderr || "");
  result(r.status === code && expect.test(out), `conformance.mjs: ${what}`, r.status === code && expect.test(out) ? "" : `exit ${r.status}: ${out.slice(0, 400)}`);
});
rmSync(tmp, { recursive: true, force: true });

console.log(`openapi selftest: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
