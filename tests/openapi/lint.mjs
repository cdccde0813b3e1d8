// Lints docs/openapi.yaml: a valid OpenAPI 3.1 document (the OpenAPI
// Initiative's schema, via @seriousme/openapi-schema-validator, and every
// internal $ref resolving), every schema valid in strict JSON Schema 2020-12,
// and in agreement with the server: the route table (server/src/api/routes.c)
// and the error registry (server/src/core/errors.c).
// Usage: node lint.mjs ROOT
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadDoc, lint } from "./lib.mjs";

const root = process.argv[2] || ".";
const doc = loadDoc(join(root, "docs/openapi.yaml"));
const problems = await lint(doc, {
  routesSrc: readFileSync(join(root, "server/src/api/routes.c"), "utf8"),
  errorsSrc: readFileSync(join(root, "server/src/core/errors.c"), "utf8"),
});
for (const p of problems) console.log(`  FAIL ${p}`);
console.log(`openapi lint: ${problems.length ? 0 : 1} passed, ${problems.length} failed`);
process.exit(problems.length ? 1 : 0);
