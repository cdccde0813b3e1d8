// The checks behind tests/openapi/run: the OpenAPI document against the
// OpenAPI 3.1 schema, strict JSON Schema 2020-12, the server's route table
// and error registry (lint), and recorded HTTP exchanges against the
// document (conformance). Plain Node.js (18 and later), no build step.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse as parseYaml } from "yaml";
import { Validator } from "@seriousme/openapi-schema-validator";

const addFormats = addFormatsModule.default || addFormatsModule;
export const DOC_ID = "urn:kpr:openapi";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
// OpenAPI's own annotations inside schema objects, unknown to plain JSON Schema
const OAS_SCHEMA_KEYWORDS = ["discriminator", "xml", "externalDocs", "example"];

export function loadDoc(file) {
  return parseYaml(readFileSync(file, "utf8"));
}

// --- JSON pointers -------------------------------------------------------------
const escSeg = (s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1");
const unescSeg = (s) => s.replace(/~1/g, "/").replace(/~0/g, "~");
export const ptr = (...segs) => segs.map((s) => "/" + escSeg(s)).join("");
function get(doc, pointer) {
  let o = doc;
  for (const seg of pointer.split("/").slice(1)) {
    if (o === null || typeof o !== "object") return undefined;
    o = o[unescSeg(seg)];
  }
  return o;
}
// follows an OpenAPI-level $ref (responses, headers, parameters); returns the
// object and its pointer in the document
export function deref(doc, obj, pointer) {
  const seen = new Set();
  while (obj && typeof obj === "object" && typeof obj.$ref === "string") {
    if (!obj.$ref.startsWith("#/") || seen.has(obj.$ref)) throw new Error(`cannot resolve $ref ${obj.$ref}`);
    seen.add(obj.$ref);
    pointer = obj.$ref.slice(1);
    obj = get(doc, pointer);
    if (obj === undefined) throw new Error(`$ref ${pointer} points nowhere`);
  }
  return { obj, pointer };
}
// a pointer as a URI fragment ajv understands
const fragment = (pointer) => "#" + pointer.split("/").map(encodeURIComponent).join("/");

export function operations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) if (item[m]) out.push({ path, method: m, op: item[m], pointer: ptr("paths", path, m) });
  return out;
}

// --- ajv -------------------------------------------------------------------------
function newAjv(strict) {
  const ajv = new Ajv2020({
    strict,
    strictTypes: false, // allOf + properties without "type" is plain 2020-12
    allErrors: true,
    allowUnionTypes: true,
  });
  addFormats(ajv);
  for (const k of OAS_SCHEMA_KEYWORDS) ajv.addKeyword({ keyword: k });
  return ajv;
}
// every x-* key used inside the document's schemas, so strict mode knows them
function extensionKeywords(doc) {
  const found = new Set();
  const walk = (o) => {
    if (Array.isArray(o)) return o.forEach(walk);
    if (!o || typeof o !== "object") return;
    for (const [k, v] of Object.entries(o)) {
      if (k.startsWith("x-")) found.add(k);
      walk(v);
    }
  };
  walk(doc.components?.schemas);
  return [...found];
}
export function docAjv(doc, strict = false) {
  const ajv = newAjv(strict);
  for (const k of extensionKeywords(doc)) ajv.addKeyword({ keyword: k });
  // the whole document is one resource: schemas are compiled by pointer, so
  // "#/components/schemas/X" resolves against the document root
  const root = { ...doc, $id: DOC_ID };
  if (strict) {
    for (const k of Object.keys(doc)) if (!/^\$/.test(k)) ajv.addKeyword({ keyword: k });
  }
  ajv.addSchema(root);
  return ajv;
}
export function schemaValidator(ajv, pointer) {
  const v = ajv.getSchema(DOC_ID + fragment(pointer));
  if (!v) throw new Error(`no schema at ${pointer}`);
  return v;
}
export function ajvErrors(errors) {
  return (errors || []).slice(0, 8).map((e) => `${e.instancePath || "(root)"} ${e.message}${e.params && Object.keys(e.params).length ? " " + JSON.stringify(e.params) : ""}`);
}

