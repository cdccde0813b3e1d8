// Drives the dashboard in Debian's headless chromium with playwright-core
// (no browser download). Run by tests/integration/test_dashboard.sh, which
// sets up the data and passes:
//   KPR_URL, KPR_STAFF_TOKEN, KPR_ARTIFACTS, NODE_EXTRA_CA_CERTS (the dev CA),
//   DASH_ACCEPTED (a municipality with an accepted submission),
//   DASH_REJECTED (one with only a rejected submission), DASH_MUNI_TOKEN (any
//   municipality token, to see the page refuse it),
//   DASH_FEEDBACK_HTML (HTML feedback files from kprd, ':'-separated).
// Each view (sign-in, the dashboard with data, the per-municipality dialog)
// and each feedback file is checked against WCAG 2.1 A and AA with axe-core
// (tests/browser/package-lock.json): zero violations.
// Prints "ok"/"FAIL" lines and a closing "N passed, N failed"; exit 1 on failure.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setDefaultAutoSelectFamily } from 'node:net';
import { join } from 'node:path';

// localhost is ::1 and 127.0.0.1 on Debian, and kprd listens on IPv4: try
// each address in turn as curl and the browser do (Node 20's default; Debian
// 12's Node 18 would try ::1 alone and fail)
setDefaultAutoSelectFamily(true);

const URL0 = process.env.KPR_URL;
const TOKEN = process.env.KPR_STAFF_TOKEN;
const ART = process.env.KPR_ARTIFACTS || 'tests/artifacts';
const ACC = process.env.DASH_ACCEPTED;
const REJ = process.env.DASH_REJECTED;
const MUNI = process.env.DASH_MUNI_TOKEN;
const FEEDBACK = (process.env.DASH_FEEDBACK_HTML || '').split(':').filter(Boolean);
mkdirSync(ART, { recursive: true });

let passed = 0;
let failed = 0;
function check(desc, cond, detail) {
  if (cond) { passed++; console.log(`  ok   ${desc}`); }
  else { failed++; console.log(`  FAIL ${desc}${detail !== undefined ? ` (${detail})` : ''}`); }
}

// axe-core is evaluated through the DevTools protocol, which the page's
// Content-Security-Policy (no inline scripts) does not apply to
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG21AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// Checks the page as it is now; prints each violation with a few of its
// elements, and what axe could not decide (to be looked at by hand).
async function audit(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const r = await page.evaluate((tags) => window.axe.run(document,
    { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }), WCAG21AA);
  const v = r.violations;
  check(`WCAG 2.1 AA, ${what}: no violations (axe-core ${r.testEngine.version}, ${r.passes.length} rules pass)`,
    v.length === 0, v.map((x) => x.id).join(', '));
  for (const x of v) {
    console.log(`    ${x.id} (${x.impact}): ${x.help} [${x.nodes.length}×]`);
    for (const n of x.nodes.slice(0, 4)) console.log(`      ${n.target.join(' ')}`);
  }
  if (r.incomplete.length)
    console.log(`       axe could not decide: ${r.incomplete.map((x) => `${x.id} ×${x.nodes.length} (${x.nodes[0].target.join(' ')} …)`).join(', ')}`);
}

