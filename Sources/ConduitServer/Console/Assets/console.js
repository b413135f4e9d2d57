// Conduit · System Jobs console.
// Vanilla ES2020, no build step, no external assets. Every value that reaches the DOM goes through
// textContent / attributes (never innerHTML with data) because of the CSP and because job data is untrusted.
'use strict';

(() => {
  // ---------------------------------------------------------------------------------------------
  // Constants
  // ---------------------------------------------------------------------------------------------

  const KEY_STORE = 'conduit.console.key';
  const UTC_STORE = 'conduit.console.utc';
  const STATUSES = [
    { code: 0, name: 'Waiting For Resources', short: 'Ready', cls: 'ready' },
    { code: 10, name: 'Waiting', short: 'Waiting', cls: 'waiting' },
    { code: 20, name: 'In Progress', short: 'In Progress', cls: 'progress' },
    { code: 21, name: 'Pausing', short: 'Pausing', cls: 'pausing' },
    { code: 22, name: 'Canceling', short: 'Canceling', cls: 'canceling' },
    { code: 30, name: 'Succeeded', short: 'Succeeded', cls: 'succeeded' },
    { code: 31, name: 'Failed', short: 'Failed', cls: 'failed' },
    { code: 32, name: 'Canceled', short: 'Canceled', cls: 'canceled' },
  ];
  const STATUS_BY_CODE = new Map(STATUSES.map((s) => [s.code, s]));
  const STATE_NAMES = { 0: 'Ready', 1: 'Suspended', 2: 'Locked', 3: 'Completed' };
  const OPERATION_TYPES = {
    1: 'System Event', 10: 'Workflow', 12: 'Update Match Code', 13: 'Collect Statistics',
    14: 'Quick Campaign', 15: 'Matchcode Update', 30: 'Bulk Delete', 32: 'Import', 38: 'Bulk Duplicate Detection',
    41: 'Calculate Organization Storage Size', 54: 'Execute Async Request',
  };
  const ACTIONS = [
    { id: 'cancel', label: 'Cancel', past: 'canceled' },
    { id: 'pause', label: 'Pause', past: 'paused' },
    { id: 'resume', label: 'Resume', past: 'resumed' },
    { id: 'postpone', label: 'Postpone…', past: 'postponed' },
    { id: 'retry', label: 'Retry now', past: 'retried' },
  ];
  const CONTRACTS = { 1: 'OneWay', 2: 'Queue', 3: 'Rest', 4: 'TwoWay', 5: 'Topic', 6: 'Queue (persistent)', 7: 'EventHub', 8: 'Webhook' };
  const FORMATS = { 1: '.NET Binary', 2: 'JSON', 3: 'XML' };
  const AUTH_TYPES = { 2: 'SASKey', 3: 'SASToken', 4: 'WebhookKey', 5: 'HttpHeader', 6: 'HttpQueryString' };
  const USER_CLAIMS = { 1: 'None', 2: 'UserId' };
  const STAGES = { 10: 'Pre-validation', 20: 'Pre-operation', 40: 'Post-operation' };
  const MODES = { 0: 'Synchronous', 1: 'Asynchronous' };
  const COMMON_MESSAGES = ['Create', 'Update', 'Delete', 'Assign', 'SetState', 'SetStateDynamicEntity', 'Associate',
    'Disassociate', 'Merge', 'Retrieve', 'RetrieveMultiple', 'GrantAccess', 'RevokeAccess', 'Win', 'Lose', 'QualifyLead'];
  const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';
  const JOB_FILTER_KEYS = ['status', 'step', 'endpoint', 'table', 'message', 'since', 'until', 'search'];
  const PAGE_SIZES = [25, 50, 100, 200, 500];

  // ---------------------------------------------------------------------------------------------
  // Small DOM helpers (no innerHTML anywhere)
  // ---------------------------------------------------------------------------------------------

  /** Creates an element. props: class, text, on<event>, value/checked/disabled (properties), others as attributes. */
  function h(tag, props, ...kids) {
    const e = document.createElement(tag);
    append(e, kids);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v == null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = String(v);
        else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
        else if (k === 'value') e.value = String(v);
        else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'open' || k === 'hidden') e[k] = !!v;
        else if (v === true) e.setAttribute(k, '');
        else e.setAttribute(k, String(v));
      }
    }
    return e;
  }

  function append(parent, kids) {
    for (const k of [kids].flat(Infinity)) {
      if (k == null || k === false) continue;
      parent.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return parent;
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
    return e;
  }

  function replace(e, ...kids) {
    clear(e);
    return append(e, kids);
  }

  function option(value, label, selected) {
    return h('option', { value: String(value), selected: !!selected }, label);
  }

  function select(props, entries, current) {
    const s = h('select', props);
    for (const [v, l] of entries) s.append(option(v, l, String(v) === String(current ?? '')));
    if (current != null) s.value = String(current);
    return s;
  }

  function field(label, control, hint) {
    return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
      hint ? h('span', { class: 'field-hint' }, hint) : null);
  }

  function button(label, props = {}) {
    return h('button', Object.assign({ type: 'button', class: 'btn' }, props), label);
  }

  function banner(kind, text, test) {
    return h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-test': test || `banner-${kind}` }, text);
  }

  function spinner(text = 'Loading…') {
    return h('div', { class: 'loading' }, h('span', { class: 'spin' }), text);
  }

  function debounce(fn, ms) {
    let t = null;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  // ---------------------------------------------------------------------------------------------
  // Formatting
  // ---------------------------------------------------------------------------------------------

  const nf = new Intl.NumberFormat('en-US');
  const fmtNum = (n) => (n == null || n === '' ? '' : nf.format(Number(n)));
  const useUTC = () => localStorage.getItem(UTC_STORE) === '1';
  const pad = (n, w = 2) => String(n).padStart(w, '0');

  function fmtDate(iso, withMs) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const u = useUTC();
    const y = u ? d.getUTCFullYear() : d.getFullYear();
    const mo = (u ? d.getUTCMonth() : d.getMonth()) + 1;
    const da = u ? d.getUTCDate() : d.getDate();
    const hh = u ? d.getUTCHours() : d.getHours();
    const mi = u ? d.getUTCMinutes() : d.getMinutes();
    const ss = u ? d.getUTCSeconds() : d.getSeconds();
    const ms = u ? d.getUTCMilliseconds() : d.getMilliseconds();
    return `${y}-${pad(mo)}-${pad(da)} ${pad(hh)}:${pad(mi)}:${pad(ss)}${withMs ? '.' + pad(ms, 3) : ''}`;
  }

  function timeEl(iso, withMs) {
    if (!iso) return h('span', { class: 'muted' }, '—');
    return h('time', { datetime: iso, title: `${iso} (UTC)` }, fmtDate(iso, withMs));
  }

  function relTime(iso) {
    if (!iso) return '';
    const diff = (new Date(iso).getTime() - Date.now()) / 1000;
    const a = Math.abs(diff);
    let s;
    if (a < 60) s = `${Math.round(a)} s`;
    else if (a < 3600) s = `${Math.round(a / 60)} min`;
    else if (a < 86400) s = `${(a / 3600).toFixed(1)} h`;
    else s = `${(a / 86400).toFixed(1)} d`;
    return diff >= 0 ? `in ${s}` : `${s} ago`;
  }

  function fmtSeconds(sec) {
    if (sec == null || sec === '') return '';
    const v = Number(sec);
    if (!Number.isFinite(v)) return String(sec);
    if (v < 1) return `${Math.round(v * 1000)} ms`;
    if (v < 60) return `${v.toFixed(v < 10 ? 3 : 1)} s`;
    const m = Math.floor(v / 60);
    const s = Math.round(v - m * 60);
    if (m < 60) return `${m} min ${s} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function duration(fromIso, toIso) {
    if (!fromIso || !toIso) return '';
    const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
    return Number.isFinite(ms) ? fmtSeconds(ms / 1000) : '';
  }

  /** 0x80040224-style hex of an int32 error code (negative or unsigned). */
  function hexCode(n) {
    if (n == null || n === '') return '';
    const v = Number(n);
    if (!Number.isFinite(v)) return String(n);
    return '0x' + (v >>> 0).toString(16).padStart(8, '0');
  }

  function errorCodeText(n) {
    if (n == null || n === '') return '';
    const hx = hexCode(n);
    return hx === String(n) ? hx : `${hx} (${n})`;
  }

  /** datetime-local value <-> ISO, in the zone chosen with the UTC switch. */
  function isoToInput(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    if (useUTC()) return d.toISOString().slice(0, 16);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function inputToIso(v) {
    if (!v) return '';
    const d = useUTC() ? new Date(v + (v.length === 16 ? ':00Z' : 'Z')) : new Date(v);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString();
  }

  function statusInfo(code) {
    return STATUS_BY_CODE.get(Number(code)) || { code, name: String(code ?? '?'), short: String(code ?? '?'), cls: 'unknown' };
  }

  function statusBadge(code, name, test) {
    const s = statusInfo(code);
    return h('span', { class: `badge st-${s.cls}`, 'data-status': String(code), 'data-test': test || null }, name || s.name);
  }

  function stateOf(job) {
    if (job.statecode != null) return Number(job.statecode);
    const s = Number(job.statuscode);
    return s === 0 ? 0 : s === 10 ? 1 : s < 30 ? 2 : 3;
  }

  /** Which actions the server allows in the job's state (JobLifecycle.apply: docs/jobs.md). */
  function canDo(action, job) {
    const s = Number(job.statuscode);
    const st = stateOf(job);
    switch (action) {
      case 'cancel': return st !== 3;
      case 'pause': return s === 0 || s === 20;
      case 'resume': return s === 10;
      case 'postpone': return st <= 2 && s !== 22;
      case 'retry': return s === 10 || s === 31;
      default: return false;
    }
  }

  function mono(text, cls) {
    return h('span', { class: 'mono' + (cls ? ' ' + cls : ''), title: text || null }, text || '');
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => toast('Copied'), () => toast('Copy failed'));
      return;
    }
    const ta = h('textarea', { class: 'offscreen' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try { document.execCommand('copy'); toast('Copied'); } catch { toast('Copy failed'); }
    ta.remove();
  }

  function toast(text, kind = 'info') {
    let host = document.getElementById('toasts');
    if (!host) { host = h('div', { id: 'toasts', class: 'toasts' }); document.body.append(host); }
    const t = h('div', { class: `toast toast-${kind}`, role: 'status' }, text);
    host.append(t);
    setTimeout(() => t.remove(), 3500);
  }

  // ---------------------------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const getKey = () => sessionStorage.getItem(KEY_STORE) || '';

  function errorMessage(data) {
    if (!data || typeof data !== 'object') return '';
    const e = data.error;
    if (e && typeof e === 'object') return e.message || e.code || '';
    if (typeof e === 'string') return e;
    return data.message || '';
  }

  /**
   * The one way to talk to the server: adds the bearer key, parses JSON, turns error bodies into ApiError,
   * and sends the operator back to sign-in on any 401 (unless opts.key is given: the sign-in check itself).
   */
  async function api(path, opts = {}) {
    const key = opts.key ?? getKey();
    const headers = { Accept: 'application/json' };
    if (key) headers.Authorization = `Bearer ${key}`;
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let res;
    try {
      res = await fetch(path, { method: opts.method || 'GET', headers, body, signal: opts.signal, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(`Cannot reach the server (${e && e.message ? e.message : e}).`, 0);
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (res.status === 401) {
      const msg = errorMessage(data) || 'The API key was rejected.';
      if (opts.key == null) signOut(`Your session ended: ${msg} Please sign in again.`);
      throw new ApiError(msg, 401, data && data.error && data.error.code);
    }
    if (!res.ok) {
      const msg = errorMessage(data) || (text && text.length < 300 ? text : '') || `${res.status} ${res.statusText}`;
      throw new ApiError(msg, res.status, data && data.error && data.error.code);
    }
    return data;
  }

  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v == null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      u.set(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    const s = u.toString();
    return s ? `?${s}` : '';
  }

  const ENDPOINT_SELECT_DOC = 'serviceendpointid,name,contract,connectionmode,messageformat,namespaceaddress,path,url,authtype,userclaim,description';
  const ENDPOINT_SELECT_EXTRA = ENDPOINT_SELECT_DOC + ',saskeyname,issaskeyset,issastokenset,isauthvalueset';
  let endpointSelect = ENDPOINT_SELECT_EXTRA;

  /** Service endpoints through the Web API. Tries a few extra columns (SAS key name, "is set" flags), falls back to the documented $select. */
  async function loadEndpoints() {
    try {
      const d = await api(`/api/data/v9.2/serviceendpoints?$select=${endpointSelect}`);
      return (d && d.value) || [];
    } catch (e) {
      if (e.status === 400 && endpointSelect !== ENDPOINT_SELECT_DOC) {
        endpointSelect = ENDPOINT_SELECT_DOC;
        const d = await api(`/api/data/v9.2/serviceendpoints?$select=${endpointSelect}`);
        return (d && d.value) || [];
      }
      throw e;
    }
  }

  async function loadSteps(endpointId) {
    const d = await api(`/api/console/steps${qs({ endpoint: endpointId })}`);
    return (d && d.steps) || [];
  }

  // ---------------------------------------------------------------------------------------------
  // Modal dialogs (confirm, date/time)
  // ---------------------------------------------------------------------------------------------

  function modal({ title, body, okText = 'OK', cancelText = 'Cancel', danger = false, test = 'modal', onOk }) {
    return new Promise((resolve) => {
      const prevFocus = document.activeElement;
      const err = h('div', { class: 'modal-error', role: 'alert', hidden: true });
      const ok = button(okText, { class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`, 'data-test': `${test}-ok`, type: 'submit' });
      const cancel = button(cancelText, { 'data-test': `${test}-cancel` });
      const form = h('form', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'data-test': test },
        h('div', { class: 'modal-title' }, title),
        h('div', { class: 'modal-body' }, body),
        err,
        h('div', { class: 'modal-actions' }, cancel, ok));
      const overlay = h('div', { class: 'overlay' }, form);
      const close = (v) => { overlay.remove(); document.removeEventListener('keydown', onKey); if (prevFocus && prevFocus.focus) prevFocus.focus(); resolve(v); };
      const onKey = (e) => { if (e.key === 'Escape') close(undefined); };
      cancel.addEventListener('click', () => close(undefined));
      overlay.addEventListener('mousedown', (e) => { if (e.target === overlay) close(undefined); });
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        let v = true;
        if (onOk) {
          try { v = onOk(); } catch (x) { err.hidden = false; err.textContent = x.message; return; }
        }
        close(v);
      });
      document.addEventListener('keydown', onKey);
      document.body.append(overlay);
      const first = form.querySelector('input, select, textarea') || ok;
      first.focus();
    });
  }

  function confirmBox(title, text, okText = 'Confirm', danger = true) {
    const cancelText = /^cancel/i.test(okText) ? 'Keep' : 'Cancel';
    return modal({ title, body: h('p', null, text), okText, cancelText, danger, test: 'confirm' });
  }

  function askDateTime(title, text) {
    const d = new Date(Date.now() + 3600_000);
    d.setSeconds(0, 0);
    const input = h('input', { type: 'datetime-local', required: true, 'data-test': 'postpone-until', value: isoToInput(d.toISOString()) });
    const body = h('div', null, h('p', null, text), field(`Postpone until (${useUTC() ? 'UTC' : 'local time'})`, input));
    return modal({
      title, body, okText: 'Postpone', test: 'postpone',
      onOk: () => {
        const iso = inputToIso(input.value);
        if (!iso) throw new Error('Choose a date and time.');
        return iso;
      },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // App shell, routing and sign-in
  // ---------------------------------------------------------------------------------------------

  const app = {
    root: null,
    main: null,
    session: null,
    page: null,
    lastJobsHash: '#/jobs',
  };

  function parseRoute() {
    const raw = location.hash.replace(/^#/, '');
    const [path, query = ''] = raw.split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    return { parts, query: new URLSearchParams(query), raw };
  }

  function pageFor(route) {
    const [a, b] = route.parts;
    if (a === 'jobs' && b) return { name: 'job', id: b, factory: JobDetailPage };
    if (a === 'endpoints') return { name: 'endpoints', factory: EndpointsPage };
    if (a === 'bus') return { name: 'bus', factory: BusPage };
    return { name: 'jobs', factory: JobsPage };
  }

  function navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function route() {
    if (!app.session) return;
    const r = parseRoute();
    if (!r.parts.length) { history.replaceState(null, '', '#/jobs'); return route(); }
    const target = pageFor(r);
    if (target.name === 'jobs') app.lastJobsHash = location.hash || '#/jobs';
    for (const a of app.root.querySelectorAll('.nav a')) {
      a.classList.toggle('active', a.dataset.page === target.name || (a.dataset.page === 'jobs' && target.name === 'job'));
    }
    if (app.page && app.page.name === target.name && app.page.key === (target.id || '') && app.page.update) {
      app.page.update(r);
      return;
    }
    if (app.page && app.page.unmount) app.page.unmount();
    clear(app.main);
    app.main.scrollTop = 0;
    window.scrollTo(0, 0);
    app.page = target.factory(app.main, r, target.id);
    app.page.name = target.name;
    app.page.key = target.id || '';
  }

  function renderSignIn(message, isError) {
    liveStop();
    if (app.page && app.page.unmount) app.page.unmount();
    app.page = null;
    app.session = null;
    document.title = 'Sign in · Conduit console';
    const input = h('input', { id: 'signin-key', 'data-test': 'signin-key', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'API key', required: true });
    const btn = h('button', { id: 'signin-button', 'data-test': 'signin-button', type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
    const err = h('div', { id: 'signin-error', 'data-test': 'signin-error', class: 'signin-error', role: 'alert', hidden: !(message && isError) }, isError ? message : '');
    const info = h('div', { id: 'signin-info', 'data-test': 'signin-info', class: 'signin-info', hidden: !(message && !isError) }, !isError ? message : '');
    const form = h('form', { id: 'signin-form', 'data-test': 'signin-form', class: 'signin-card', autocomplete: 'off' },
      h('div', { class: 'signin-brand' }, h('span', { class: 'logo' }, 'C'), h('div', null, h('div', { class: 'signin-title' }, 'Conduit'), h('div', { class: 'muted' }, 'System Jobs console'))),
      info,
      field('API key', input),
      err,
      btn,
      h('p', { class: 'muted small' }, 'The key is kept in this browser tab only (session storage) and sent as a bearer token.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const key = input.value.trim();
      err.hidden = true;
      info.hidden = true;
      if (!key) { err.textContent = 'Enter an API key.'; err.hidden = false; return; }
      btn.disabled = true;
      btn.textContent = 'Signing in…';
      try {
        const s = await api('/api/console/session', { key });
        sessionStorage.setItem(KEY_STORE, key);
        startApp(s);
      } catch (x) {
        err.textContent = x.status === 401 ? `The API key was rejected. ${x.message}` : `Sign-in failed: ${x.message}`;
        err.hidden = false;
        btn.disabled = false;
        btn.textContent = 'Sign in';
        input.select();
      }
    });
    replace(app.root, h('div', { class: 'signin-page', 'data-test': 'signin-page' }, form));
    app.root.dataset.view = 'signin';
    input.focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORE);
    renderSignIn(message, !!message && !/^Signed out/.test(message));
  }

  function renderShell() {
    const utc = h('input', { type: 'checkbox', id: 'utc-toggle', 'data-test': 'utc-toggle', checked: useUTC() });
    utc.addEventListener('change', () => {
      localStorage.setItem(UTC_STORE, utc.checked ? '1' : '0');
      if (app.page) { app.page.unmount && app.page.unmount(); app.page = null; }
      route();
    });
    const navLink = (page, hash, label) => h('a', { href: hash, 'data-page': page, 'data-test': `nav-${page}`, id: `nav-${page}` }, label);
    const s = app.session || {};
    const header = h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: '#/jobs' }, h('span', { class: 'logo' }, 'C'), h('span', null, 'Conduit'), h('span', { class: 'brand-sub' }, 'System Jobs console')),
      h('nav', { class: 'nav' },
        navLink('jobs', '#/jobs', 'System jobs'),
        navLink('endpoints', '#/endpoints', 'Service endpoints'),
        navLink('bus', '#/bus', 'Bus explorer')),
      h('div', { class: 'topbar-right' },
        h('span', { id: 'live-indicator', 'data-test': 'live-indicator', class: 'live', 'data-state': 'off', title: 'Live updates' }, h('span', { class: 'dot' }), h('span', { class: 'live-text' }, 'Offline')),
        h('label', { class: 'utc', title: 'Show and enter times in UTC' }, utc, 'UTC'),
        h('span', { class: 'user', 'data-test': 'user-name', title: `${s.organization || ''} · ${s.userId || ''}${s.version ? ' · v' + s.version : ''}` }, s.userName || 'signed in'),
        h('a', { href: '#', id: 'signout', 'data-test': 'signout', class: 'signout', onclick: (e) => { e.preventDefault(); signOut('Signed out.'); } }, 'Sign out')));
    app.main = h('main', { id: 'main', class: 'main', 'data-test': 'main' });
    replace(app.root, header, app.main);
    app.root.dataset.view = 'app';
  }

  function startApp(session) {
    app.session = session || {};
    renderShell();
    liveStart();
    if (!location.hash || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', '#/jobs');
    route();
  }

  async function boot() {
    app.root = document.getElementById('app');
    window.addEventListener('hashchange', route);
    const key = getKey();
    if (!key) { renderSignIn(); return; }
    replace(app.root, h('div', { class: 'signin-page' }, spinner('Checking your session…')));
    try {
      const s = await api('/api/console/session', { key });
      startApp(s);
    } catch (e) {
      if (e.status === 401) { sessionStorage.removeItem(KEY_STORE); renderSignIn(`Your API key was rejected: ${e.message}`, true); }
      else renderSignIn(`Cannot check the session: ${e.message}`, true);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Live updates: GET /api/console/events read with fetch + getReader (EventSource cannot send headers)
  // ---------------------------------------------------------------------------------------------

  const live = { ctrl: null, state: 'off', retry: null, watchdog: null, poll: null, lastData: 0, connectedOnce: false, timer: null, busy: false, again: false };

  function setLive(state) {
    live.state = state;
    const el = document.getElementById('live-indicator');
    if (!el) return;
    el.dataset.state = state;
    const text = { connected: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', off: 'Offline' }[state] || state;
    el.querySelector('.live-text').textContent = text;
    el.title = state === 'connected' ? 'Live updates: connected' : `Live updates: ${text}`;
  }

  function liveStart() {
    liveStop();
    live.connectedOnce = false;
    liveConnect();
    live.watchdog = setInterval(() => {
      // keep-alive comments come every 15 s; a silent stream for 45 s is a dead stream
      if (live.state === 'connected' && Date.now() - live.lastData > 45_000 && live.ctrl) live.ctrl.abort();
    }, 5000);
    live.poll = setInterval(() => {
      // fallback while the stream is down: poll the open page
      if (live.state !== 'connected' && document.visibilityState === 'visible') scheduleRefresh(0);
    }, 5000);
  }

  function liveStop() {
    const c = live.ctrl;
    live.ctrl = null;
    if (c) c.abort();
    clearTimeout(live.retry);
    clearInterval(live.watchdog);
    clearInterval(live.poll);
    clearTimeout(live.timer);
    live.timer = null;
    setLive('off');
  }

  async function liveConnect() {
    const key = getKey();
    if (!key) return;
    const ctrl = new AbortController();
    live.ctrl = ctrl;
    setLive(live.connectedOnce ? 'reconnecting' : 'connecting');
    try {
      const res = await fetch('/api/console/events', {
        headers: { Authorization: `Bearer ${key}`, Accept: 'text/event-stream' },
        signal: ctrl.signal, cache: 'no-store', credentials: 'omit',
      });
      if (res.status === 401) { if (live.ctrl === ctrl) signOut('Your session ended: the API key was rejected. Please sign in again.'); return; }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      if (live.ctrl !== ctrl) return;
      const wasReconnect = live.connectedOnce;
      live.connectedOnce = true;
      live.lastData = Date.now();
      setLive('connected');
      if (wasReconnect) scheduleRefresh(0); // events may have been missed while down
      await readEventStream(res.body.getReader(), ctrl);
    } catch (e) {
      // fall through to reconnect
    }
    if (live.ctrl !== ctrl) return; // stopped or replaced
    live.ctrl = null;
    setLive('reconnecting');
    live.retry = setTimeout(liveConnect, 2000);
  }

  async function readEventStream(reader, ctrl) {
    const decoder = new TextDecoder();
    let buf = '';
    let ev = { event: 'message', data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || live.ctrl !== ctrl) break;
      live.lastData = Date.now();
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        let line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (ev.data.length || ev.event !== 'message') onLiveEvent(ev.event, ev.data.join('\n'));
          ev = { event: 'message', data: [] };
          continue;
        }
        if (line.startsWith(':')) continue; // keep-alive comment
        const c = line.indexOf(':');
        const name = c < 0 ? line : line.slice(0, c);
        let val = c < 0 ? '' : line.slice(c + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (name === 'event') ev.event = val;
        else if (name === 'data') ev.data.push(val);
      }
    }
  }

  function onLiveEvent(name) {
    if (name === 'jobs') {
      const el = document.getElementById('live-indicator');
      if (el) { el.classList.remove('pulse'); void el.offsetWidth; el.classList.add('pulse'); }
      scheduleRefresh(250);
    }
  }

  /**
   * Refresh of the open page after live events: coalesced (a burst of events gives one refresh), at most about
   * once a second (the server may send an event every 250 ms under load), never two at once.
   */
  const MIN_REFRESH_GAP = 1000;

  function scheduleRefresh(delay) {
    if (live.timer) return; // one is already coming
    const since = Date.now() - (live.lastRefresh || 0);
    const wait = Math.max(delay, MIN_REFRESH_GAP - since, 0);
    live.timer = setTimeout(() => { live.timer = null; runRefresh(); }, wait);
  }

  async function runRefresh() {
    if (live.busy) { live.again = true; return; }
    const page = app.page;
    if (!page || !page.refresh) return;
    live.busy = true;
    live.lastRefresh = Date.now();
    try { await page.refresh(); } catch { /* the page shows its own errors */ }
    live.busy = false;
    if (live.again) { live.again = false; scheduleRefresh(0); }
  }

  // ---------------------------------------------------------------------------------------------
  // Page: System jobs list  (#/jobs?status=31&step=..&page=2)
  // ---------------------------------------------------------------------------------------------

  function jobFiltersFrom(query) {
    const f = {};
    for (const k of JOB_FILTER_KEYS) f[k] = query.get(k) || '';
    f.statuses = f.status ? f.status.split(',').filter((x) => x !== '').map(Number) : [];
    f.page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
    f.size = PAGE_SIZES.includes(Number(query.get('size'))) ? Number(query.get('size')) : 50;
    return f;
  }

  function jobsHash(f) {
    const p = {};
    for (const k of JOB_FILTER_KEYS) if (k !== 'status' && f[k]) p[k] = f[k];
    if (f.statuses && f.statuses.length) p.status = [...f.statuses].sort((a, b) => a - b).join(',');
    if (f.page > 1) p.page = f.page;
    if (f.size !== 50) p.size = f.size;
    const order = ['status', ...JOB_FILTER_KEYS.filter((k) => k !== 'status'), 'page', 'size'];
    const u = new URLSearchParams();
    for (const k of order) if (p[k] != null) u.set(k, p[k]);
    const s = u.toString();
    return '#/jobs' + (s ? '?' + s : '');
  }

  const filterKey = (f) => JOB_FILTER_KEYS.map((k) => (k === 'status' ? f.statuses.slice().sort().join(',') : f[k])).join('|');

  function JobsPage(main, r) {
    const page = {};
    let f = jobFiltersFrom(r.query);
    let seq = 0;
    let data = null;
    let lastIds = null;
    const selected = new Set();

    document.title = 'System jobs · Conduit console';

    // --- skeleton
    const countsBar = h('div', { class: 'counts', 'data-test': 'counts' });
    const stepSel = h('select', { 'data-test': 'filter-step', id: 'filter-step' }, option('', 'All steps'));
    const endpointSel = h('select', { 'data-test': 'filter-endpoint', id: 'filter-endpoint' }, option('', 'All endpoints'));
    const tableIn = h('input', { type: 'text', placeholder: 'e.g. contact', 'data-test': 'filter-table', id: 'filter-table', spellcheck: 'false', size: 12 });
    const msgIn = h('input', { type: 'text', placeholder: 'e.g. Create', list: 'dl-messages', 'data-test': 'filter-message', id: 'filter-message', spellcheck: 'false', size: 10 });
    const sinceIn = h('input', { type: 'datetime-local', 'data-test': 'filter-since', id: 'filter-since' });
    const untilIn = h('input', { type: 'datetime-local', 'data-test': 'filter-until', id: 'filter-until' });
    const searchIn = h('input', { type: 'search', placeholder: 'Name, job id or regarding id', title: 'Part of the job name, or a whole job id / regarding record id', 'data-test': 'filter-search', id: 'filter-search', spellcheck: 'false', size: 24 });
    const clearBtn = button('Clear filters', { class: 'btn btn-link', 'data-test': 'filter-clear' });
    const filterBar = h('div', { class: 'filters', 'data-test': 'filters' },
      h('datalist', { id: 'dl-messages' }, COMMON_MESSAGES.map((m) => option(m, m))),
      field('Step', stepSel), field('Endpoint', endpointSel), field('Table', tableIn), field('Message', msgIn),
      field(`Created since${useUTC() ? ' (UTC)' : ''}`, sinceIn), field(`Created until${useUTC() ? ' (UTC)' : ''}`, untilIn),
      field('Search', searchIn), h('div', { class: 'filters-end' }, clearBtn));

    const selInfo = h('span', { class: 'sel-info', 'data-test': 'selection-count' }, '');
    const bulkBtns = ACTIONS.map((a) => button(a.label, { 'data-test': `bulk-${a.id}`, 'data-action': a.id, class: 'btn btn-sm', disabled: true }));
    const totalEl = h('span', { class: 'total', 'data-test': 'jobs-total' }, '');
    const updatedEl = h('span', { class: 'updated muted small', 'data-test': 'jobs-updated' }, '');
    const refreshBtn = button('Refresh', { class: 'btn btn-sm', 'data-test': 'jobs-refresh', title: 'Reload this page of jobs' });
    const pager = h('div', { class: 'pager', 'data-test': 'pager' });
    const toolbar = h('div', { class: 'toolbar' },
      h('div', { class: 'toolbar-left' }, selInfo, h('div', { class: 'btn-group' }, bulkBtns)),
      h('div', { class: 'toolbar-right' }, updatedEl, refreshBtn, totalEl, pager));
    const results = h('div', { class: 'results', 'data-test': 'action-results', hidden: true });
    const msgArea = h('div', { class: 'msg-area' });
    const headCheck = h('input', { type: 'checkbox', 'data-test': 'select-all', title: 'Select all on this page' });
    const thead = h('thead', null, h('tr', null,
      h('th', { class: 'col-check' }, headCheck),
      h('th', null, 'Name'), h('th', null, 'Status'), h('th', null, 'Table'), h('th', null, 'Message'),
      h('th', null, 'Regarding'), h('th', null, 'Created'), h('th', null, 'Completed / postponed'),
      h('th', { class: 'num' }, 'Retries'), h('th', null, 'Error')));
    const tbody = h('tbody', { 'data-test': 'jobs-body' });
    const table = h('table', { class: 'grid jobs-grid', id: 'jobs-table', 'data-test': 'jobs-table' }, thead, tbody);
    const root = h('section', { class: 'page page-jobs', 'data-test': 'page-jobs', 'data-state': 'loading' },
      h('div', { class: 'page-head' }, h('h1', null, 'System jobs'),
        h('span', { class: 'muted small' }, 'Asynchronous operations posting execution contexts to service endpoints')),
      countsBar, filterBar, msgArea, toolbar, results, h('div', { class: 'grid-wrap' }, table));
    main.append(root);

    // --- filter wiring
    function setFilters(patch, keepPage) {
      const n = Object.assign({}, f, patch);
      if (!keepPage) n.page = 1;
      navigate(jobsHash(n));
    }
    const fromInputs = () => ({
      step: stepSel.value, endpoint: endpointSel.value, table: tableIn.value.trim(), message: msgIn.value.trim(),
      since: inputToIso(sinceIn.value), until: inputToIso(untilIn.value), search: searchIn.value.trim(),
    });
    for (const el of [stepSel, endpointSel, sinceIn, untilIn, tableIn, msgIn, searchIn]) {
      el.addEventListener('change', () => setFilters(fromInputs()));
    }
    for (const el of [tableIn, msgIn, searchIn]) {
      el.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); setFilters(fromInputs()); } });
    }
    clearBtn.addEventListener('click', () => navigate(jobsHash({ statuses: [], page: 1, size: f.size })));

    function syncInputs() {
      stepSel.value = f.step;
      if (stepSel.value !== f.step) { stepSel.append(option(f.step, f.step)); stepSel.value = f.step; }
      endpointSel.value = f.endpoint;
      if (endpointSel.value !== f.endpoint) { endpointSel.append(option(f.endpoint, f.endpoint)); endpointSel.value = f.endpoint; }
      tableIn.value = f.table;
      msgIn.value = f.message;
      sinceIn.value = isoToInput(f.since);
      untilIn.value = isoToInput(f.until);
      searchIn.value = f.search;
      for (const el of [stepSel, endpointSel, tableIn, msgIn, sinceIn, untilIn, searchIn]) el.classList.toggle('active-filter', !!el.value);
    }

    async function loadChoices() {
      try {
        const [steps, eps] = await Promise.all([loadSteps(), loadEndpoints()]);
        replace(stepSel, option('', 'All steps'), steps
          .slice().sort((a, b) => String(a.name).localeCompare(String(b.name)))
          .map((s) => option(s.id, `${s.name || s.id}${s.statecode === 1 ? ' (disabled)' : ''}`)));
        replace(endpointSel, option('', 'All endpoints'), eps.map((e) => option(e.serviceendpointid, e.name || e.serviceendpointid)));
        syncInputs();
      } catch (e) {
        if (e.status !== 401) toast(`Cannot load steps/endpoints: ${e.message}`, 'error');
      }
    }

    // --- selection and bulk actions
    function updateSelection() {
      const n = selected.size;
      selInfo.textContent = n ? `${fmtNum(n)} selected` : 'No selection';
      if (n) selInfo.append(' ', h('a', { href: '#', class: 'small', 'data-test': 'selection-clear', onclick: (e) => { e.preventDefault(); selected.clear(); syncChecks(); } }, 'clear'));
      for (const b of bulkBtns) b.disabled = n === 0;
      const boxes = [...tbody.querySelectorAll('input.row-check')];
      const on = boxes.filter((b) => b.checked).length;
      headCheck.checked = boxes.length > 0 && on === boxes.length;
      headCheck.indeterminate = on > 0 && on < boxes.length;
    }
    function syncChecks() {
      for (const b of tbody.querySelectorAll('input.row-check')) {
        b.checked = selected.has(b.value);
        b.closest('tr').classList.toggle('selected', b.checked);
      }
      updateSelection();
    }
    headCheck.addEventListener('change', () => {
      for (const b of tbody.querySelectorAll('input.row-check')) { if (headCheck.checked) selected.add(b.value); else selected.delete(b.value); }
      syncChecks();
    });
    for (const b of bulkBtns) b.addEventListener('click', () => runBulk(b.dataset.action));

    async function runBulk(action) {
      const ids = [...selected];
      if (!ids.length) return;
      const a = ACTIONS.find((x) => x.id === action);
      const body = { action, ids };
      if (action === 'postpone') {
        const until = await askDateTime(`Postpone ${ids.length} job${ids.length > 1 ? 's' : ''}`, 'The jobs will not run before this time.');
        if (!until) return;
        body.until = until;
      } else if (action === 'cancel') {
        const ok = await confirmBox('Cancel jobs', `Cancel ${ids.length} selected job${ids.length > 1 ? 's' : ''}? Canceled jobs do not run again.`, 'Cancel jobs');
        if (!ok) return;
      }
      for (const b of bulkBtns) b.disabled = true;
      try {
        const d = await api('/api/console/jobs/actions', { method: 'POST', body });
        showResults(a, (d && d.results) || []);
        selected.clear();
      } catch (e) {
        showResults(a, null, e.message);
      }
      updateSelection();
      await load();
    }

    function showResults(a, list, error) {
      results.hidden = false;
      const close = button('×', { class: 'btn btn-icon', title: 'Dismiss', 'data-test': 'action-results-close', onclick: () => { results.hidden = true; } });
      if (error) {
        replace(results, h('div', { class: 'results-head error' }, `${a.label.replace('…', '')} failed: ${error}`, close));
        return;
      }
      const ok = list.filter((x) => x.ok).length;
      const bad = list.length - ok;
      const names = new Map(((data && data.jobs) || []).map((j) => [j.id, j.name]));
      const sorted = list.slice().sort((x, y) => Number(!!y.ok) - Number(!!x.ok));
      const rows = sorted.map((x) => h('tr', { 'data-test': 'action-result', 'data-job-id': x.id, 'data-ok': x.ok ? '1' : '0' },
        h('td', null, h('a', { href: `#/jobs/${encodeURIComponent(x.id)}`, class: 'mono' }, x.id)),
        h('td', { class: 'muted' }, names.get(x.id) || ''),
        h('td', { class: 'nowrap' }, x.ok ? h('span', { class: 'ok' }, '✓ ' + a.past) : h('span', { class: 'bad' }, '✗ refused')),
        h('td', null, x.ok ? (x.statuscode != null ? statusBadge(x.statuscode) : '') : (x.error || ''))));
      replace(results,
        h('div', { class: 'results-head' + (bad ? ' warn' : '') },
          h('span', null, h('strong', null, a.label.replace('…', '')), `: ${ok} done, ${bad} refused`), close),
        h('table', { class: 'grid compact' }, h('tbody', null, rows)));
    }

    // --- rendering
    function renderCounts() {
      const counts = (data && data.counts) || {};
      const all = Object.values(counts).reduce((s, n) => s + (Number(n) || 0), 0);
      const allBtn = h('button', { type: 'button', class: 'count count-all' + (f.statuses.length ? '' : ' active'), 'data-test': 'count-all', title: 'All statuses' },
        h('span', { class: 'count-label' }, 'All'), h('span', { class: 'count-value' }, fmtNum(all)));
      allBtn.addEventListener('click', () => setFilters({ statuses: [] }));
      const btns = STATUSES.map((s) => {
        const n = Number(counts[String(s.code)] || 0);
        const on = f.statuses.includes(s.code);
        const b = h('button', {
          type: 'button', class: `count st-${s.cls}${on ? ' active' : ''}${n ? '' : ' zero'}`, 'data-test': 'count',
          'data-status': String(s.code), 'data-count': String(n), 'aria-pressed': on ? 'true' : 'false',
          title: `${s.name}: ${fmtNum(n)} — click to ${on ? 'remove from' : 'add to'} the status filter`,
        }, h('span', { class: 'count-label' }, h('span', { class: 'dot' }), s.short), h('span', { class: 'count-value' }, fmtNum(n)));
        b.addEventListener('click', () => {
          const set = new Set(f.statuses);
          if (set.has(s.code)) set.delete(s.code); else set.add(s.code);
          setFilters({ statuses: [...set] });
        });
        return b;
      });
      replace(countsBar, allBtn, btns,
        h('span', { class: 'counts-hint muted small' }, 'Click a status to filter; several can be combined.'));
    }

    function subLine(j) {
      const bits = [j.endpointName ? `→ ${j.endpointName}` : '', j.stepName && j.stepName !== j.name ? `step ${j.stepName}` : ''].filter(Boolean);
      if (!bits.length) return null;
      return h('div', { class: 'sub muted', title: `Step: ${j.stepName || '—'} · Endpoint: ${j.endpointName || '—'}` }, bits.join(' · '));
    }

    function renderRows() {
      const jobs = (data && data.jobs) || [];
      const prev = lastIds;
      lastIds = data ? new Set(jobs.map((j) => j.id)) : null; // highlight only rows that arrive on a refresh
      const rows = jobs.map((j) => {
        const st = statusInfo(j.statuscode);
        const box = h('input', { type: 'checkbox', class: 'row-check', value: j.id, checked: selected.has(j.id), 'aria-label': 'Select job' });
        box.addEventListener('change', () => {
          if (box.checked) selected.add(j.id); else selected.delete(j.id);
          box.closest('tr').classList.toggle('selected', box.checked);
          updateSelection();
        });
        const completed = j.completedon ? timeEl(j.completedon)
          : j.postponeuntil ? h('span', { class: 'postponed', title: `Postponed until ${j.postponeuntil}` }, 'until ', fmtDate(j.postponeuntil)) : h('span', { class: 'muted' }, '—');
        const err = j.friendlymessage || (j.errorcode ? hexCode(j.errorcode) : '');
        const fresh = prev && !prev.has(j.id);
        return h('tr', { 'data-job-id': j.id, 'data-status': String(j.statuscode), 'data-test': 'job-row', class: (selected.has(j.id) ? 'selected' : '') + (fresh ? ' fresh' : '') },
          h('td', { class: 'col-check' }, box),
          h('td', { class: 'col-name' }, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}`, 'data-test': 'job-link', title: j.name || j.id }, j.name || j.id),
            subLine(j)),
          h('td', null, statusBadge(j.statuscode, j.status || st.name)),
          h('td', null, j.primaryentitytype || ''),
          h('td', null, j.messagename || ''),
          h('td', null, j.regardingobjectid ? h('a', {
            href: jobsHash({ statuses: [], search: j.regardingobjectid, page: 1, size: f.size }), class: 'mono clip regarding',
            title: `${j.regardingobjectid} — show the jobs of this record`, 'data-test': 'job-regarding-link',
          }, j.regardingobjectid) : ''),
          h('td', { class: 'nowrap' }, timeEl(j.createdon)),
          h('td', { class: 'nowrap' }, completed),
          h('td', { class: 'num' }, j.retrycount ? fmtNum(j.retrycount) : h('span', { class: 'muted' }, '0')),
          h('td', { class: 'col-error', title: [Number(j.statuscode) === 30 && err ? 'Earlier error:' : '', j.errorcode ? errorCodeText(j.errorcode) : '', j.friendlymessage || ''].filter(Boolean).join(' ') || null },
            err ? h('span', { class: Number(j.statuscode) === 30 ? 'err-text err-old' : 'err-text' }, err) : ''));
      });
      if (!rows.length) {
        rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 10, 'data-test': 'jobs-empty' }, data ? 'No system jobs match these filters.' : '')));
      }
      replace(tbody, rows);
      syncChecks();
    }

    function renderPager() {
      const total = Number((data && data.total) || 0);
      const size = Number((data && data.pageSize) || f.size);
      const cur = Number((data && data.page) || f.page);
      const pages = Math.max(1, Math.ceil(total / size));
      const first = total ? (cur - 1) * size + 1 : 0;
      const last = Math.min(total, cur * size);
      totalEl.dataset.total = String(total);
      replace(totalEl, total ? `${fmtNum(first)}–${fmtNum(last)} of ` : '', h('strong', null, fmtNum(total)), ` job${total === 1 ? '' : 's'}`);
      const go = (p) => setFilters({ page: Math.min(Math.max(1, p), pages) }, true);
      const pageIn = h('input', { type: 'number', min: 1, max: pages, value: cur, class: 'page-input', 'data-test': 'page-input', 'aria-label': 'Page' });
      pageIn.addEventListener('change', () => go(parseInt(pageIn.value, 10) || 1));
      const sizeSel = select({ 'data-test': 'page-size', title: 'Rows per page' }, PAGE_SIZES.map((n) => [n, `${n} / page`]), f.size);
      sizeSel.addEventListener('change', () => setFilters({ size: Number(sizeSel.value) }));
      replace(pager,
        button('«', { class: 'btn btn-sm', title: 'First page', disabled: cur <= 1, 'data-test': 'page-first', onclick: () => go(1) }),
        button('‹ Prev', { class: 'btn btn-sm', disabled: cur <= 1, 'data-test': 'page-prev', onclick: () => go(cur - 1) }),
        h('span', { class: 'page-of' }, 'Page ', pageIn, ` of ${fmtNum(pages)}`),
        button('Next ›', { class: 'btn btn-sm', disabled: cur >= pages, 'data-test': 'page-next', onclick: () => go(cur + 1) }),
        button('»', { class: 'btn btn-sm', title: 'Last page', disabled: cur >= pages, 'data-test': 'page-last', onclick: () => go(pages) }),
        sizeSel);
    }

    async function load() {
      const my = ++seq;
      root.dataset.state = 'loading';
      const params = {
        status: f.statuses, step: f.step, endpoint: f.endpoint, table: f.table, message: f.message,
        since: f.since, until: f.until, search: f.search, page: f.page, pageSize: f.size,
      };
      try {
        const d = await api(`/api/console/jobs${qs(params)}`);
        if (my !== seq) return;
        data = d || { total: 0, jobs: [], counts: {} };
        clear(msgArea);
        renderCounts();
        renderRows();
        renderPager();
        root.dataset.state = 'ready';
        root.dataset.loadedAt = String(Date.now());
        root.dataset.query = jobsHash(f);
        updatedEl.textContent = `Updated ${fmtDate(new Date().toISOString()).slice(11)}`;
      } catch (e) {
        if (my !== seq || e.status === 401 || e.name === 'AbortError') return;
        replace(msgArea, banner('error', `Cannot load system jobs: ${e.message}`, 'jobs-error'));
        root.dataset.state = 'error';
      }
    }

    refreshBtn.addEventListener('click', () => load());

    page.update = (route) => {
      const n = jobFiltersFrom(route.query);
      if (filterKey(n) !== filterKey(f)) { selected.clear(); results.hidden = true; lastIds = null; }
      f = n;
      syncInputs();
      load();
    };
    page.refresh = () => load();

    syncInputs();
    renderCounts();
    renderRows();
    updateSelection();
    load();
    loadChoices();
    return page;
  }

  // ---------------------------------------------------------------------------------------------
  // Page: System job detail  (#/jobs/<id>)
  // ---------------------------------------------------------------------------------------------

  function JobDetailPage(main, r, id) {
    const page = {};
    let job = null;
    let seq = 0;
    let ctxSig = null;
    let tab = 'tree';

    const head = h('div', { class: 'detail-head' });
    const msgArea = h('div', { class: 'msg-area' });
    const body = h('div', { class: 'detail-body' });
    const ctxSection = h('section', { class: 'card ctx-card', 'data-test': 'context' });
    const root = h('section', { class: 'page page-job', 'data-test': 'page-job', 'data-job-id': id, 'data-state': 'loading' },
      h('div', { class: 'crumbs' }, h('a', { href: app.lastJobsHash || '#/jobs', 'data-test': 'back-to-jobs' }, '‹ System jobs'), h('span', { class: 'muted' }, ' / '), h('span', { class: 'mono small' }, id)),
      head, msgArea, body, ctxSection);
    main.append(root);
    replace(body, spinner());

    async function act(action) {
      const body2 = { action, ids: [id] };
      if (action === 'postpone') {
        const until = await askDateTime('Postpone job', 'The job will not run before this time.');
        if (!until) return;
        body2.until = until;
      } else if (action === 'cancel') {
        if (!(await confirmBox('Cancel job', 'Cancel this system job? A canceled job does not run again.', 'Cancel job'))) return;
      }
      for (const b of head.querySelectorAll('button[data-action]')) b.disabled = true;
      try {
        const d = await api('/api/console/jobs/actions', { method: 'POST', body: body2 });
        const res = ((d && d.results) || []).find((x) => x.id === id) || ((d && d.results) || [])[0];
        const a = ACTIONS.find((x) => x.id === action);
        if (res && res.ok) replace(msgArea, banner('ok', `Job ${a.past}.`, 'action-result'));
        else replace(msgArea, banner('error', `${a.label.replace('…', '')} refused: ${(res && res.error) || 'no result'}`, 'action-result'));
      } catch (e) {
        replace(msgArea, banner('error', `Action failed: ${e.message}`, 'action-result'));
      }
      await load();
    }

    function kv(label, value, test) {
      return [h('dt', null, label), h('dd', { 'data-test': test || null }, value == null || value === '' ? h('span', { class: 'muted' }, '—') : value)];
    }

    function copyable(text, test) {
      if (!text) return null;
      return h('span', { class: 'copyable' }, h('span', { class: 'mono', 'data-test': test || null }, text),
        h('button', { type: 'button', class: 'btn btn-icon btn-copy', title: 'Copy to the clipboard', onclick: () => copyText(text) }, 'copy'));
    }

    function renderHead() {
      const j = job;
      const actions = ACTIONS.map((a) => h('button', {
        type: 'button', class: `btn btn-sm${a.id === 'retry' ? ' btn-primary' : ''}${a.id === 'cancel' ? ' btn-danger-outline' : ''}`,
        'data-action': a.id, 'data-test': `action-${a.id}`, id: `action-${a.id}`, disabled: !canDo(a.id, j),
        title: canDo(a.id, j) ? null : `Not allowed while the job is ${j.status || statusInfo(j.statuscode).name}`,
        onclick: () => act(a.id),
      }, a.label));
      replace(head,
        h('div', { class: 'detail-title' },
          h('h1', { 'data-test': 'job-name' }, j.name || j.id),
          h('span', { id: 'job-status', 'data-test': 'job-status', class: `badge badge-lg st-${statusInfo(j.statuscode).cls}`, 'data-status': String(j.statuscode) }, j.status || statusInfo(j.statuscode).name),
          h('span', { class: 'muted small', title: 'statecode' }, STATE_NAMES[stateOf(j)] || '')),
        h('div', { class: 'btn-group actions', 'data-test': 'job-actions' }, actions,
          button('Refresh', { class: 'btn btn-sm', 'data-test': 'job-refresh', onclick: () => load() })));
      document.title = `${j.name || 'Job'} · ${j.status || statusInfo(j.statuscode).name} · Conduit console`;
    }

    function renderBody() {
      const j = job;
      const regarding = j.regardingobjectid || j.primaryentitytype
        ? h('span', null, h('span', { class: 'tag' }, j.primaryentitytype || '?'), ' ', copyable(j.regardingobjectid, 'job-regarding-id'))
        : null;
      const overview = h('section', { class: 'card' }, h('h2', null, 'Overview'), h('dl', { class: 'kv' },
        kv('Status', h('span', null, statusBadge(j.statuscode, j.status), ' ', h('span', { class: 'muted small' }, `statuscode ${j.statuscode}, statecode ${stateOf(j)}`))),
        kv('Operation', OPERATION_TYPES[j.operationtype] ? `${OPERATION_TYPES[j.operationtype]} (${j.operationtype})` : (j.operationtype ?? '')),
        kv('Message', j.messagename, 'job-messagename'),
        kv('Regarding', regarding, 'job-regarding'),
        kv('Step', j.stepName || j.stepId ? h('span', null, j.stepName || '', ' ', j.stepId ? mono(j.stepId, 'muted small') : null) : null),
        kv('Endpoint', j.endpointName || j.endpointId ? h('span', null, j.endpointId ? h('a', { href: '#/endpoints' }, j.endpointName || j.endpointId) : j.endpointName, ' ', j.endpointId ? mono(j.endpointId, 'muted small') : null) : null),
        j.workflowId ? kv('Workflow', copyable(j.workflowId)) : null,
        kv('Job id', copyable(j.id, 'job-id'))));
      const postponed = j.postponeuntil ? h('span', null, timeEl(j.postponeuntil, true), ' ', h('span', { class: 'muted small' }, relTime(j.postponeuntil))) : null;
      const timing = h('section', { class: 'card' }, h('h2', null, 'Timing'), h('dl', { class: 'kv' },
        kv('Created', j.createdon ? h('span', null, timeEl(j.createdon, true), ' ', h('span', { class: 'muted small' }, relTime(j.createdon))) : null, 'job-created'),
        kv('Started', j.startedon ? timeEl(j.startedon, true) : null, 'job-started'),
        kv('Completed', j.completedon ? timeEl(j.completedon, true) : null, 'job-completed'),
        kv('Postponed until', postponed, 'job-postponed'),
        kv('Execution time', j.executiontimespan != null ? fmtSeconds(j.executiontimespan) : null, 'job-execution-time'),
        kv('Lease expires', j.leaseexpireson ? timeEl(j.leaseexpireson, true) : null)));
      const exec = h('section', { class: 'card' }, h('h2', null, 'Execution'), h('dl', { class: 'kv' },
        kv('Retry count', fmtNum(j.retrycount ?? 0), 'job-retrycount'),
        kv('Error code', j.errorcode ? h('span', { class: 'mono err-text' }, errorCodeText(j.errorcode)) : null, 'job-errorcode'),
        kv('Depth', j.depth != null ? String(j.depth) : null),
        j.postedFormat ? kv('Posted format', String(j.postedFormat)) : null,
        kv('Host', j.hostid ? mono(j.hostid) : null),
        kv('Correlation id', copyable(j.correlationid, 'job-correlationid')),
        kv('Request id', copyable(j.requestid, 'job-requestid')),
        kv('Trace parent', copyable(j.traceparent, 'job-traceparent'))));

      const parts = [h('div', { class: 'cards3' }, overview, timing, exec)];

      if (j.friendlymessage || j.message || j.errorcode) {
        const old = Number(j.statuscode) === 30;
        parts.push(h('section', { class: old ? 'card card-error card-error-old' : 'card card-error', 'data-test': 'job-error' },
          h('h2', null, old ? 'Earlier error ' : 'Error', old ? h('span', { class: 'muted small' }, 'from an attempt before the job succeeded') : null),
          j.errorcode ? h('div', { class: 'err-code mono' }, errorCodeText(j.errorcode)) : null,
          j.friendlymessage ? h('p', { class: 'err-friendly', 'data-test': 'job-friendlymessage' }, j.friendlymessage) : null,
          j.message ? h('pre', { class: 'pre pre-error', 'data-test': 'job-message', id: 'job-message' }, j.message) : null));
      }

      const attempts = j.attempts || [];
      parts.push(h('section', { class: 'card', 'data-test': 'attempts-card' },
        h('h2', null, 'Run history ', h('span', { class: 'muted small' }, `${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`)),
        attempts.length ? h('table', { class: 'grid compact', 'data-test': 'attempts' },
          h('thead', null, h('tr', null, ['#', 'Started', 'Ended', 'Duration', 'Outcome', 'Error code', 'Message'].map((t) => h('th', null, t)))),
          h('tbody', null, attempts.map((a, i) => h('tr', { 'data-test': 'attempt', 'data-outcome': a.outcome || '' },
            h('td', { class: 'num' }, String(i + 1)),
            h('td', { class: 'nowrap' }, timeEl(a.startedon, true)),
            h('td', { class: 'nowrap' }, timeEl(a.endedon, true)),
            h('td', { class: 'nowrap' }, duration(a.startedon, a.endedon)),
            h('td', null, h('span', { class: `outcome oc-${(a.outcome || 'unknown').replace(/[^a-z]/g, '')}` }, a.outcome || '')),
            h('td', { class: 'mono nowrap' }, a.errorcode ? errorCodeText(a.errorcode) : ''),
            h('td', { class: 'attempt-msg' }, a.message || ''))))) : h('p', { class: 'muted', 'data-test': 'attempts-empty' }, 'The job has not run yet.')));

      if (j.response != null && j.response !== '') {
        const text = typeof j.response === 'string' ? j.response : JSON.stringify(j.response, null, 2);
        parts.push(h('section', { class: 'card', 'data-test': 'job-response-card' }, h('h2', null, 'Relay answer'),
          h('pre', { class: 'pre', 'data-test': 'job-response' }, prettyMaybeJson(text))));
      }
      replace(body, parts);
    }

    function renderContext() {
      const sig = JSON.stringify([job.context, job.contextError]);
      if (sig === ctxSig) return; // unchanged: keep tab, scroll and tree state
      ctxSig = sig;
      const c = job.context;
      const kids = [h('h2', null, 'Execution context')];
      if (job.contextError) kids.push(banner('error', `The context cannot be read: ${job.contextError}`, 'context-error'));
      if (!c) {
        if (!job.contextError) kids.push(h('p', { class: 'muted', 'data-test': 'context-empty' }, 'No context is stored for this job.'));
        replace(ctxSection, kids);
        return;
      }
      const json = c.json != null ? JSON.stringify(c.json, null, 2) : '';
      const xml = c.xml || '';
      const tabs = [['tree', 'Tree'], ['json', 'JSON'], ['xml', 'XML']];
      const panes = {
        tree: h('div', { class: 'ctx-pane', 'data-test': 'ctx-tree', id: 'ctx-tree' }, c.json != null ? contextTree(c.json) : h('p', { class: 'muted' }, 'No JSON form.')),
        json: h('div', { class: 'ctx-pane', 'data-test': 'ctx-json-pane' },
          h('div', { class: 'pane-tools' }, button('Copy JSON', { class: 'btn btn-sm', onclick: () => copyText(json) })),
          h('pre', { class: 'pre code', 'data-test': 'ctx-json', id: 'ctx-json' }, json || '(none)')),
        xml: h('div', { class: 'ctx-pane', 'data-test': 'ctx-xml-pane' },
          h('div', { class: 'pane-tools' }, button('Copy XML', { class: 'btn btn-sm', onclick: () => copyText(xml) })),
          h('pre', { class: 'pre code', 'data-test': 'ctx-xml', id: 'ctx-xml' }, xml || '(none)')),
      };
      const tabBtns = tabs.map(([k, label]) => h('button', { type: 'button', role: 'tab', class: 'tab', 'data-tab': k, 'data-test': `ctx-tab-${k}`, id: `ctx-tab-${k}` }, label));
      const show = (k) => {
        tab = k;
        for (const b of tabBtns) { const on = b.dataset.tab === k; b.classList.toggle('active', on); b.setAttribute('aria-selected', on ? 'true' : 'false'); }
        for (const [pk, p] of Object.entries(panes)) p.hidden = pk !== k;
      };
      for (const b of tabBtns) b.addEventListener('click', () => show(b.dataset.tab));
      kids.push(h('div', { class: 'tabs', role: 'tablist' }, tabBtns,
        h('span', { class: 'tabs-end muted small' }, c.json ? contextSummary(c.json) : '')), panes.tree, panes.json, panes.xml);
      replace(ctxSection, kids);
      show(tab);
    }

    async function load() {
      const my = ++seq;
      try {
        const d = await api(`/api/console/jobs/${encodeURIComponent(id)}`);
        if (my !== seq) return;
        job = d;
        if (msgArea.dataset.kind === 'load-error') { clear(msgArea); delete msgArea.dataset.kind; }
        renderHead();
        renderBody();
        renderContext();
        root.dataset.state = 'ready';
        root.dataset.status = String(job.statuscode);
      } catch (e) {
        if (my !== seq || e.status === 401 || e.name === 'AbortError') return;
        if (e.status === 404) {
          replace(head, h('div', { class: 'detail-title' }, h('h1', null, 'System job not found')));
          replace(body, banner('error', e.message || `No system job has the id ${id}.`, 'job-not-found'));
          clear(ctxSection);
          root.dataset.state = 'notfound';
          return;
        }
        replace(msgArea, banner('error', `Cannot load the job: ${e.message}`, 'job-error-load'));
        msgArea.dataset.kind = 'load-error';
        if (!job) { clear(body); root.dataset.state = 'error'; }
      }
    }

    page.refresh = () => load();
    page.update = () => load();
    load();
    return page;
  }

  function prettyMaybeJson(text) {
    const t = String(text).trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try { return JSON.stringify(JSON.parse(t), null, 2); } catch { /* not JSON */ }
    }
    return String(text);
  }

  // ---------------------------------------------------------------------------------------------
  // The readable context tree (DataContract JSON of a RemoteExecutionContext)
  // ---------------------------------------------------------------------------------------------

  const DATE_RE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;
  const COLLAPSED_KEYS = new Set(['ParentContext']);

  const typeOf = (o) => (o && typeof o === 'object' && !Array.isArray(o) && o.__type ? String(o.__type).split(':')[0] : '');
  const isObj = (o) => o && typeof o === 'object' && !Array.isArray(o);
  const isEntity = (o) => isObj(o) && 'LogicalName' in o && 'Attributes' in o;
  const isEntityRef = (o) => isObj(o) && 'LogicalName' in o && 'Id' in o && !('Attributes' in o);

  function isKVList(a) {
    return Array.isArray(a) && a.length > 0 && a.every((x) => isObj(x) && 'key' in x && 'value' in x
      && Object.keys(x).every((k) => k === 'key' || k === 'value' || k === '__type'));
  }

  function contextSummary(c) {
    const bits = [];
    if (c.MessageName) bits.push(c.MessageName);
    if (c.PrimaryEntityName) bits.push(`of ${c.PrimaryEntityName}`);
    if (c.Stage != null) bits.push(`· stage ${c.Stage}${STAGES[c.Stage] ? ' ' + STAGES[c.Stage] : ''}`);
    if (c.Mode != null) bits.push(`· ${MODES[c.Mode] || 'mode ' + c.Mode}`);
    if (c.Depth != null) bits.push(`· depth ${c.Depth}`);
    return bits.join(' ');
  }

  function contextTree(json) {
    const tree = h('div', { class: 'tree', 'data-test': 'ctx-tree-root' });
    if (isObj(json)) {
      for (const [k, v] of Object.entries(json)) if (k !== '__type') tree.append(treeNode(k, v, 0));
    } else {
      tree.append(treeNode('context', json, 0));
    }
    const setAll = (open) => { for (const d of tree.querySelectorAll('details')) d.open = open; };
    const hideEmpty = h('input', { type: 'checkbox', checked: true, 'data-test': 'ctx-hide-empty' });
    hideEmpty.addEventListener('change', () => tree.classList.toggle('hide-empty', hideEmpty.checked));
    tree.classList.add('hide-empty');
    return h('div', null,
      h('div', { class: 'pane-tools' },
        button('Expand all', { class: 'btn btn-sm', 'data-test': 'ctx-expand-all', onclick: () => setAll(true) }),
        button('Collapse all', { class: 'btn btn-sm', 'data-test': 'ctx-collapse-all', onclick: () => setAll(false) }),
        h('label', { class: 'check small' }, hideEmpty, 'Hide empty and null values')),
      tree);
  }

  /** A leaf rendering for simple values; null when the value needs its own subtree. */
  function inlineValue(v) {
    if (v === null || v === undefined) return h('span', { class: 'tv tv-null' }, 'null');
    if (typeof v === 'boolean') return h('span', { class: 'tv tv-bool' }, String(v));
    if (typeof v === 'number') return h('span', { class: 'tv tv-num' }, String(v));
    if (typeof v === 'string') {
      const m = DATE_RE.exec(v);
      if (m) {
        const d = new Date(Number(m[1]));
        return h('span', { class: 'tv tv-date', title: v }, `${fmtDate(d.toISOString(), true)}${useUTC() ? ' UTC' : ''}`, h('span', { class: 'muted small' }, `  ${v}`));
      }
      return h('span', { class: 'tv tv-str' }, v);
    }
    if (Array.isArray(v) && v.length === 0) return h('span', { class: 'tv tv-empty' }, '(empty)');
    if (isObj(v)) {
      const t = typeOf(v);
      const keys = Object.keys(v).filter((k) => k !== '__type');
      if (keys.length === 0) return h('span', { class: 'tv tv-empty' }, t ? `${t} (empty)` : '{}');
      if (isEntityRef(v) && keys.every((k) => ['Id', 'LogicalName', 'Name', 'KeyAttributes', 'RowVersion'].includes(k))) {
        return h('span', { class: 'tv tv-ref' }, h('span', { class: 'tag' }, v.LogicalName || '?'), ' ', h('span', { class: 'mono' }, v.Id || ''),
          v.Name ? h('span', { class: 'muted' }, ` “${v.Name}”`) : null, h('span', { class: 'ttype' }, t || 'EntityReference'));
      }
      if (keys.length === 1 && keys[0] === 'Value' && !isObj(v.Value) && !Array.isArray(v.Value)) {
        return h('span', { class: 'tv tv-num' }, String(v.Value), h('span', { class: 'ttype' }, t || 'Value'));
      }
    }
    return null;
  }

  function isEmptyValue(v) {
    return v === null || v === undefined || (Array.isArray(v) && v.length === 0) || v === EMPTY_GUID;
  }

  /** The key column narrows by one indent per level so that values line up across depths (CSSOM, CSP-safe). */
  function treeKey(key, depth) {
    const k = h('span', { class: 'tk', title: key }, key);
    k.style.width = `${Math.max(70, 210 - 19 * depth)}px`;
    return k;
  }

  function treeNode(key, v, depth) {
    const leaf = inlineValue(v);
    if (leaf) {
      return h('div', { class: 'tn-leaf' + (isEmptyValue(v) ? ' is-empty' : ''), 'data-key': key }, treeKey(key, depth), leaf);
    }
    let label = '';
    let kids = [];
    if (Array.isArray(v)) {
      if (isKVList(v)) {
        label = `${v.length} ${v.length === 1 ? 'entry' : 'entries'}`;
        kids = v.map((p) => treeNode(String(p.key), p.value, depth + 1));
      } else {
        label = `[${v.length}]`;
        kids = v.map((x, i) => treeNode(String(i), x, depth + 1));
      }
    } else {
      const t = typeOf(v);
      if (isEntity(v)) {
        const nAttr = Array.isArray(v.Attributes) ? v.Attributes.length : 0;
        label = h('span', null, h('span', { class: 'tag' }, v.LogicalName || '?'), ' ',
          v.Id && v.Id !== EMPTY_GUID ? h('span', { class: 'mono' }, v.Id) : null,
          h('span', { class: 'muted' }, ` · ${nAttr} attribute${nAttr === 1 ? '' : 's'}`), h('span', { class: 'ttype' }, t || 'Entity'));
        const order = ['Attributes', 'FormattedValues', 'KeyAttributes', 'RelatedEntities', 'EntityState', 'RowVersion', 'Id', 'LogicalName'];
        const keys = [...order.filter((k) => k in v), ...Object.keys(v).filter((k) => !order.includes(k) && k !== '__type')];
        kids = keys.map((k) => treeNode(k, v[k], depth + 1));
      } else {
        const keys = Object.keys(v).filter((k) => k !== '__type');
        label = h('span', null, h('span', { class: 'muted' }, `${keys.length} field${keys.length === 1 ? '' : 's'}`), t ? h('span', { class: 'ttype' }, t) : null);
        kids = keys.map((k) => treeNode(k, v[k], depth + 1));
      }
    }
    const open = !COLLAPSED_KEYS.has(key) && depth < 6;
    return h('details', { class: 'tn', open, 'data-key': key },
      h('summary', null, treeKey(key, depth), h('span', { class: 'tl' }, label)),
      h('div', { class: 'tc' }, kids));
  }

  // ---------------------------------------------------------------------------------------------
  // Page: Service endpoints and their steps  (#/endpoints)
  // ---------------------------------------------------------------------------------------------

  function EndpointsPage(main) {
    const page = {};
    let endpoints = [];
    let seq = 0;
    document.title = 'Service endpoints · Conduit console';

    const msgArea = h('div', { class: 'msg-area' });
    const formHost = h('div', { class: 'form-host' });
    const list = h('div', { class: 'ep-list', 'data-test': 'endpoints' });
    const registerBtn = button('+ Register endpoint', { class: 'btn btn-primary', 'data-test': 'endpoint-register', onclick: () => showForm(null) });
    const root = h('section', { class: 'page page-endpoints', 'data-test': 'page-endpoints', 'data-state': 'loading' },
      h('div', { class: 'page-head' }, h('h1', null, 'Service endpoints'),
        h('span', { class: 'muted small' }, 'Where system jobs post execution contexts, with the steps that feed them'),
        h('div', { class: 'page-head-end' }, button('Refresh', { class: 'btn', 'data-test': 'endpoints-refresh', onclick: () => load() }), registerBtn)),
      msgArea, formHost, list);
    main.append(root);
    replace(list, spinner());

    function address(e) {
      if (e.url) return e.url;
      const ns = e.namespaceaddress || '';
      if (!ns) return e.path || '';
      return ns.replace(/\/+$/, '') + (e.path ? '/' + String(e.path).replace(/^\/+/, '') : '');
    }

    function authText(e) {
      const t = AUTH_TYPES[e.authtype] || (e.authtype != null ? String(e.authtype) : '');
      const bits = [t];
      if (e.saskeyname) bits.push(`key “${e.saskeyname}”`);
      if (e.issaskeyset === true || e.issastokenset === true || e.isauthvalueset === true) bits.push('secret set');
      return bits.filter(Boolean).join(' · ');
    }

    function showForm(ep) {
      const isEdit = !!ep;
      const v = ep || { contract: 2, messageformat: 2, authtype: 2, userclaim: 1, connectionmode: 1 };
      const name = h('input', { type: 'text', required: true, value: v.name || '', 'data-test': 'ep-name', spellcheck: 'false' });
      const desc = h('input', { type: 'text', value: v.description || '', 'data-test': 'ep-description' });
      const contract = select({ 'data-test': 'ep-contract' }, Object.entries(CONTRACTS).map(([k, l]) => [k, `${l} (${k})`]), v.contract);
      const format = select({ 'data-test': 'ep-format' }, Object.entries(FORMATS).map(([k, l]) => [k, l]), v.messageformat || 2);
      const claim = select({ 'data-test': 'ep-userclaim' }, Object.entries(USER_CLAIMS).map(([k, l]) => [k, l]), v.userclaim || 1);
      const addrMode = select({ 'data-test': 'ep-address-mode' }, [['ns', 'Namespace address + path'], ['url', 'URL']], v.url && !v.namespaceaddress ? 'url' : 'ns');
      const ns = h('input', { type: 'text', value: v.namespaceaddress || '', placeholder: 'sb://conduit.servicebus.windows.net/', 'data-test': 'ep-namespace', spellcheck: 'false' });
      const path = h('input', { type: 'text', value: v.path || '', placeholder: 'queue, topic, hub or relay name', 'data-test': 'ep-path', spellcheck: 'false' });
      const url = h('input', { type: 'text', value: v.url || '', placeholder: 'https://…', 'data-test': 'ep-url', spellcheck: 'false' });
      const auth = select({ 'data-test': 'ep-authtype' }, Object.entries(AUTH_TYPES).map(([k, l]) => [k, l]), v.authtype || 2);
      const keyName = h('input', { type: 'text', value: v.saskeyname || '', placeholder: 'RootManageSharedAccessKey', 'data-test': 'ep-saskeyname', spellcheck: 'false' });
      const keyVal = h('input', { type: 'password', autocomplete: 'new-password', placeholder: isEdit ? 'unchanged' : '', 'data-test': 'ep-saskey' });
      const token = h('input', { type: 'password', autocomplete: 'new-password', placeholder: isEdit ? 'unchanged' : 'SharedAccessSignature sr=…', 'data-test': 'ep-sastoken' });
      const authValue = h('textarea', { rows: 2, placeholder: isEdit ? 'unchanged' : 'key, or header/query pairs', 'data-test': 'ep-authvalue', spellcheck: 'false' });
      const err = h('div', { class: 'form-error', role: 'alert', hidden: true, 'data-test': 'ep-form-error' });

      const fNs = field('Namespace address', ns);
      const fPath = field('Path', path);
      const fUrl = field('URL', url);
      const fMode = field('Address', addrMode);
      const fKeyName = field('SAS key name', keyName);
      const fKey = field('SAS key', keyVal);
      const fToken = field('SAS token', token);
      const fAuthValue = field('Auth value', authValue, 'WebhookKey: the key; HttpHeader / HttpQueryString: name=value pairs');

      function sync() {
        const webhook = contract.value === '8';
        const authOpts = webhook ? ['4', '5', '6'] : ['2', '3'];
        for (const o of auth.options) o.hidden = !authOpts.includes(o.value);
        if (!authOpts.includes(auth.value)) auth.value = authOpts[0];
        fMode.hidden = webhook;
        const useUrl = webhook || addrMode.value === 'url';
        fNs.hidden = useUrl;
        fPath.hidden = useUrl;
        fUrl.hidden = !useUrl;
        fKeyName.hidden = auth.value !== '2';
        fKey.hidden = auth.value !== '2';
        fToken.hidden = auth.value !== '3';
        fAuthValue.hidden = !webhook;
      }
      contract.addEventListener('change', sync);
      addrMode.addEventListener('change', sync);
      auth.addEventListener('change', sync);

      const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'ep-save' }, isEdit ? 'Save changes' : 'Register');
      const cancel = button('Cancel', { 'data-test': 'ep-cancel', onclick: () => clear(formHost) });
      const form = h('form', { class: 'card form', 'data-test': 'endpoint-form', autocomplete: 'off' },
        h('h2', null, isEdit ? `Edit endpoint “${ep.name}”` : 'Register a service endpoint'),
        h('div', { class: 'form-grid' },
          field('Name', name), field('Description', desc), field('Contract', contract), field('Message format', format),
          field('User claim', claim), fMode, fNs, fPath, fUrl, field('Authentication', auth), fKeyName, fKey, fToken, fAuthValue),
        err, h('div', { class: 'form-actions' }, cancel, save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        err.hidden = true;
        const webhook = contract.value === '8';
        const useUrl = webhook || addrMode.value === 'url';
        const body = {
          name: name.value.trim(), description: desc.value.trim() || null,
          contract: Number(contract.value), messageformat: Number(format.value), userclaim: Number(claim.value),
          authtype: Number(auth.value), connectionmode: 1,
        };
        if (useUrl) { body.url = url.value.trim(); if (isEdit) { body.namespaceaddress = null; body.path = null; } }
        else { body.namespaceaddress = ns.value.trim(); body.path = path.value.trim(); if (isEdit) body.url = null; }
        if (auth.value === '2') { body.saskeyname = keyName.value.trim(); if (keyVal.value) body.saskey = keyVal.value; }
        if (auth.value === '3' && token.value) body.sastoken = token.value;
        if (webhook && authValue.value) body.authvalue = authValue.value;
        if (!body.name) { err.textContent = 'A name is required.'; err.hidden = false; return; }
        if (useUrl && !body.url) { err.textContent = 'A URL is required.'; err.hidden = false; return; }
        if (!useUrl && !body.namespaceaddress) { err.textContent = 'A namespace address is required.'; err.hidden = false; return; }
        save.disabled = true;
        try {
          if (isEdit) await api(`/api/data/v9.2/serviceendpoints(${ep.serviceendpointid})`, { method: 'PATCH', body });
          else await api('/api/data/v9.2/serviceendpoints', { method: 'POST', body });
          clear(formHost);
          replace(msgArea, banner('ok', isEdit ? `Endpoint “${body.name}” saved.` : `Endpoint “${body.name}” registered.`, 'endpoint-saved'));
          await load();
        } catch (x) {
          err.textContent = x.message;
          err.hidden = false;
        } finally {
          save.disabled = false;
        }
      });
      replace(formHost, form);
      sync();
      name.focus();
      form.scrollIntoView({ block: 'nearest' });
    }

    async function testEndpoint(ep, out, btn) {
      btn.disabled = true;
      replace(out, h('span', { class: 'muted' }, 'Sending test message…'));
      out.dataset.result = 'pending';
      try {
        await api(`/api/data/v9.2/serviceendpoints(${ep.serviceendpointid})/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck`, { method: 'POST', body: {} });
        replace(out, h('span', { class: 'ok' }, `✓ Test message delivered (${fmtDate(new Date().toISOString())})`));
        out.dataset.result = 'ok';
      } catch (e) {
        replace(out, h('span', { class: 'bad' }, `✗ ${e.message}`));
        out.dataset.result = 'error';
      }
      btn.disabled = false;
    }

    async function deleteEndpoint(ep) {
      const ok = await confirmBox('Delete endpoint', `Delete the service endpoint “${ep.name}”? Its steps stop posting to it.`, 'Delete');
      if (!ok) return;
      try {
        await api(`/api/data/v9.2/serviceendpoints(${ep.serviceendpointid})`, { method: 'DELETE' });
        replace(msgArea, banner('ok', `Endpoint “${ep.name}” deleted.`, 'endpoint-deleted'));
      } catch (e) {
        replace(msgArea, banner('error', `Cannot delete “${ep.name}”: ${e.message}`, 'endpoint-delete-error'));
      }
      await load();
    }

    function stepsBlock(ep) {
      const host = h('div', { class: 'steps', 'data-test': 'steps', 'data-endpoint-id': ep.serviceendpointid });
      const tbody = h('tbody');
      const note = h('div', { class: 'steps-msg' });
      const table = h('table', { class: 'grid compact steps-grid' },
        h('thead', null, h('tr', null, ['Step', 'Message', 'Table', 'Stage', 'Mode', 'Rank', 'Filtering attributes', 'State', ''].map((t) => h('th', null, t)))),
        tbody);

      async function refreshSteps() {
        try {
          const steps = await loadSteps(ep.serviceendpointid);
          const rows = steps.map((s) => {
            const enabled = Number(s.statecode) === 0;
            const toggle = button(enabled ? 'Enabled' : 'Disabled', {
              class: `btn btn-sm toggle ${enabled ? 'on' : 'off'}`, 'data-test': 'step-toggle', 'aria-pressed': enabled ? 'true' : 'false',
              title: enabled ? 'Click to disable' : 'Click to enable',
            });
            toggle.addEventListener('click', async () => {
              toggle.disabled = true;
              try { await api(`/api/console/steps/${encodeURIComponent(s.id)}`, { method: 'PATCH', body: { statecode: enabled ? 1 : 0 } }); clear(note); }
              catch (e) { replace(note, banner('error', `Cannot change the step: ${e.message}`)); }
              await refreshSteps();
            });
            const del = button('Delete', { class: 'btn btn-sm btn-danger-outline', 'data-test': 'step-delete' });
            del.addEventListener('click', async () => {
              if (!(await confirmBox('Delete step', `Delete the step “${s.name || s.id}”?`, 'Delete'))) return;
              try { await api(`/api/console/steps/${encodeURIComponent(s.id)}`, { method: 'DELETE' }); clear(note); }
              catch (e) { replace(note, banner('error', `Cannot delete the step: ${e.message}`)); }
              await refreshSteps();
            });
            return h('tr', { 'data-step-id': s.id, 'data-test': 'step-row', 'data-state': enabled ? 'enabled' : 'disabled', class: enabled ? '' : 'disabled' },
              h('td', null, h('a', { href: jobsHash({ statuses: [], step: s.id, page: 1, size: 50 }), title: 'Show this step’s system jobs' }, s.name || s.id)),
              h('td', null, s.message || ''), h('td', null, s.table || h('span', { class: 'muted' }, 'any')),
              h('td', null, STAGES[s.stage] ? `${STAGES[s.stage]} (${s.stage})` : String(s.stage ?? '')),
              h('td', null, MODES[s.mode] || String(s.mode ?? '')), h('td', { class: 'num' }, String(s.rank ?? '')),
              h('td', { class: 'mono small' }, s.filteringattributes || h('span', { class: 'muted' }, 'all')),
              h('td', null, toggle), h('td', { class: 'nowrap' }, del));
          });
          if (!rows.length) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'No steps post to this endpoint yet.')));
          replace(tbody, rows);
        } catch (e) {
          if (e.status !== 401) replace(tbody, h('tr', null, h('td', { colspan: 9 }, banner('error', `Cannot load steps: ${e.message}`))));
        }
      }

      // add-step form
      const msg = h('input', { type: 'text', value: 'Create', list: 'dl-step-messages', size: 10, required: true, 'data-test': 'step-message', spellcheck: 'false' });
      const tbl = h('input', { type: 'text', placeholder: 'contact', size: 12, 'data-test': 'step-table', spellcheck: 'false' });
      const stage = select({ 'data-test': 'step-stage' }, Object.entries(STAGES).map(([k, l]) => [k, l]), 40);
      const mode = select({ 'data-test': 'step-mode' }, Object.entries(MODES).map(([k, l]) => [k, l]), 1);
      const rank = h('input', { type: 'number', value: 1, min: 1, class: 'w-num', 'data-test': 'step-rank' });
      const filt = h('input', { type: 'text', placeholder: 'firstname,lastname', size: 18, 'data-test': 'step-filtering', spellcheck: 'false' });
      const sname = h('input', { type: 'text', placeholder: '(automatic)', size: 16, 'data-test': 'step-name', spellcheck: 'false' });
      const add = h('button', { type: 'submit', class: 'btn btn-sm btn-primary', 'data-test': 'step-add' }, 'Add step');
      const addForm = h('form', { class: 'step-add', 'data-test': 'step-add-form' },
        h('span', { class: 'step-add-title' }, 'Add step'),
        field('Message', msg), field('Table', tbl), field('Stage', stage), field('Mode', mode), field('Rank', rank),
        field('Filtering attributes', filt), field('Name', sname), add);
      addForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        add.disabled = true;
        const body = {
          endpointId: ep.serviceendpointid, message: msg.value.trim(), table: tbl.value.trim() || null,
          stage: Number(stage.value), mode: Number(mode.value), rank: Number(rank.value) || 1,
          filteringattributes: filt.value.trim() || null,
        };
        if (sname.value.trim()) body.name = sname.value.trim();
        try {
          await api('/api/console/steps', { method: 'POST', body });
          replace(note, banner('ok', `Step added: ${body.message}${body.table ? ' of ' + body.table : ''}.`, 'step-added'));
          tbl.value = ''; filt.value = ''; sname.value = '';
        } catch (x) {
          replace(note, banner('error', `Cannot add the step: ${x.message}`, 'step-add-error'));
        }
        add.disabled = false;
        await refreshSteps();
      });
      append(host, [table, note, addForm]);
      refreshSteps();
      return host;
    }

    function render() {
      if (!endpoints.length) {
        replace(list, h('div', { class: 'empty-state', 'data-test': 'endpoints-empty' }, 'No service endpoints are registered. ',
          h('a', { href: '#', onclick: (e) => { e.preventDefault(); showForm(null); } }, 'Register one.')));
        return;
      }
      const cards = endpoints.map((ep) => {
        const out = h('span', { class: 'test-result', 'data-test': 'endpoint-test-result' });
        const testBtn = button('Send test message', { class: 'btn btn-sm', 'data-test': 'endpoint-test' });
        testBtn.addEventListener('click', () => testEndpoint(ep, out, testBtn));
        const addr = address(ep);
        return h('div', { class: 'card ep', 'data-endpoint-id': ep.serviceendpointid, 'data-test': 'endpoint' },
          h('table', { class: 'grid ep-grid' },
            h('thead', null, h('tr', null, ['Name', 'Contract', 'Format', 'Address', 'Authentication', 'User claim', ''].map((t) => h('th', null, t)))),
            h('tbody', null, h('tr', { 'data-test': 'endpoint-row', 'data-endpoint-id': ep.serviceendpointid },
              h('td', { class: 'ep-name' }, h('strong', { 'data-test': 'endpoint-name' }, ep.name || '(no name)'), ep.description ? h('div', { class: 'sub muted' }, ep.description) : null),
              h('td', null, CONTRACTS[ep.contract] || String(ep.contract ?? '')),
              h('td', null, FORMATS[ep.messageformat] || String(ep.messageformat ?? '')),
              h('td', { class: 'mono small ep-addr', title: addr }, addr),
              h('td', null, authText(ep)),
              h('td', null, USER_CLAIMS[ep.userclaim] || String(ep.userclaim ?? '')),
              h('td', { class: 'nowrap ep-actions' },
                testBtn,
                button('Edit', { class: 'btn btn-sm', 'data-test': 'endpoint-edit', onclick: () => showForm(ep) }),
                button('Delete', { class: 'btn btn-sm btn-danger-outline', 'data-test': 'endpoint-delete', onclick: () => deleteEndpoint(ep) }))))),
          h('div', { class: 'ep-foot' }, h('a', { href: jobsHash({ statuses: [], endpoint: ep.serviceendpointid, page: 1, size: 50 }), class: 'small' }, 'System jobs of this endpoint ›'), out),
          stepsBlock(ep));
      });
      replace(list, h('datalist', { id: 'dl-step-messages' }, COMMON_MESSAGES.map((m) => option(m, m))), cards);
    }

    async function load() {
      const my = ++seq;
      try {
        const eps = await loadEndpoints();
        if (my !== seq) return;
        endpoints = eps.slice().sort((a, b) => String(a.name || '').localeCompare(String(b.name || '')));
        render();
        root.dataset.state = 'ready';
      } catch (e) {
        if (my !== seq || e.status === 401) return;
        replace(list, banner('error', `Cannot load service endpoints: ${e.message}`, 'endpoints-error'));
        root.dataset.state = 'error';
      }
    }

    load();
    page.update = () => {};
    return page;
  }

  // ---------------------------------------------------------------------------------------------
  // Page: Bus explorer  (#/bus?entity=<name>&dl=1)
  // ---------------------------------------------------------------------------------------------

  function BusPage(main, r) {
    const page = {};
    let bus = null;
    let sel = { entity: r.query.get('entity') || '', dl: r.query.get('dl') === '1' };
    let seq = 0;

    document.title = 'Bus explorer · Conduit console';
    const side = h('div', { class: 'bus-side card', 'data-test': 'bus-entities' });
    const detail = h('div', { class: 'bus-detail', 'data-test': 'bus-detail' });
    const msgArea = h('div', { class: 'msg-area' });
    const root = h('section', { class: 'page page-bus', 'data-test': 'page-bus', 'data-state': 'loading' },
      h('div', { class: 'page-head' }, h('h1', null, 'Bus explorer'),
        h('span', { class: 'muted small' }, 'Queues, topics, event hubs and relays of the embedded bus'),
        h('div', { class: 'page-head-end' }, button('Refresh', { class: 'btn', 'data-test': 'bus-refresh', onclick: () => { load(); if (detailApi.reload) detailApi.reload(); } }))),
      msgArea, h('div', { class: 'bus-layout' }, side, detail));
    main.append(root);
    replace(side, spinner());
    let detailApi = {};

    function hashFor(entity, dl) {
      const u = new URLSearchParams();
      if (entity) u.set('entity', entity);
      if (dl) u.set('dl', '1');
      const s = u.toString();
      return '#/bus' + (s ? '?' + s : '');
    }

    function countCells(x) {
      return [
        h('td', { class: 'num' }, fmtNum(x.active ?? 0)),
        h('td', { class: 'num' }, fmtNum(x.scheduled ?? 0)),
        h('td', { class: 'num' + (x.deadLettered ? ' dl-count' : '') }, fmtNum(x.deadLettered ?? 0)),
      ];
    }

    function entityRow(kind, name, label, x, indent) {
      const tr = h('tr', {
        class: `bus-row kind-${kind}${sel.entity === name ? ' selected' : ''}`, 'data-test': 'bus-entity', 'data-entity': name, 'data-kind': kind, tabindex: 0,
      }, h('td', { class: indent ? 'indent' : '' }, h('span', { class: `kind-icon ki-${kind}` }, { queue: 'Q', topic: 'T', subscription: 'S', eventhub: 'E', relay: 'R' }[kind]), ' ', label),
      x ? countCells(x) : [h('td'), h('td'), h('td')]);
      const go = () => navigate(hashFor(name, kind === 'queue' || kind === 'subscription' ? sel.dl && sel.entity === name : false));
      tr.addEventListener('click', go);
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
      return tr;
    }

    function renderSide() {
      const b = bus || {};
      const rows = [];
      const section = (title, n) => rows.push(h('tr', { class: 'bus-section' }, h('td', { colspan: 4 }, title, h('span', { class: 'muted' }, ` (${n})`))));
      const queues = b.queues || [];
      const topics = b.topics || [];
      const hubs = b.eventHubs || [];
      const relays = b.relays || [];
      section('Queues', queues.length);
      for (const q of queues) rows.push(entityRow('queue', q.name, q.name, q));
      section('Topics', topics.length);
      for (const t of topics) {
        const subs = t.subscriptions || [];
        const sum = subs.reduce((a, s) => ({ active: a.active + (s.active || 0), scheduled: a.scheduled + (s.scheduled || 0), deadLettered: a.deadLettered + (s.deadLettered || 0) }), { active: 0, scheduled: 0, deadLettered: 0 });
        rows.push(entityRow('topic', t.name, t.name, subs.length ? sum : null));
        for (const s of subs) rows.push(entityRow('subscription', s.path || `${t.name}/subscriptions/${s.name}`, s.name, s, true));
      }
      section('Event hubs', hubs.length);
      for (const e of hubs) {
        const n = (e.partitions || []).reduce((a, p) => a + (Number(p.count) || 0), 0);
        const tr = entityRow('eventhub', e.name, e.name, null);
        tr.children[1].textContent = fmtNum(n);
        tr.children[1].className = 'num';
        tr.children[2].textContent = `${(e.partitions || []).length} part.`;
        tr.children[2].className = 'muted small';
        rows.push(tr);
      }
      section('Relays', relays.length);
      for (const rl of relays) {
        const tr = entityRow('relay', rl.name, rl.name, null);
        tr.children[1].textContent = `${fmtNum(rl.listeners || 0)} listener${rl.listeners === 1 ? '' : 's'}`;
        tr.children[1].className = 'small' + (rl.listeners ? ' ok' : ' muted');
        tr.children[1].colSpan = 3;
        tr.children[3].remove();
        tr.children[2].remove();
        rows.push(tr);
      }
      replace(side, h('table', { class: 'grid compact bus-grid' },
        h('thead', null, h('tr', null, h('th', null, 'Entity'), h('th', { class: 'num', title: 'Active messages' }, 'Active'), h('th', { class: 'num', title: 'Scheduled messages' }, 'Sched.'), h('th', { class: 'num', title: 'Dead-lettered messages' }, 'DLQ'))),
        h('tbody', null, rows)));
    }

    function findEntity() {
      const b = bus || {};
      const n = sel.entity;
      const q = (b.queues || []).find((x) => x.name === n);
      if (q) return { kind: 'queue', x: q };
      for (const t of b.topics || []) {
        if (t.name === n) return { kind: 'topic', x: t };
        const s = (t.subscriptions || []).find((y) => (y.path || `${t.name}/subscriptions/${y.name}`) === n);
        if (s) return { kind: 'subscription', x: s, topic: t };
      }
      const e = (b.eventHubs || []).find((x) => x.name === n);
      if (e) return { kind: 'eventhub', x: e };
      const rl = (b.relays || []).find((x) => x.name === n);
      if (rl) return { kind: 'relay', x: rl };
      return null;
    }

    function renderDetail(force) {
      if (!sel.entity) {
        detailApi = {};
        replace(detail, h('div', { class: 'card empty-state' }, 'Select a queue, subscription, event hub or relay on the left.'));
        return;
      }
      const found = findEntity();
      if (!found) {
        detailApi = {};
        replace(detail, h('div', { class: 'card' }, banner('error', `No entity named “${sel.entity}”.`)));
        return;
      }
      if (!force && detailApi.entity === sel.entity && detailApi.dl === sel.dl && detailApi.updateCounts) {
        detailApi.updateCounts(found.x);
        return;
      }
      if (found.kind === 'topic') return renderTopic(found.x);
      if (found.kind === 'eventhub') return renderHub(found.x);
      if (found.kind === 'relay') return renderRelay(found.x);
      return renderMessages(found);
    }

    function renderTopic(t) {
      detailApi = { entity: sel.entity, dl: sel.dl };
      const subs = t.subscriptions || [];
      replace(detail, h('div', { class: 'card' }, h('h2', null, h('span', { class: 'kind-icon ki-topic' }, 'T'), ' ', t.name),
        h('table', { class: 'grid compact' },
          h('thead', null, h('tr', null, ['Subscription', 'Active', 'Scheduled', 'Dead-lettered'].map((x) => h('th', null, x)))),
          h('tbody', null, subs.length ? subs.map((s) => {
            const p = s.path || `${t.name}/subscriptions/${s.name}`;
            return h('tr', { class: 'clickable', onclick: () => navigate(hashFor(p, false)) }, h('td', null, h('a', { href: hashFor(p, false) }, s.name)), countCells(s));
          }) : h('tr', { class: 'empty' }, h('td', { colspan: 4 }, 'No subscriptions.'))))));
    }

    function renderHub(e) {
      detailApi = { entity: sel.entity, dl: sel.dl };
      const parts = e.partitions || [];
      replace(detail, h('div', { class: 'card' }, h('h2', null, h('span', { class: 'kind-icon ki-eventhub' }, 'E'), ' ', e.name),
        h('table', { class: 'grid compact', 'data-test': 'hub-partitions' },
          h('thead', null, h('tr', null, ['Partition', 'Events', 'Last sequence'].map((x) => h('th', null, x)))),
          h('tbody', null, parts.map((p) => h('tr', null, h('td', null, String(p.id)), h('td', { class: 'num' }, fmtNum(p.count)), h('td', { class: 'num' }, p.lastSequence == null ? '—' : String(p.lastSequence))))))));
    }

    function renderRelay(rl) {
      detailApi = { entity: sel.entity, dl: sel.dl };
      replace(detail, h('div', { class: 'card' }, h('h2', null, h('span', { class: 'kind-icon ki-relay' }, 'R'), ' ', rl.name),
        h('dl', { class: 'kv' }, h('dt', null, 'Listeners'), h('dd', { 'data-test': 'relay-listeners' }, fmtNum(rl.listeners || 0))),
        h('p', { class: 'muted small' }, rl.listeners ? 'Two-way and REST endpoints posting here get a listener’s answer.' : 'No listener is connected: two-way and REST endpoints posting here fail.')));
    }

    function renderMessages(found) {
      const entity = sel.entity;
      const dl = sel.dl;
      const x = found.x;
      let msgs = [];
      let more = false;
      let current = null;
      const chosen = new Set();
      const title = h('h2', null, h('span', { class: `kind-icon ki-${found.kind}` }, found.kind === 'queue' ? 'Q' : 'S'), ' ', entity);
      const tabActive = h('button', { type: 'button', class: 'tab' + (dl ? '' : ' active'), 'data-test': 'bus-tab-active', onclick: () => navigate(hashFor(entity, false)) });
      const tabDl = h('button', { type: 'button', class: 'tab' + (dl ? ' active' : ''), 'data-test': 'bus-tab-deadletter', onclick: () => navigate(hashFor(entity, true)) });
      const setCounts = (c) => {
        replace(tabActive, 'Active ', h('span', { class: 'pill' }, fmtNum(c.active || 0)), c.scheduled ? h('span', { class: 'muted small' }, ` +${fmtNum(c.scheduled)} scheduled`) : null);
        replace(tabDl, 'Dead-letter ', h('span', { class: 'pill' + (c.deadLettered ? ' pill-bad' : '') }, fmtNum(c.deadLettered || 0)));
      };
      setCounts(x);
      const note = h('div', { class: 'msg-area' });
      const tbody = h('tbody');
      const moreBtn = button('Load more', { class: 'btn btn-sm', 'data-test': 'bus-more', hidden: true });
      const msgView = h('div', { class: 'msg-view', 'data-test': 'bus-message' });
      const dlTools = dl ? h('div', { class: 'btn-group' },
        button('Resubmit selected', { class: 'btn btn-sm', 'data-test': 'dl-resubmit-selected', onclick: () => dlAction('resubmit', true) }),
        button('Purge selected', { class: 'btn btn-sm btn-danger-outline', 'data-test': 'dl-purge-selected', onclick: () => dlAction('purge', true) }),
        button('Resubmit all', { class: 'btn btn-sm', 'data-test': 'dl-resubmit-all', onclick: () => dlAction('resubmit', false) }),
        button('Purge all', { class: 'btn btn-sm btn-danger', 'data-test': 'dl-purge-all', onclick: () => dlAction('purge', false) })) : null;
      const headCheck = dl ? h('input', { type: 'checkbox', title: 'Select all loaded' }) : null;
      if (headCheck) headCheck.addEventListener('change', () => { for (const m of msgs) { if (headCheck.checked) chosen.add(m.sequence); else chosen.delete(m.sequence); } renderList(); });
      const cols = ['Seq', 'Message id', 'Enqueued', 'Deliveries', 'Content type', 'Label', ...(dl ? ['Dead-letter reason'] : []), 'Size'];
      replace(detail, h('div', { class: 'card' }, title,
        h('div', { class: 'tabs' }, tabActive, tabDl, h('span', { class: 'tabs-end' }, dlTools, button('Reload', { class: 'btn btn-sm', 'data-test': 'bus-reload', onclick: () => loadMsgs(true) }))),
        note,
        h('div', { class: 'grid-wrap msgs-wrap' }, h('table', { class: 'grid compact', 'data-test': 'bus-messages' },
          h('thead', null, h('tr', null, dl ? h('th', { class: 'col-check' }, headCheck) : null, cols.map((c) => h('th', null, c)))), tbody)),
        h('div', { class: 'more' }, moreBtn)), msgView);

      function renderList() {
        const rows = msgs.map((m) => {
          const box = dl ? h('input', { type: 'checkbox', checked: chosen.has(m.sequence), onclick: (e) => e.stopPropagation() }) : null;
          if (box) box.addEventListener('change', () => { if (box.checked) chosen.add(m.sequence); else chosen.delete(m.sequence); });
          const tr = h('tr', { class: 'clickable' + (current === m ? ' selected' : ''), 'data-test': 'bus-message-row', 'data-sequence': String(m.sequence) },
            dl ? h('td', { class: 'col-check' }, box) : null,
            h('td', { class: 'num' }, String(m.sequence)),
            h('td', null, mono(m.messageId || '', 'clip')),
            h('td', { class: 'nowrap' }, timeEl(m.enqueued)),
            h('td', { class: 'num' }, String(m.deliveryCount ?? '')),
            h('td', null, m.contentType || ''),
            h('td', null, m.label || ''),
            dl ? h('td', { class: 'err-text', title: m.deadLetterDescription || null }, m.deadLetterReason || '') : null,
            h('td', { class: 'num nowrap' }, m.size != null ? `${fmtNum(m.size)} B` : ''));
          tr.addEventListener('click', () => { current = m; renderList(); renderMsg(m); });
          return tr;
        });
        if (!rows.length) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: cols.length + 1 }, dl ? 'No dead-lettered messages.' : 'No active messages.')));
        replace(tbody, rows);
        moreBtn.hidden = !more;
      }

      function renderMsg(m) {
        const sys = [['Sequence', m.sequence], ['Message id', m.messageId], ['Enqueued', m.enqueued ? fmtDate(m.enqueued, true) : ''],
          ['Delivery count', m.deliveryCount], ['Content type', m.contentType], ['Label', m.label], ['Size', m.size != null ? `${fmtNum(m.size)} bytes` : '']];
        if (m.deadLetterReason || m.deadLetterDescription) sys.push(['Dead-letter reason', m.deadLetterReason], ['Dead-letter description', m.deadLetterDescription]);
        const props = Object.entries(m.properties || {}).sort(([a], [b]) => a.localeCompare(b));
        const body = m.bodyIsBase64 ? m.body || '' : prettyMaybeJson(m.body || '');
        replace(msgView, h('div', { class: 'card' },
          h('h2', null, `Message ${m.sequence}`),
          h('div', { class: 'cards2 msg-props' },
            h('div', null, h('h3', null, 'System properties'), h('dl', { class: 'kv kv-wrap' }, sys.map(([k, v]) => [h('dt', null, k), h('dd', { class: 'mono small' }, v == null || v === '' ? '—' : String(v))]))),
            h('div', null, h('h3', null, `Application properties (${props.length})`),
              props.length ? h('dl', { class: 'kv kv-wrap', 'data-test': 'bus-message-properties' }, props.map(([k, v]) => [h('dt', { class: 'mono small' }, k), h('dd', { class: 'mono small' }, String(v))]))
                : h('p', { class: 'muted' }, 'None.'))),
          h('h3', null, 'Body', m.bodyIsBase64 ? h('span', { class: 'muted small' }, ' (binary, base64)') : null,
            m.size != null && m.size > 65536 ? h('span', { class: 'muted small' }, ' (first 64 KB)') : null,
            ' ', button('Copy', { class: 'btn btn-sm', onclick: () => copyText(m.body || '') })),
          h('pre', { class: 'pre code', 'data-test': 'bus-message-body' }, body)));
      }

      async function loadMsgs(reset) {
        const from = reset || !msgs.length ? 0 : Number(msgs[msgs.length - 1].sequence) + 1;
        const my = ++seq;
        try {
          const d = await api(`/api/console/bus/messages${qs({ entity, deadLetter: dl ? 'true' : 'false', from, count: 50 })}`);
          if (my !== seq) return;
          const got = (d && d.messages) || [];
          msgs = reset ? got : msgs.concat(got);
          more = got.length >= 50;
          if (reset) { current = current ? msgs.find((m) => m.sequence === current.sequence) || null : null; if (!current) clear(msgView); }
          renderList();
        } catch (e) {
          if (e.status !== 401) replace(note, banner('error', `Cannot peek messages: ${e.message}`, 'bus-error'));
        }
      }
      moreBtn.addEventListener('click', () => loadMsgs(false));

      async function dlAction(action, onlySelected) {
        const seqs = [...chosen];
        if (onlySelected && !seqs.length) { replace(note, banner('info', 'Select dead-lettered messages first.')); return; }
        const what = onlySelected ? `${seqs.length} selected dead-lettered message${seqs.length === 1 ? '' : 's'}` : `all dead-lettered messages of ${entity}`;
        const ok = await confirmBox(action === 'purge' ? 'Purge dead letters' : 'Resubmit dead letters',
          action === 'purge' ? `Permanently delete ${what}?` : `Send ${what} back to ${entity}?`, action === 'purge' ? 'Purge' : 'Resubmit', action === 'purge');
        if (!ok) return;
        const body = { entity, action };
        if (onlySelected) body.sequences = seqs;
        try {
          const d = await api('/api/console/bus/deadletters', { method: 'POST', body });
          replace(note, banner('ok', `${action === 'purge' ? 'Purged' : 'Resubmitted'} ${fmtNum((d && d.count) || 0)} message${d && d.count === 1 ? '' : 's'}.`, 'dl-result'));
          chosen.clear();
          if (headCheck) headCheck.checked = false;
        } catch (e) {
          replace(note, banner('error', `${action === 'purge' ? 'Purge' : 'Resubmit'} failed: ${e.message}`, 'dl-result'));
        }
        await load();
        await loadMsgs(true);
      }

      detailApi = { entity, dl, updateCounts: setCounts, reload: () => loadMsgs(true) };
      renderList();
      replace(tbody, h('tr', { class: 'empty' }, h('td', { colspan: cols.length + 1 }, spinner('Peeking…'))));
      loadMsgs(true);
    }

    async function load() {
      try {
        const d = await api('/api/console/bus');
        bus = d || {};
        clear(msgArea);
        renderSide();
        renderDetail(false);
        root.dataset.state = 'ready';
      } catch (e) {
        if (e.status === 401) return;
        replace(msgArea, banner('error', `Cannot load the bus: ${e.message}`, 'bus-load-error'));
        if (!bus) clear(side);
        root.dataset.state = 'error';
      }
    }

    page.update = (route) => {
      sel = { entity: route.query.get('entity') || '', dl: route.query.get('dl') === '1' };
      if (bus) { renderSide(); renderDetail(true); }
    };
    page.refresh = () => load(); // job activity moves messages: keep counts fresh
    load();
    return page;
  }

  // ---------------------------------------------------------------------------------------------

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
