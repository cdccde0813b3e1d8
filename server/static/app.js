/*
 * KPR intake dashboard (SPEC §7). Plain JavaScript, no dependencies, nothing
 * fetched from anywhere but this server.
 * The staff token lives in sessionStorage only (this tab), is sent as an
 * Authorization header and never put in a URL, the DOM or a log. Files
 * (feedback, the reminder list) are fetched with the header and saved from a
 * Blob, since a plain link cannot carry a bearer token.
 * Every value from the API reaches the page through textContent, never HTML.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'kpr.staffToken';
  const REFRESH_MS = 30000;

  const STATE_LABEL = {
    accepted: 'Levert',
    in_progress: 'Under behandling',
    attention: 'Trenger oppfølging',
    rejected: 'Kun avvist',
    missing: 'Mangler',
  };
  const STATUS_LABEL = {
    received: 'Mottatt',
    processing: 'Under behandling',
    accepted: 'Godkjent',
    accepted_with_errors: 'Godkjent med feil',
    rejected: 'Avvist',
    superseded: 'Erstattet',
    validated: 'Prøvekontroll',
    failed: 'Feilet hos registeret',
  };
  const FILTERS = [
    { id: 'all', label: 'Alle', test: () => true },
    { id: 'missing', label: 'Mangler', test: (k) => k.state === 'missing' },
    { id: 'attention', label: 'Trenger oppfølging', test: (k) => k.needs_attention },
    { id: 'rejected', label: 'Kun avvist', test: (k) => k.state === 'rejected' },
    { id: 'errors', label: 'Med feil', test: (k) => hasErrors(k) },
    { id: 'not_downloaded', label: 'Tilbakemelding ikke lastet ned',
      test: (k) => k.feedback !== null && k.feedback.downloads === 0 },
    { id: 'in_progress', label: 'Under behandling', test: (k) => k.state === 'in_progress' },
  ];
  const STATE_ORDER = { missing: 0, attention: 1, rejected: 2, in_progress: 3, accepted: 4 };

  const ui = {
    filter: 'all',
    search: '',
    sortKey: 'kommunenummer',
    sortDir: 1,
    aargang: null,
    data: null,
    timer: null,
    loading: false,
  };

  const $ = (id) => document.getElementById(id);

  /* ---------- small helpers ---------- */

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') el.setAttribute('class', v);
      else el.setAttribute(k, String(v));
    }
    for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }

  const nf = new Intl.NumberFormat('nb-NO');
  const pf = new Intl.NumberFormat('nb-NO', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const dtf = new Intl.DateTimeFormat('nb-NO', {
    timeZone: 'Europe/Oslo', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
  const tf = new Intl.DateTimeFormat('nb-NO', {
    timeZone: 'Europe/Oslo', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const num = (n) => (n === null || n === undefined ? '–' : nf.format(n));
  /* Timestamps come as ISO 8601; PostgreSQL's "+00" offset is made "+00:00"
   * (Date.parse wants minutes), and anything unparsable is shown as it came. */
  function when(iso) {
    if (!iso) return '–';
    const d = new Date(String(iso).replace(/([+-]\d\d)$/, '$1:00'));
    return Number.isNaN(d.getTime()) ? String(iso) : dtf.format(d);
  }
  const dayLabel = (d) => `${d.slice(8, 10)}.${d.slice(5, 7)}.`;
  const hasErrors = (k) => k.current !== null && (k.current.status === 'accepted_with_errors' || k.current.errors > 0);

  /* "Troms - Romsa - Tromssa": the bokmål name; callers put every name in a tooltip */
  const shortName = (navn) => navn.split(' - ')[0];

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  /* ---------- the API ---------- */

  class AuthError extends Error {}

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  async function api(path, accept) {
    const res = await fetch(path, {
      headers: { Authorization: `Bearer ${token()}`, Accept: accept || 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    if (res.status === 401) throw new AuthError('Nøkkelen er ugyldig, utløpt eller trukket tilbake.');
    if (res.status === 403) throw new AuthError('Nøkkelen gir ikke tilgang til oversikten (bare saksbehandlere).');
    if (!res.ok) {
      let msg = `Tjeneren svarte ${res.status}.`;
      try {
        const body = await res.json();
        if (body && body.message) msg = `${body.message} (${res.status})`;
      } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return res;
  }

  /* Saves a file the API serves, with the name from Content-Disposition. */
  async function download(path, fallbackName) {
    const res = await api(path, '*/*');
    const blob = await res.blob();
    const cd = res.headers.get('Content-Disposition') || '';
    const m = /filename="?([^";]+)"?/.exec(cd);
    const name = m ? m[1] : fallbackName;
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, class: 'visually-hidden' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function reportError(err) {
    if (err instanceof AuthError) {
      signOut(err.message);
      return;
    }
    const b = $('banner');
    b.textContent = `Kunne ikke hente data: ${err.message} Viser sist hentede tall.`;
    b.hidden = false;
  }

  /* ---------- sign in / out ---------- */

  function showLogin(message) {
    $('dash').hidden = true;
    $('session').hidden = true;
    $('login').hidden = false;
    const e = $('login-error');
    e.textContent = message || '';
    e.hidden = !message;
    $('token').value = '';
    $('token').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (ui.timer) clearInterval(ui.timer);
    ui.timer = null;
    ui.data = null;
    showLogin(message);
  }

  async function signIn(ev) {
    ev.preventDefault();
    const t = $('token').value.trim();
    if (!/^[A-Za-z0-9._~+/=-]{8,512}$/.test(t)) {
      showLogin('Lim inn hele nøkkelen.');
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, t);
    $('token').value = '';
    await start();
  }

  async function start() {
    try {
      await load();
    } catch (err) {
      if (err instanceof AuthError) signOut(err.message);
      else showLogin(`Kunne ikke hente data: ${err.message}`);
      return;
    }
    $('login').hidden = true;
    $('dash').hidden = false;
    $('session').hidden = false;
    if (ui.timer) clearInterval(ui.timer);
    ui.timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, REFRESH_MS);
  }

  async function load() {
    const q = ui.aargang ? `?aargang=${encodeURIComponent(ui.aargang)}` : '';
    ui.loading = true;
    try {
      const res = await api(`/api/v1/progress${q}`);
      const data = await res.json();
      ui.data = data;
      if (!ui.aargang) ui.aargang = data.aargang;
      render();
      $('banner').hidden = true;
      $('updated').textContent = `Oppdatert kl. ${tf.format(new Date())}`;
    } finally {
      ui.loading = false;
    }
  }

  async function refresh() {
    if (ui.loading || !token()) return;
    try {
      await load();
    } catch (err) {
      reportError(err);
    }
  }

  /* ---------- rendering ---------- */

  function render() {
    const d = ui.data;
    renderYears(d.aargang);
    renderSummary(d);
    renderFylker(d.fylker);
    renderBars($('chart-subs'), d.submissions_per_day, 'bar', 'innsendinger', 'Ingen innsendinger ennå.');
    renderBars($('chart-dl'), d.downloads_per_day, 'bar-dl', 'nedlastinger', 'Ingen nedlastinger ennå.');
    renderFilters();
    renderTable();
  }

  function renderYears(y) {
    const sel = $('aargang');
    if (sel.options.length === 0) {
      for (let v = y; v >= y - 3; v--) sel.append(h('option', { value: v, text: String(v) }));
    }
    sel.value = String(ui.aargang);
    $('aargang-label').textContent = String(y);
  }

  function segments(c) {
    const ok = c.accepted - c.accepted_with_errors;
    return [
      { cls: 'seg-accepted', n: ok, label: 'Levert uten feil' },
      { cls: 'seg-errors', n: c.accepted_with_errors, label: 'Levert med feil' },
      { cls: 'seg-progress', n: c.in_progress, label: 'Under behandling' },
      { cls: 'seg-attention', n: c.attention, label: 'Trenger oppfølging' },
      { cls: 'seg-rejected', n: c.rejected, label: 'Kun avvist' },
    ];
  }

  function fillStackbar(el, c) {
    clear(el);
    for (const sg of segments(c)) {
      if (!sg.n) continue;
      const seg = h('span', { class: `seg ${sg.cls}`, title: `${sg.label}: ${sg.n}` });
      seg.style.width = `${(100 * sg.n) / c.expected}%`;
      el.append(seg);
    }
    el.setAttribute('aria-label',
      `${c.accepted} av ${c.expected} levert, ${c.in_progress} under behandling, ${c.attention} trenger oppfølging, ${c.rejected} kun avvist, ${c.missing} mangler`);
  }

  function renderSummary(d) {
    const t = d.totals;
    $('n-delivered').textContent = num(t.accepted);
    $('n-expected').textContent = num(t.expected);
    $('n-accepted').textContent = num(t.accepted);
    $('n-with-errors').textContent = num(t.accepted_with_errors);
    $('n-in-progress').textContent = num(t.in_progress);
    $('n-rejected').textContent = num(t.rejected);
    $('n-attention').textContent = num(t.attention);
    $('n-missing').textContent = num(t.missing);
    fillStackbar($('national-bar'), t);
    const legend = $('legend');
    clear(legend);
    for (const sg of segments(t)) {
      legend.append(h('li', {}, h('span', { class: `swatch ${sg.cls}`, 'aria-hidden': 'true' }), `${sg.label} (${num(sg.n)})`));
    }
    legend.append(h('li', {}, h('span', { class: 'swatch swatch-missing', 'aria-hidden': 'true' }), `Mangler (${num(t.missing)})`));

    const q = d.queue;
    const tp = d.throughput;
    $('queue-depth').textContent = num(q.depth);
    $('queue-detail').textContent = q.depth
      ? `jobber i kø (${num(q.running)} under arbeid, eldste ${Math.round(q.oldest_seconds)} s)`
      : 'jobber i kø – køen er tom';
    const rate = (x) => new Intl.NumberFormat('nb-NO', { maximumFractionDigits: x < 10 ? 1 : 0 }).format(x);
    const thr = $('throughput');
    clear(thr);
    thr.append(`${rate(tp.registrations_per_second_last_10_minutes)} registreringer/s siste 10 min`,
      h('br'), `${rate(tp.registrations_per_second_last_hour)} registreringer/s siste time`);
  }

  function renderFylker(fylker) {
    const tbody = $('fylker').tBodies[0];
    clear(tbody);
    for (const f of fylker) {
      const bar = h('div', { class: 'stackbar', role: 'img' });
      fillStackbar(bar, f);
      tbody.append(h('tr', { 'data-fylke': f.fylkesnummer },
        h('td', { class: 'fylke-navn', title: f.navn }, shortName(f.navn)),
        h('td', { class: 'bar-col' }, bar),
        h('td', { class: 'num-col' }, `${f.accepted}/${f.expected}`),
        h('td', { class: 'num-col' }, num(f.rejected)),
        h('td', { class: 'num-col' }, num(f.missing))));
    }
  }

  /* A bar chart of [{date, count}] as SVG: y axis with a few round ticks,
   * dates thinned to fit; every bar has a tooltip. */
  function renderBars(container, series, barClass, noun, emptyText) {
    clear(container);
    const total = series.reduce((a, p) => a + p.count, 0);
    if (series.length === 0 || total === 0) {
      container.append(h('p', { class: 'empty', text: emptyText }));
      return;
    }
    const W = 640, H = 190, L = 38, R = 8, T = 10, B = 28;
    const max = Math.max(...series.map((p) => p.count));
    const step = niceStep(max);
    const top = Math.max(step, Math.ceil(max / step) * step);
    const pw = W - L - R, ph = H - T - B;
    const bw = pw / series.length;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-label': `${noun} per dag: ${nf.format(total)} i alt over ${series.length} dager, flest ${nf.format(max)} på én dag` });
    for (let v = 0; v <= top; v += step) {
      const y = T + ph - (v / top) * ph;
      svg.append(s('line', { class: 'grid', x1: L, x2: W - R, y1: y, y2: y }));
      svg.append(s('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, nf.format(v)));
    }
    const every = Math.max(1, Math.ceil(series.length / 10));
    series.forEach((p, i) => {
      const bh = (p.count / top) * ph;
      const x = L + i * bw;
      const w = Math.max(1, Math.min(bw * 0.76, 36));
      const bar = s('rect', { class: barClass, x: x + (bw - w) / 2, y: T + ph - bh, width: w, height: bh });
      bar.append(s('title', {}, `${dayLabel(p.date)}${p.date.slice(0, 4)}: ${nf.format(p.count)} ${noun}`));
      svg.append(bar);
      if (i % every === 0)
        svg.append(s('text', { x: x + bw / 2, y: H - 9, 'text-anchor': 'middle' }, dayLabel(p.date)));
    });
    svg.append(s('line', { class: 'axis', x1: L, x2: W - R, y1: T + ph, y2: T + ph }));
    container.append(svg);
  }

  function niceStep(max) {
    if (max <= 5) return 1;
    const raw = max / 4;
    const mag = 10 ** Math.floor(Math.log10(raw));
    for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
    return 10 * mag;
  }

  function renderFilters() {
    const fs = $('filters');
    const rows = ui.data.kommuner;
    const existing = fs.querySelectorAll('button');
    if (existing.length === 0) {
      for (const f of FILTERS) {
        fs.append(h('button', {
          type: 'button', 'data-filter': f.id, 'aria-pressed': String(ui.filter === f.id),
          onclick: () => { ui.filter = f.id; renderFilters(); renderTable(); },
        }, f.label, h('span', { class: 'count' })));
      }
    }
    for (const b of fs.querySelectorAll('button')) {
      const f = FILTERS.find((x) => x.id === b.dataset.filter);
      b.setAttribute('aria-pressed', String(ui.filter === f.id));
      b.querySelector('.count').textContent = `(${rows.filter(f.test).length})`;
    }
  }

  function sortValue(k, key) {
    switch (key) {
      case 'kommunenummer': return k.kommunenummer;
      case 'fylke': return `${k.fylkesnummer} ${k.kommunenummer}`;
      case 'state': return STATE_ORDER[k.state] * 10 + (hasErrors(k) ? 0 : 1);
      case 'submissions': return k.submissions;
      case 'latest': return k.latest ? k.latest.received_at : '';
      case 'persons': return k.current ? k.current.persons : -1;
      case 'error_rate': return k.current && k.current.error_rate !== null ? k.current.error_rate : -1;
      case 'feedback': return k.feedback ? (k.feedback.last_download || '0') : '';
      default: return '';
    }
  }

  function norm(t) {
    return t.toLocaleLowerCase('nb-NO').normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  }

  function visibleRows() {
    const f = FILTERS.find((x) => x.id === ui.filter);
    const q = norm(ui.search.trim());
    const rows = ui.data.kommuner.filter((k) => f.test(k) &&
      (!q || norm(`${k.kommunenummer} ${k.navn} ${k.fylke}`).includes(q)));
    rows.sort((a, b) => {
      const va = sortValue(a, ui.sortKey), vb = sortValue(b, ui.sortKey);
      const c = va < vb ? -1 : va > vb ? 1 : 0;
      return c !== 0 ? c * ui.sortDir : a.kommunenummer.localeCompare(b.kommunenummer);
    });
    return rows;
  }

  function stateBadge(k) {
    const main = k.state === 'accepted' && hasErrors(k)
      ? h('span', { class: 'badge badge-errors', text: 'Levert med feil' })
      : h('span', { class: `badge badge-${k.state}`, text: STATE_LABEL[k.state] || k.state });
    /* a failed latest submission is the server's fault: staff act even when
     * an earlier one is current */
    if (k.needs_attention && k.state !== 'attention')
      return h('span', {}, main, ' ', h('span', { class: 'badge badge-attention', text: STATE_LABEL.attention }));
    return main;
  }

  function feedbackCell(k) {
    const fb = k.feedback;
    if (!fb) return h('td', {}, '–');
    if (fb.downloads === 0) {
      return h('td', {}, h('span', { class: 'no', text: 'Nei' }),
        fb.submission_status === 'rejected' ? h('span', { class: 'sub', text: 'gjelder avvist innsending' }) : null);
    }
    return h('td', {}, `Ja, ${fb.downloads} ${fb.downloads === 1 ? 'gang' : 'ganger'}`,
      h('span', { class: 'sub', text: `først ${when(fb.first_download)}` }),
      fb.downloads > 1 ? h('span', { class: 'sub', text: `sist ${when(fb.last_download)}` }) : null);
  }

  function renderTable() {
    const tbody = $('kommuner').tBodies[0];
    clear(tbody);
    const rows = visibleRows();
    for (const k of rows) {
      const cur = k.current;
      const actions = h('td', { class: 'actions' });
      if (k.submissions > 0) {
        actions.append(h('button', { type: 'button', class: 'btn-link', 'data-action': 'submissions',
          'aria-label': `Innsendinger fra ${k.navn}`, onclick: () => openDetail(k) }, 'Innsendinger'));
      }
      if (k.feedback) {
        actions.append(h('button', { type: 'button', class: 'btn-link', 'data-action': 'feedback',
          'aria-label': `Last ned tilbakemelding til ${k.navn}`,
          onclick: (ev) => fetchFeedback(ev.currentTarget, k.feedback.submission_id, 'html') }, 'Tilbakemelding'));
      }
      tbody.append(h('tr', { 'data-kommune': k.kommunenummer, 'data-state': k.state },
        h('td', { class: 'kommune' }, h('span', { class: 'knr', text: k.kommunenummer }), k.navn),
        h('td', { title: k.fylke }, shortName(k.fylke)),
        h('td', {}, stateBadge(k)),
        h('td', { class: 'num-col' }, num(k.submissions)),
        h('td', { class: 'when' }, k.latest ? [when(k.latest.received_at),
          h('span', { class: 'sub', text: STATUS_LABEL[k.latest.status] || k.latest.status })] : '–'),
        h('td', { class: 'num-col' }, cur ? num(cur.persons) : '–'),
        h('td', { class: 'num-col' }, cur && cur.error_rate !== null ? pf.format(cur.error_rate) : '–'),
        feedbackCell(k),
        actions));
    }
    if (rows.length === 0) {
      tbody.append(h('tr', { class: 'empty-row' }, h('td', { colspan: 9, text: 'Ingen kommuner passer til utvalget.' })));
    }
    $('shown').textContent = `Viser ${rows.length} av ${ui.data.kommuner.length} kommuner`;
    for (const th of $('kommuner').tHead.querySelectorAll('th[data-sort]')) {
      th.setAttribute('aria-sort', th.dataset.sort === ui.sortKey ? (ui.sortDir > 0 ? 'ascending' : 'descending') : 'none');
    }
  }

  function setupSorting() {
    for (const th of $('kommuner').tHead.querySelectorAll('th[data-sort]')) {
      const label = th.textContent;
      clear(th);
      th.append(h('button', { type: 'button', onclick: () => {
        if (ui.sortKey === th.dataset.sort) ui.sortDir = -ui.sortDir;
        else { ui.sortKey = th.dataset.sort; ui.sortDir = 1; }
        renderTable();
      } }, label));
    }
  }

  async function fetchFeedback(button, id, format) {
    const old = button.textContent;
    button.disabled = true;
    button.textContent = 'Henter …';
    try {
      await download(`/api/v1/submissions/${encodeURIComponent(id)}/feedback?format=${format}`,
        `kpr-tilbakemelding-${id.slice(0, 8)}.${format}`);
    } catch (err) {
      reportError(err);
    } finally {
      button.disabled = false;
      button.textContent = old;
    }
  }

  /* ---------- per-municipality detail ---------- */

  async function openDetail(k) {
    const dlg = $('detail');
    $('detail-title').textContent = `Innsendinger fra ${k.kommunenummer} ${k.navn}, årgang ${ui.data.aargang}`;
    $('detail-status').textContent = 'Henter …';
    const tbody = $('detail-table').tBodies[0];
    clear(tbody);
    if (!dlg.open) dlg.showModal();
    try {
      const res = await api(`/api/v1/submissions?kommune=${encodeURIComponent(k.kommunenummer)}&aargang=${encodeURIComponent(ui.data.aargang)}`);
      const list = (await res.json()).submissions;
      $('detail-status').textContent = list.length ? `${list.length} innsending${list.length === 1 ? '' : 'er'}, nyeste først.` : 'Ingen innsendinger.';
      for (const sub of list) {
        const c = sub.counts || {};
        const m = c.messages || {};
        const formats = h('td', { class: 'formats' });
        for (const f of ['html', 'csv', 'xlsx', 'xml', 'json']) {
          if (sub.links && sub.links.feedback && sub.links.feedback[f]) {
            formats.append(h('button', { type: 'button', class: 'btn-link', 'data-format': f,
              onclick: (ev) => fetchFeedback(ev.currentTarget, sub.id, f) }, f.toUpperCase()));
          }
        }
        if (!formats.firstChild) formats.append('ikke klar');
        tbody.append(h('tr', { 'data-submission': sub.id },
          h('td', {}, when(sub.times && sub.times.received_at), sub.dry_run ? h('span', { class: 'sub', text: 'prøvekontroll' }) : null),
          h('td', {}, STATUS_LABEL[sub.status] || sub.status),
          h('td', { class: 'num-col' }, num(c.persons)),
          h('td', { class: 'num-col' }, num(c.registrations)),
          h('td', { class: 'num-col' }, num(m.error)),
          h('td', { class: 'num-col' }, num(m.warning)),
          formats));
      }
    } catch (err) {
      $('detail-status').textContent = `Kunne ikke hente innsendingene: ${err.message}`;
      if (err instanceof AuthError) { dlg.close(); signOut(err.message); }
    }
  }

  /* ---------- wiring ---------- */

  function init() {
    $('login-form').addEventListener('submit', signIn);
    $('logout').addEventListener('click', () => signOut('Du er logget ut.'));
    $('refresh').addEventListener('click', refresh);
    $('aargang').addEventListener('change', (ev) => {
      ui.aargang = Number(ev.target.value);
      refresh();
    });
    $('search').addEventListener('input', (ev) => {
      ui.search = ev.target.value;
      if (ui.data) renderTable();
    });
    $('export-missing').addEventListener('click', async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      try {
        await download(`/api/v1/progress/missing.csv?aargang=${encodeURIComponent(ui.aargang)}`, `kpr-purreliste-${ui.aargang}.csv`);
      } catch (err) {
        reportError(err);
      } finally {
        b.disabled = false;
      }
    });
    $('detail-close').addEventListener('click', () => $('detail').close());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && ui.data) refresh();
    });
    setupSorting();
    if (token()) start();
    else showLogin();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