async function api(path) {
  const r = await fetch(URL0 + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return r.json();
}

const requests = [];
const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps'],
  timeout: 30000,
});
console.log(`  chromium ${browser.version()}, node ${process.version}`);
try {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, acceptDownloads: true, locale: 'nb-NO', timezoneId: 'Europe/Oslo',
    viewport: { width: 1440, height: 900 },
  });
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));

  // --- the page itself --------------------------------------------------------
  const resp = await page.goto(`${URL0}/`, { waitUntil: 'load' });
  check('GET / serves the page', resp.status() === 200, resp.status());
  const csp = resp.headers()['content-security-policy'] || '';
  check("Content-Security-Policy default-src 'self'", csp.includes("default-src 'self'"), csp);
  check('page title in Norwegian', (await page.title()).includes('fremdrift'));
  await page.locator('#login').waitFor({ state: 'visible' });
  check('sign-in form shown first', await page.locator('#token').isVisible());
  await page.screenshot({ path: join(ART, 'dashboard-login.png') });
  await audit(page, 'sign-in');

  // --- refused tokens ---------------------------------------------------------------
  await page.fill('#token', 'not-a-real-token-at-all');
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error').waitFor({ state: 'visible' });
  check('a wrong token is refused with a message',
    /ugyldig/i.test(await page.locator('#login-error').textContent()));
  // test_dashboard.sh always passes DASH_MUNI_TOKEN: without it this is a failure, not a skip
  if (MUNI) {
    await page.fill('#token', MUNI);
    await page.click('#login-form button[type=submit]');
    const refused = await page.waitForFunction(
      () => /saksbehandlere/.test(document.getElementById('login-error').textContent)).then(() => true, () => false);
    check('a municipality token is refused (staff only)', refused);
  } else {
    check('a municipality token is refused (staff only): DASH_MUNI_TOKEN not set', false);
  }
  check('nothing kept after a refused token',
    await page.evaluate(() => sessionStorage.getItem('kpr.staffToken')) === null);

  // --- sign in ------------------------------------------------------------------------
  await page.fill('#token', TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.locator('#dash').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.getElementById('n-expected').textContent !== '–');
  const progress = await api('/api/v1/progress');
  const t = progress.totals;
  const text = async (sel) => (await page.locator(sel).textContent()).trim();
  const n = (s) => Number(s.replace(/\s|\u00a0/g, ''));
  check('national progress: delivered count', n(await text('#n-delivered')) === t.accepted, `${await text('#n-delivered')} vs ${t.accepted}`);
  check('national progress: of 357', n(await text('#n-expected')) === 357);
  check('missing count', n(await text('#n-missing')) === t.missing);
  check('rejected-only count', n(await text('#n-rejected')) === t.rejected);
  check('with-errors count', n(await text('#n-with-errors')) === t.accepted_with_errors);
  check('one bar row per county', await page.locator('#fylker tbody tr').count() === progress.fylker.length);
  check('charts drawn as SVG', await page.locator('#chart-subs svg rect').count() >= 1);
  check('table lists all 357 municipalities', await page.locator('#kommuner tbody tr').count() === 357);
  check('token kept in sessionStorage only',
    await page.evaluate((tok) => sessionStorage.getItem('kpr.staffToken') === tok &&
      !JSON.stringify(localStorage).includes(tok) && !document.cookie.includes(tok) &&
      !document.documentElement.outerHTML.includes(tok), TOKEN));
  const accRow = page.locator(`#kommuner tr[data-kommune="${ACC}"]`);
  check('accepted municipality shown as delivered', (await accRow.getAttribute('data-state')) === 'accepted');
  await page.screenshot({ path: join(ART, 'dashboard.png'), fullPage: true });
  // every row in the page's flow while axe looks: rows outside the table's
  // scroll box would be "could not decide" for contrast, and the badges of
  // the few delivered or rejected municipalities are far down the list
  await page.evaluate(() => { const w = document.querySelector('.kommuner-wrap'); w.style.maxHeight = 'none'; w.style.overflow = 'visible'; });
  await audit(page, 'the dashboard with data');
  await page.evaluate(() => { const w = document.querySelector('.kommuner-wrap'); w.style.maxHeight = ''; w.style.overflow = ''; });
  // focus moved back into a row hidden under the table's sticky header
  // scrolls it into sight (WCAG 2.4.11; scroll-padding in app.css); sorted
  // from the end, so that the row can be scrolled to the top
  await page.click('#kommuner th[data-sort="kommunenummer"] button');
  const focusSeen = await page.evaluate(async (rej) => {
    const w = document.querySelector('.kommuner-wrap');
    w.scrollIntoView();
    const th = w.querySelector('thead th');
    const row = w.querySelector(`tr[data-kommune="${rej}"]`);
    w.scrollTop += row.getBoundingClientRect().top - th.getBoundingClientRect().top + 2;
    await new Promise((res) => requestAnimationFrame(res));
    row.querySelector('button[data-action="feedback"]').focus({ preventScroll: true });
    return th.getBoundingClientRect().bottom;
  }, REJ);
  await page.keyboard.press('Shift+Tab');
  const focused = await page.evaluate(() => [document.activeElement.dataset.action, document.activeElement.getBoundingClientRect().top]);
  check('a focused button is not hidden under the sticky table header',
    focused[0] === 'submissions' && focused[1] >= focusSeen, `${focused} vs ${focusSeen}`);
  await page.click('#kommuner th[data-sort="kommunenummer"] button');
  await page.evaluate(() => {
    document.activeElement.blur(); document.querySelector('.kommuner-wrap').scrollTop = 0; window.scrollTo(0, 0);
  });
  await page.screenshot({ path: join(ART, 'dashboard-top.png') });
  await page.evaluate(() => { document.getElementById('kommuner-title').scrollIntoView(); window.scrollBy(0, -16); });
  await page.screenshot({ path: join(ART, 'dashboard-table.png') });

  // --- filters, search, sort -------------------------------------------------------------
  await page.click('#filters button[data-filter="missing"]');
  let states = await page.locator('#kommuner tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.state));
  check('filter "Mangler" shows only missing ones', states.length === t.missing && states.every((s) => s === 'missing'), states.length);
  check(`filter "Mangler" hides ${ACC}`, await accRow.count() === 0);
  await page.click('#filters button[data-filter="rejected"]');
  states = await page.locator('#kommuner tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.state));
  check('filter "Kun avvist" shows the rejected-only ones', states.length === t.rejected && states.every((s) => s === 'rejected'));
  check(`filter "Kun avvist" shows ${REJ}`, await page.locator(`#kommuner tr[data-kommune="${REJ}"]`).count() === 1);
  await page.click('#filters button[data-filter="not_downloaded"]');
  const nd = progress.kommuner.filter((k) => k.feedback && k.feedback.downloads === 0).length;
  check('filter "Tilbakemelding ikke lastet ned"', await page.locator('#kommuner tbody tr').count() === nd);
  await page.click('#filters button[data-filter="all"]');
  const accName = progress.kommuner.find((k) => k.kommunenummer === ACC).navn;
  await page.fill('#search', accName.toUpperCase());
  const found = await page.locator('#kommuner tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.kommune));
  check(`search "${accName.toUpperCase()}" finds ${ACC}`, found.includes(ACC) && found.length <= 3, found.join(','));
  await page.screenshot({ path: join(ART, 'dashboard-search.png') });
  await page.fill('#search', '');
  await page.click('#kommuner th[data-sort="kommunenummer"] button');
  const first = await page.locator('#kommuner tbody tr').first().getAttribute('data-kommune');
  check('sort by kommune descending', first === progress.kommuner[progress.kommuner.length - 1].kommunenummer, first);
  check('sorted column marked with aria-sort',
    await page.locator('#kommuner th[data-sort="kommunenummer"]').getAttribute('aria-sort') === 'descending');
  await page.click('#kommuner th[data-sort="kommunenummer"] button');

  // --- downloads with the token (fetch + Blob) ------------------------------------------
  let [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.click(`#kommuner tr[data-kommune="${ACC}"] button[data-action="feedback"]`),
  ]);
  check('feedback download named for the municipality',
    new RegExp(`^kpr-tilbakemelding-${ACC}-2025-[0-9a-f]{8}\\.html$`).test(dl.suggestedFilename()), dl.suggestedFilename());
  const fbPath = join(ART, 'dashboard-feedback.html');
  await dl.saveAs(fbPath);
  check('feedback file is the HTML feedback', /<html/i.test(readFileSync(fbPath, 'utf8')));

  await page.click(`#kommuner tr[data-kommune="${ACC}"] button[data-action="submissions"]`);
  await page.locator('#detail[open] #detail-table tbody tr').first().waitFor();
  check('submissions dialog lists the submission', await page.locator('#detail-table tbody tr').count() >= 1);
  await page.screenshot({ path: join(ART, 'dashboard-detail.png') });
  await audit(page, 'the submissions dialog');
  [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#detail-table tbody tr').first().locator('button[data-format="csv"]').click(),
  ]);
  const csvPath = join(ART, 'dashboard-feedback.csv');
  await dl.saveAs(csvPath);
  const csv = readFileSync(csvPath);
  check('CSV feedback from the dialog (BOM and header)',
    csv[0] === 0xef && csv.toString('utf8').includes('regel;alvorlighet;ref;linje;element;melding;verdi'));
  [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#detail-table tbody tr').first().locator('button[data-format="xlsx"]').click(),
  ]);
  const xlsxPath = join(ART, 'dashboard-feedback.xlsx');
  await dl.saveAs(xlsxPath);
  const xlsx = readFileSync(xlsxPath);
  check('Excel workbook from the dialog (a zip named .xlsx)',
    xlsx[0] === 0x50 && xlsx[1] === 0x4b && dl.suggestedFilename().endsWith('.xlsx'), dl.suggestedFilename());
  await page.click('#detail-close');

  // --- the HTML feedback kprd writes ------------------------------------------------------------
  check('feedback files to check (DASH_FEEDBACK_HTML)', FEEDBACK.length > 0);
  const fbPage = await context.newPage();
  for (const f of FEEDBACK) {
    await fbPage.goto(`file://${f}`, { waitUntil: 'load' });
    await audit(fbPage, `feedback ${f.split('/').pop()}`);
  }
  await fbPage.close();

  [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-missing')]);
  check('reminder list export', dl.suggestedFilename() === 'kpr-purreliste-2025.csv', dl.suggestedFilename());
  const mPath = join(ART, 'dashboard-purreliste.csv');
  await dl.saveAs(mPath);
  const lines = readFileSync(mPath, 'utf8').replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
  check('reminder list has a row per missing municipality', lines.length - 1 === t.missing, lines.length - 1);

  // --- refresh and sign out -------------------------------------------------------------------
  const again = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/api/v1/progress'), { timeout: 5000 }),
    page.click('#refresh'),
  ]).then(() => true, () => false);
  check('"Oppdater nå" fetches the progress again', again);
  await page.click('#logout');
  await page.locator('#login').waitFor({ state: 'visible' });
  check('sign out forgets the token', await page.evaluate(() => sessionStorage.getItem('kpr.staffToken')) === null);

  // --- what left the page ---------------------------------------------------------------------
  const outside = requests.filter((u) => {
    const url = new URL(u);
    // the feedback files themselves, and nothing they would load
    if (url.protocol === 'file:') return !FEEDBACK.includes(decodeURIComponent(url.pathname));
    return !(url.protocol === 'blob:' || url.protocol === 'data:' ||
      ['localhost', '127.0.0.1'].includes(url.hostname));
  });
  check(`no request outside localhost (${requests.length} requests)`, outside.length === 0, outside.join(' '));
  check('the token never appears in a URL', !requests.some((u) => u.includes(TOKEN)));
  const real = problems.filter((p) => !/status of 40[13]/.test(p)); // the refused sign-ins
  check('no script errors or CSP violations', real.length === 0, real.join(' | '));
} catch (e) {
  check(`browser run completed: ${e.message.split('\n')[0]}`, false);
  for (const p of problems) console.log(`    ${p}`);
  for (const pg of browser.contexts().flatMap((c) => c.pages())) {
    await pg.screenshot({ path: join(ART, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