// every schema object in the document, by pointer
function schemaPointers(doc) {
  const out = [];
  for (const name of Object.keys(doc.components?.schemas || {})) out.push(ptr("components", "schemas", name));
  const walk = (o, p) => {
    if (Array.isArray(o)) return o.forEach((v, i) => walk(v, p + "/" + i));
    if (!o || typeof o !== "object") return;
    for (const [k, v] of Object.entries(o)) {
      const q = p + "/" + escSeg(k);
      if (k === "schema" && v && typeof v === "object") out.push(q);
      else walk(v, q);
    }
  };
  walk(doc.paths, "/paths");
  for (const part of ["responses", "headers", "parameters", "requestBodies"]) walk(doc.components?.[part], ptr("components", part));
  return out;
}

// --- lint ----------------------------------------------------------------------
// Server sources the document must agree with: the route table and the error registry.
export function parseRoutes(src) {
  const re = /\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*HTTP_AUTH_(\w+)\s*,\s*"(\w+)"\s*\}/g;
  const routes = [];
  for (const m of src.matchAll(re)) routes.push({ method: m[1].toLowerCase(), pattern: m[2], handler: m[3], auth: m[4].toLowerCase(), name: m[5] });
  return routes;
}
export function parseErrors(src) {
  const re = /\[\s*(KPR_E_\w+)\s*\]\s*=\s*\{\s*KPR_E_\w+\s*,\s*"(\w+)"\s*,\s*(\d+)\s*,/g;
  return [...src.matchAll(re)].map((m) => ({ id: m[1], code: m[2], status: Number(m[3]) }));
}

export async function lint(doc, { routesSrc, errorsSrc }) {
  const problems = [];
  // 1. the OpenAPI 3.1 schema, and every internal $ref resolves
  const res = await new Validator().validate(structuredClone(doc));
  if (!res.valid) {
    const errs = Array.isArray(res.errors) ? res.errors.slice(0, 10).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`) : [String(res.errors)];
    problems.push(...errs.map((e) => `not a valid OpenAPI 3.1 document: ${e}`));
  }
  if (doc.openapi !== "3.1.0" && !/^3\.1\./.test(doc.openapi || "")) problems.push(`openapi: expected 3.1.x, got ${doc.openapi}`);
  // 2. every schema compiles in strict JSON Schema 2020-12 (typos in keywords, bad regexes, unknown formats)
  let ajv;
  try {
    ajv = docAjv(doc, true);
  } catch (e) {
    problems.push(`the document cannot be loaded as JSON Schema: ${e.message}`);
  }
  if (ajv)
    for (const p of schemaPointers(doc)) {
      try {
        schemaValidator(ajv, p);
      } catch (e) {
        problems.push(`schema at ${p}: ${e.message}`);
      }
    }
  // 3. the route table: every route documented, nothing else, same name and auth
  const routes = parseRoutes(routesSrc);
  if (routes.length === 0) problems.push("no routes found in server/src/api/routes.c (has its format changed?)");
  const norm = (p) => p.replace(/\{[^}]*\}/g, "{}");
  const ops = operations(doc);
  for (const r of routes) {
    const o = ops.find((x) => x.method === r.method && norm(x.path) === r.pattern);
    if (!o) {
      problems.push(`route ${r.method.toUpperCase()} ${r.pattern} (${r.name}) is not in the document`);
      continue;
    }
    if (o.op.operationId !== r.name) problems.push(`${r.method.toUpperCase()} ${o.path}: operationId ${o.op.operationId}, the route is named ${r.name}`);
    if (o.op["x-kpr-auth"] !== r.auth) problems.push(`${r.method.toUpperCase()} ${o.path}: x-kpr-auth ${o.op["x-kpr-auth"]}, the route needs ${r.auth}`);
    const sec = o.op.security ?? doc.security ?? [];
    const bearer = sec.some((s) => s && "bearer" in s);
    if ((r.auth === "none") === bearer) problems.push(`${r.method.toUpperCase()} ${o.path}: security ${JSON.stringify(sec)} does not fit auth ${r.auth}`);
    if (r.auth !== "none" && !o.op.responses?.["401"]) problems.push(`${r.method.toUpperCase()} ${o.path}: needs a token but documents no 401`);
    if (r.auth !== "none" && !o.op.responses?.["503"]) problems.push(`${r.method.toUpperCase()} ${o.path}: needs a token but documents no 503 (tokens_not_loaded)`);
  }
  for (const o of ops)
    if (!routes.some((r) => r.method === o.method && r.pattern === norm(o.path))) problems.push(`${o.method.toUpperCase()} ${o.path} is documented but not in the route table`);
  // 4. the error registry: the same codes, each with its status, and each
  //    per-status error schema listing exactly the codes of that status
  const reg = parseErrors(errorsSrc);
  const ec = doc.components?.schemas?.ErrorCode || {};
  if (reg.length === 0) problems.push("no error codes found in server/src/core/errors.c (has its format changed?)");
  const docCodes = ec.enum || [];
  if (JSON.stringify(docCodes) !== JSON.stringify(reg.map((e) => e.code)))
    problems.push(`ErrorCode.enum ${JSON.stringify(docCodes)} differs from the registry ${JSON.stringify(reg.map((e) => e.code))}`);
  const map = ec["x-kpr-http-status"] || {};
  for (const e of reg) if (map[e.code] !== e.status) problems.push(`ErrorCode x-kpr-http-status.${e.code} is ${map[e.code]}, the registry says ${e.status}`);
  for (const k of Object.keys(map)) if (!reg.some((e) => e.code === k)) problems.push(`ErrorCode x-kpr-http-status.${k}: no such code in the registry`);
  const statuses = [...new Set(reg.map((e) => e.status))];
  for (const s of statuses) {
    const sch = doc.components?.schemas?.[`Error${s}`];
    const want = reg.filter((e) => e.status === s).map((e) => e.code).sort();
    const got = [...(sch?.properties?.code?.enum || [])].sort();
    if (!sch) problems.push(`no schema Error${s} for the registry's status ${s}`);
    else if (JSON.stringify(want) !== JSON.stringify(got)) problems.push(`Error${s}.code lists ${JSON.stringify(got)}, the registry's ${s} codes are ${JSON.stringify(want)}`);
  }
  // 5. every response: X-Request-Id required; an ErrorNNN body only under status NNN
  for (const o of ops)
    for (const [status, r0] of Object.entries(o.op.responses || {})) {
      const where = `${o.method.toUpperCase()} ${o.path} ${status}`;
      let r;
      try {
        r = deref(doc, r0, o.pointer + ptr("responses", status)).obj;
      } catch (e) {
        problems.push(`${where}: ${e.message}`);
        continue;
      }
      let h;
      try {
        h = r.headers?.["X-Request-Id"] && deref(doc, r.headers["X-Request-Id"], "").obj;
      } catch (e) {
        problems.push(`${where}: ${e.message}`);
      }
      if (!h || h.required !== true) problems.push(`${where}: X-Request-Id is not a required header`);
      for (const ref of JSON.stringify(r.content || {}).matchAll(/#\/components\/schemas\/Error(\d{3})\b/g))
        if (ref[1] !== status) problems.push(`${where}: body schema Error${ref[1]} under status ${status}`);
    }
  return problems;
}

// --- conformance of one recorded exchange ----------------------------------------
// Parses curl -D output: the last header block (after any 100 Continue).
export function parseHeaders(raw) {
  const blocks = raw.replace(/\r/g, "").split(/\n\n+/).filter((b) => /^HTTP\//.test(b));
  const last = blocks.length ? blocks[blocks.length - 1] : "";
  const headers = {};
  for (const line of last.split("\n").slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    if (!(k in headers)) headers[k] = line.slice(i + 1).trim();
  }
  return headers;
}
const normType = (t) => t.toLowerCase().split(";").map((s) => s.trim().replace(/\s*=\s*/, "=")).filter(Boolean).join("; ");
const isJson = (t) => /^application\/([a-z0-9.+-]*\+)?json$/.test(t.split(";")[0].trim().toLowerCase());

function matchPath(doc, path) {
  let best = null;
  for (const tpl of Object.keys(doc.paths || {})) {
    const re = new RegExp("^" + tpl.split(/(\{[^}]+\})/).map((s) => (/^\{.+\}$/.test(s) ? "([^/]+)" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("") + "$");
    if (!re.test(path)) continue;
    const params = (tpl.match(/\{/g) || []).length;
    if (!best || params < best.params) best = { tpl, params };
  }
  return best && best.tpl;
}

function headerValue(schema, raw) {
  if (schema && (schema.type === "integer" || schema.type === "number")) return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  return raw;
}

// ex: {method, path (with query), status, headers (object, lower-case keys), body (string)}
// returns {key: "operationId status" or a generic label, problems: [...]}
export function checkExchange(doc, ajv, ex) {
  const problems = [];
  const path = ex.path.split("?")[0];
  const method = ex.method.toLowerCase();
  const status = String(ex.status);
  const tpl = matchPath(doc, path);
  const item = tpl && doc.paths[tpl];
  const op = item && (item[method] || (method === "head" ? item.get : undefined));
  // generic answers the document describes in its conventions: an unlisted
  // path is 404 not_found, an unlisted method on a listed path 405
  if (!op) {
    const want = !tpl ? { status: "404", schema: "Error404", what: "a path not in the document" } : { status: "405", schema: "Error405", what: `a method not documented for ${tpl}` };
    if (status !== want.status) problems.push(`${want.what} answered ${status}: undocumented (only ${want.status} is)`);
    else checkBody(doc, ajv, ex, ptr("components", "responses", want.status === "404" ? "NotFound" : "MethodNotAllowed"), problems);
    return { key: `(${want.status} for ${want.what.replace(/ for .*/, "")})`, problems, mediaType: ex.headers["content-type"] };
  }
  const opPointer = ptr("paths", tpl, item[method] ? method : "get");
  const responses = op.responses || {};
  const rkey = status in responses ? status : `${status[0]}XX` in responses ? `${status[0]}XX` : "default" in responses ? "default" : null;
  const key = `${op.operationId} ${status}`;
  if (!rkey) {
    problems.push(`status ${status} is not documented for ${method.toUpperCase()} ${tpl}`);
    return { key, problems };
  }
  const mediaType = checkBody(doc, ajv, ex, opPointer + ptr("responses", rkey), problems);
  return { key, problems, mediaType };
}

// returns the documented media type the answer matched, if any
function checkBody(doc, ajv, ex, responsePointer, problems) {
  const { obj: resp, pointer } = deref(doc, get(doc, responsePointer), responsePointer);
  const h = ex.headers;
  for (const [name, h0] of Object.entries(resp.headers || {})) {
    const { obj: hdr, pointer: hp } = deref(doc, h0, pointer + ptr("headers", name));
    const v = h[name.toLowerCase()];
    if (v === undefined) {
      if (hdr.required) problems.push(`header ${name} missing`);
      continue;
    }
    if (hdr.schema) {
      const val = schemaValidator(ajv, hp + "/schema");
      if (!val(headerValue(hdr.schema, v))) problems.push(`header ${name}: ${JSON.stringify(v)}: ${ajvErrors(val.errors).join("; ")}`);
    }
  }
  const content = resp.content;
  if (!content) {
    if (ex.body.length) problems.push(`a body (${ex.body.length} bytes) where the document says none`);
    return;
  }
  if (ex.method.toUpperCase() === "HEAD") return;
  const ct = h["content-type"];
  if (!ct) {
    problems.push(`no Content-Type; documented: ${Object.keys(content).join(", ")}`);
    return;
  }
  const n = normType(ct);
  let mt = Object.keys(content).find((k) => normType(k) === n);
  if (!mt) mt = Object.keys(content).find((k) => !k.includes(";") && normType(k) === n.split(";")[0]);
  if (!mt) {
    problems.push(`Content-Type ${ct} is not documented (documented: ${Object.keys(content).join(", ")})`);
    return;
  }
  if (!isJson(mt) || !content[mt].schema) return mt;
  let body;
  try {
    body = JSON.parse(ex.body);
  } catch (e) {
    problems.push(`body is not JSON: ${e.message}`);
    return mt;
  }
  const val = schemaValidator(ajv, pointer + ptr("content", mt, "schema"));
  if (!val(body)) problems.push(...ajvErrors(val.errors).map((e) => `body: ${e}`));
  return mt;
}
