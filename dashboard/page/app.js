// The head-office page: everything it shows comes from the JSON API of the same
// server; it never builds HTML from data (textContent only), and it polls instead of
// keeping a connection open, so a proxy or a phone going to sleep cannot break it.
'use strict';

var state = { quarter: null, detail: null, pollMs: 5000, timer: null };

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
  var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

// The token, if the page was opened as /?token=…, is now in a cookie the server set;
// it is taken out of the address bar so that it is not bookmarked or shared.
if (location.search.indexOf('token=') >= 0 && history.replaceState) {
  history.replaceState(null, '', location.pathname);
}

function api(path) {
  return fetch('api' + path, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
    return r.json().then(function (body) {
      if (!r.ok) throw new Error((body && body.message) || ('HTTP ' + r.status));
      return body;
    });
  });
}

// "150000050" hundredths → "1,500,000.50": decimals come as exact strings from the API.
function money(s) {
  if (s === null || s === undefined) return '–';
  var neg = s.charAt(0) === '-', t = neg ? s.slice(1) : s;
  var parts = t.split('.'), whole = parts[0], out = '';
  while (whole.length > 3) { out = ',' + whole.slice(-3) + out; whole = whole.slice(0, -3); }
  return (neg ? '-' : '') + whole + out + (parts.length > 1 ? '.' + parts[1] : '');
}

function pct(s) { return s === null || s === undefined ? '–' : s; }

function heatClass(avg) {
  if (avg === null || avg === undefined) return 'hn';
  var v = parseFloat(avg);
  return v >= 100 ? 'h3' : v >= 80 ? 'h2' : v >= 50 ? 'h1' : 'h0';
}

function regionLabel(r) {
  var mn = r.name_mn || r.code, en = r.name_en || '';
  return { mn: mn, en: en };
}

function labelCell(tag, mn, en) {
  var c = el(tag);
  c.appendChild(el('span', mn));
  if (en) { c.appendChild(document.createTextNode(' ')); c.appendChild(el('span', en, 'en')); }
  return c;
}

// Times as head office reads them: Ulaanbaatar time (UTC+8, no daylight saving).
function fmtTime(ms) {
  if (ms === null || ms === undefined) return '–';
  return new Date(ms + 8 * 3600 * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' (UB)';
}

function csvLink(id, path) { $(id).href = 'api' + path + '?format=csv'; }

function showError(msg) {
  var e = $('error');
  if (msg) { e.textContent = 'Алдаа · Error: ' + msg; e.hidden = false; } else { e.hidden = true; }
}

function renderTotal(q) {
  var t = q.total || {};
  $('total-avg').textContent = pct(t.completion_avg);
  $('total-indicators').textContent = t.indicators === undefined || t.indicators === null ? 0 : t.indicators;
  $('total-assessed').textContent = t.assessed === undefined || t.assessed === null ? 0 : t.assessed;
  $('total-mpu').textContent = (t.met || 0) + ' / ' + (t.partial || 0) + ' / ' + (t.unmet || 0);
  $('total-reported').textContent = q.regions_reported + ' / ' + q.regions_expected;
  var mnt = t.amounts && t.amounts.mnt;
  $('total-mnt').textContent = mnt ? money(mnt.achieved) + ' / ' + money(mnt.target) : '–';
  var st = q.state.status;
  $('status').textContent = st === 'closed'
    ? 'Хаагдсан · closed' + (q.state.summary_revision ? ' (rev ' + q.state.summary_revision + ')' : '')
    : 'Нээлттэй · open';
  $('status').className = 'badge ' + st;
  csvLink('csv-total', '/quarters/' + q.quarter);
}

function renderMatrix(m) {
  var t = $('matrix');
  clear(t);
  var head = el('tr');
  head.appendChild(labelCell('th', 'Бүс', 'Region'));
  head.appendChild(labelCell('th', 'Дундаж', 'Avg'));
  m.goals.forEach(function (g) {
    var th = el('th', null, 'goal');
    th.appendChild(el('span', 'Зорилт ' + g.code));
    th.title = g.title_en || '';
    th.setAttribute('data-goal', g.code);
    th.addEventListener('click', function () { openDetail({ goal: g.code }); });
    head.appendChild(th);
  });
  t.appendChild(head);
  m.regions.forEach(function (r) {
    if (!r.reported && !r.scope) return; // the missing are listed below, not as empty rows
    var tr = el('tr');
    tr.setAttribute('data-region', r.code);
    var n = regionLabel(r);
    var name = labelCell('th', n.mn, n.en);
    name.className = 'region';
    name.addEventListener('click', function () { openDetail({ region: r.code }); });
    tr.appendChild(name);
    var avg = r.scope ? r.scope.completion_avg : null;
    var a = el('td', pct(avg), heatClass(avg) + ' avg');
    tr.appendChild(a);
    m.goals.forEach(function (g) {
      var cell = r.goals[g.code];
      var v = cell ? cell.completion_avg : null;
      var td = el('td', cell ? pct(v) : '', cell ? heatClass(v) : 'empty');
      td.setAttribute('data-region', r.code);
      td.setAttribute('data-goal', g.code);
      if (cell) td.title = n.en + ' · ' + g.code + ': ' + cell.indicators + ' indicators, ' + cell.assessed + ' assessed';
      tr.appendChild(td);
    });
    t.appendChild(tr);
  });
  var foot = el('tr', null, 'total');
  foot.appendChild(labelCell('th', 'Улсын дүн', 'National'));
  foot.appendChild(el('td', pct(m.total && m.total.completion_avg), heatClass(m.total && m.total.completion_avg)));
  m.goals.forEach(function (g) {
    var v = g.scope ? g.scope.completion_avg : null;
    var td = el('td', pct(v), heatClass(v));
    td.setAttribute('data-goal-total', g.code);
    foot.appendChild(td);
  });
  t.appendChild(foot);
  csvLink('csv-matrix', '/quarters/' + m.quarter + '/matrix');
}

function row(tr, cells) { cells.forEach(function (c) { tr.appendChild(typeof c === 'object' ? c : el('td', c)); }); }

function amountsText(s) {
  if (!s || !s.amounts) return '';
  var parts = [];
  ['count', 'person', 'mnt'].forEach(function (u) {
    var a = s.amounts[u];
    if (a) parts.push(u + ' ' + money(a.achieved) + ' / ' + money(a.target));
  });
  return parts.join('; ');
}

function renderRegion(d) {
  var n = regionLabel(d.region);
  $('detail-title').textContent = n.mn + (n.en ? ' · ' + n.en : '');
  $('detail-summary').textContent = 'Дундаж · average ' + pct(d.scope && d.scope.completion_avg) +
    ' · Сүүлд ирүүлсэн · last report ' + fmtTime(d.last_submitted_ms);
  var t = $('detail-table');
  clear(t);
  var h = el('tr');
  ['Зорилт · Goal', 'Дундаж · Avg %', 'Байр · Rank', 'Үзүүлэлт · Indicators', 'Биелсэн · Met', 'Хүрсэн / Зорилтот · Achieved / target'].forEach(function (x) { h.appendChild(el('th', x)); });
  t.appendChild(h);
  d.goals.forEach(function (g) {
    var tr = el('tr');
    tr.setAttribute('data-goal', g.code);
    var name = el('td');
    name.appendChild(el('span', g.code));
    if (g.title_en) { name.appendChild(document.createTextNode(' ')); name.appendChild(el('span', g.title_en, 'en')); }
    row(tr, [name, el('td', pct(g.scope.completion_avg), heatClass(g.scope.completion_avg) + ' avg'),
      g.rank === null ? '–' : g.rank + ' / ' + g.ranked, g.scope.indicators, g.scope.met, amountsText(g.scope)]);
    t.appendChild(tr);
  });
  csvLink('csv-detail', '/quarters/' + d.quarter + '/regions/' + d.region.code);
}

function renderGoal(d) {
  $('detail-title').textContent = 'Зорилт · Goal ' + d.goal.code + (d.goal.title_en ? ' — ' + d.goal.title_en : '');
  $('detail-summary').textContent = 'Дундаж · average ' + pct(d.scope && d.scope.completion_avg) + ' · ' + d.ranked + ' бүс · regions ranked';
  var t = $('detail-table');
  clear(t);
  var h = el('tr');
  ['Байр · Rank', 'Бүс · Region', 'Дундаж · Avg %', 'Үзүүлэлт · Indicators', 'Биелсэн · Met', 'Хүрсэн / Зорилтот · Achieved / target'].forEach(function (x) { h.appendChild(el('th', x)); });
  t.appendChild(h);
  d.regions.forEach(function (r) {
    var tr = el('tr');
    tr.setAttribute('data-region', r.code);
    var n = regionLabel(r);
    row(tr, [r.rank === null ? '–' : String(r.rank), labelCell('td', n.mn, n.en),
      el('td', pct(r.scope.completion_avg), heatClass(r.scope.completion_avg) + ' avg'),
      r.scope.indicators, r.scope.met, amountsText(r.scope)]);
    t.appendChild(tr);
  });
  csvLink('csv-detail', '/quarters/' + d.quarter + '/goals/' + d.goal.code);
}

function chip(list, r, extra) {
  var n = regionLabel(r);
  var li = el('li');
  li.setAttribute('data-region', r.code);
  li.appendChild(el('span', n.mn));
  if (n.en) { li.appendChild(document.createTextNode(' ')); li.appendChild(el('span', n.en, 'en')); }
  if (extra) { li.appendChild(document.createTextNode(' ')); li.appendChild(el('span', extra, 'muted')); }
  list.appendChild(li);
}

function renderCompleteness(c) {
  $('comp-reported').textContent = c.regions_reported + ' / ' + c.regions_expected + ' (' + pct(c.reporting_rate) + '%)';
  $('comp-ontime').textContent = c.regions_on_time === null ? '–' : c.regions_on_time + ' (' + pct(c.on_time_rate) + '%)';
  var s = c.state;
  $('comp-close').textContent = s.status === 'closed'
    ? 'Хаагдсан · closed ' + fmtTime(s.closed_ms) + ', rev ' + s.summary_revision
    : 'Нээлттэй · open, хугацаа · deadline ' + fmtTime(c.deadline_ms);
  var m = $('missing'); clear(m);
  c.missing.forEach(function (r) { chip(m, r); });
  $('missing-count').textContent = c.missing.length;
  $('missing-none').hidden = c.missing.length > 0;
  var l = $('late'); clear(l);
  if (c.late === null) {
    $('late-count').textContent = '–';
  } else {
    c.late.forEach(function (r) { chip(l, r, fmtTime(r.first_submitted_ms)); });
    $('late-count').textContent = c.late.length;
  }
  csvLink('csv-completeness', '/quarters/' + c.quarter + '/completeness');
}

function openDetail(d) {
  state.detail = d;
  refresh();
}

function refreshDetail(q) {
  var d = state.detail;
  if (!d) { $('detail').hidden = true; return Promise.resolve(); }
  var p = d.region ? api('/quarters/' + q + '/regions/' + encodeURIComponent(d.region)).then(renderRegion)
                   : api('/quarters/' + q + '/goals/' + encodeURIComponent(d.goal)).then(renderGoal);
  return p.then(function () { $('detail').hidden = false; }, function () { $('detail').hidden = true; });
}

function refresh() {
  var q = state.quarter;
  if (!q) return Promise.resolve();
  return Promise.all([
    api('/quarters/' + q).then(renderTotal),
    api('/quarters/' + q + '/matrix').then(renderMatrix),
    api('/quarters/' + q + '/completeness').then(renderCompleteness),
    refreshDetail(q)
  ]).then(function () {
    showError(null);
    $('updated').textContent = 'Шинэчилсэн · updated ' + new Date().toLocaleTimeString();
    document.body.setAttribute('data-loaded', q);
  }, function (e) { showError(e.message); });
}

function loadQuarters() {
  return api('/quarters').then(function (d) {
    var sel = $('quarter');
    var keep = state.quarter;
    clear(sel);
    d.quarters.forEach(function (q) {
      var o = el('option', q.quarter + (q.status === 'closed' ? ' ✓' : ''));
      o.value = q.quarter;
      sel.appendChild(o);
    });
    var want = (location.hash || '').slice(1);
    var has = function (id) { return d.quarters.some(function (q) { return q.quarter === id; }); };
    state.quarter = keep && has(keep) ? keep : has(want) ? want : d.latest;
    if (state.quarter) sel.value = state.quarter;
    if (!state.quarter) showError('Мэдээлэл алга · no quarters in Redis yet');
  });
}

function tick() {
  loadQuarters().then(refresh, function (e) { showError(e.message); }).then(function () {
    state.timer = setTimeout(tick, state.pollMs);
  });
}

$('quarter').addEventListener('change', function (e) {
  state.quarter = e.target.value;
  state.detail = null;
  location.hash = state.quarter;
  refresh();
});
$('detail-close').addEventListener('click', function () { state.detail = null; $('detail').hidden = true; });

api('/config').then(function (c) { state.pollMs = c.poll_ms; }, function () {}).then(tick);
