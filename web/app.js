/*
 * logtail results page: plain script, no build step, nothing fetched from another host.
 *
 * Design:
 *  - Polls results/index.json and results/status.json every interval_s (from status.json, default 5 s)
 *    with cache: "no-cache": the browser revalidates with nginx (ETag, 304), so a poll costs little and
 *    never shows a copy older than nginx's. On a ballot's page (#/ballot/<name>) it polls
 *    results/ballot/<name>.json too.
 *  - The last good data stays on screen whatever happens: a failed fetch, an invalid file, an older
 *    copy (lower seq and older updated_at: a cache's) leave it in place; the notice says why the data may
 *    be stale. Stale = a fetch failed, or status.json says ok:false, or its checked_at is older than
 *    3 x interval_s. Ages are measured on the server's clock (the Date and Age headers of the
 *    responses), so a visitor's wrong clock does not raise or hide the notice.
 *  - 5,000 ballots: the list shows at most `limit` cards (100, "Show more" adds 100) of the ballots
 *    matching the filter; a card is built once per ballot and refilled only when its data changed,
 *    and the list is reconciled in place, so a poll touches only what changed and keyboard focus
 *    inside the list survives updates. Nothing is re-rendered when seq did not change.
 *  - The filter is in the address (#/?q=...), so a filtered view can be bookmarked and reloaded.
 *  - Every figure is text; bars are decorative (aria-hidden) copies of the share printed beside them.
 *    Machine-readable data-* attributes (data-ballot, data-choice, data-votes, ...) carry the raw
 *    numbers for tests and for anyone scraping the page.
 */
'use strict';
(function () {
  var BASE = 'results/';
  var PAGE = 100;
  var FETCH_TIMEOUT_MS = 10000;

  var state = {
    index: null, indexError: null,
    status: null, statusError: null,
    ballotName: null, ballot: null, ballotError: null, ballotMissing: false,
    skewMs: 0,            // client clock minus server clock, from the last response
    filter: '', limit: PAGE,
    renderedListKey: null, renderedBallotKey: null,
    timer: null, polling: false
  };
  var cards = new Map();  // ballot name -> {li, link, body, sig}
  var idCounter = 0;

  var numFmt = new Intl.NumberFormat();
  var pctFmt = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var timeFmt = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short'
  });

  function $(id) { return document.getElementById(id); }
  function num(n) { return typeof n === 'number' && isFinite(n) ? numFmt.format(n) : '–'; }
  function pct(x) { return typeof x === 'number' && isFinite(x) ? pctFmt.format(x) : '–'; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function setText(e, t) { if (e.textContent !== t) { e.textContent = t; } }
  function timeEl(iso) {
    var t = el('time');
    var ms = Date.parse(iso);
    if (isFinite(ms)) {
      t.dateTime = iso;
      t.textContent = timeFmt.format(new Date(ms));
    } else {
      t.textContent = 'unknown time';
    }
    return t;
  }
  function fmtTime(iso) {
    var ms = Date.parse(iso);
    return isFinite(ms) ? timeFmt.format(new Date(ms)) : 'an unknown time';
  }
  function serverNow() { return Date.now() - state.skewMs; }
  function ballotHref(name) { return '#/ballot/' + encodeURIComponent(name); }
  function ballotFile(name) { return BASE + 'ballot/' + encodeURIComponent(name) + '.json'; }
  // the publisher writes a ballot's own file only for names of the decoder's identifier characters
  var FILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
  function hasFile(name) { return FILE_NAME.test(name); }

  // ---- fetching ----

  function noteServerClock(r) {
    var date = Date.parse(r.headers.get('Date') || '');
    if (!isFinite(date)) { return; }
    var age = parseInt(r.headers.get('Age') || '0', 10);
    state.skewMs = Date.now() - (date + (isFinite(age) ? age * 1000 : 0));
  }

  function getJson(path) {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS) : null;
    return fetch(path, { cache: 'no-cache', headers: { Accept: 'application/json' }, signal: ctl ? ctl.signal : undefined })
      .then(function (r) {
        if (!r.ok) {
          var e = new Error(path + ' answered HTTP ' + r.status);
          e.status = r.status;
          throw e;
        }
        noteServerClock(r);
        return r.json().catch(function () { throw new Error(path + ' is not valid JSON'); });
      }, function (e) {
        throw new Error(path + ' could not be fetched' + (e && e.name === 'AbortError' ? ' (timed out)' : ''));
      })
      .finally(function () { if (timer) { clearTimeout(timer); } });
  }

  // An older copy (a cache's) has a lower seq and an older updated_at: keep what is shown. A lower seq
  // with the same or a newer updated_at is a publish directory started afresh: take it.
  function notOlder(x, shown) {
    return !shown || x.seq >= shown.seq || !(Date.parse(x.updated_at) < Date.parse(shown.updated_at));
  }

  function validIndex(x) { return x && x.schema === 1 && typeof x.seq === 'number' && Array.isArray(x.ballots); }
  function validBallot(x) { return x && x.schema === 1 && typeof x.seq === 'number' && Array.isArray(x.choices); }

  function poll() {
    clearTimeout(state.timer);
    if (state.polling) { return; }
    state.polling = true;
    var name = state.ballotName;
    var jobs = [getJson(BASE + 'index.json'), getJson(BASE + 'status.json'),
      name !== null && hasFile(name) ? getJson(ballotFile(name)) : Promise.resolve(null)];
    Promise.allSettled(jobs).then(function (res) {
      var idx = res[0], st = res[1], bal = res[2];
      if (idx.status === 'fulfilled') {
        if (!validIndex(idx.value)) {
          state.indexError = 'results/index.json is not in the expected format';
        } else {
          state.indexError = null;
          if (notOlder(idx.value, state.index)) { state.index = idx.value; }
        }
      } else {
        state.indexError = idx.reason.message;
      }
      if (st.status === 'fulfilled') {
        if (st.value && st.value.schema === 1 && typeof st.value.checked_at === 'string') {
          state.status = st.value;
          state.statusError = null;
        } else {
          state.statusError = 'results/status.json is not in the expected format';
        }
      } else {
        state.statusError = st.reason.message;
      }
      if (name !== null && name === state.ballotName) {
        if (!hasFile(name)) {
          state.ballotMissing = true;
          state.ballotError = null;
          state.ballot = null;
        } else if (bal.status === 'fulfilled') {
          if (!validBallot(bal.value)) {
            state.ballotError = 'the ballot file is not in the expected format';
          } else {
            state.ballotError = null;
            state.ballotMissing = false;
            if (!state.ballot || state.ballot.ballot !== bal.value.ballot || notOlder(bal.value, state.ballot)) {
              state.ballot = bal.value;
            }
          }
        } else if (bal.reason.message.indexOf('HTTP 404') >= 0) {
          state.ballotMissing = true;
          state.ballotError = null;
          state.ballot = null;
        } else {
          state.ballotError = bal.reason.message;
        }
      }
    }).finally(function () {
      state.polling = false;
      render();
      var s = state.status && state.status.interval_s;
      var every = typeof s === 'number' && s > 0 ? Math.min(Math.max(s, 2), 60) : 5;
      // the visitor opened another ballot while this poll ran: fetch it now, not at the next tick
      state.timer = setTimeout(poll, name !== state.ballotName ? 0 : every * 1000);
    });
  }

  // ---- staleness ----

  function staleReason() {
    if (state.indexError) { return 'The latest results could not be loaded: ' + state.indexError + '.'; }
    if (state.statusError) { return 'The publisher\u2019s status could not be loaded: ' + state.statusError + '.'; }
    if (state.ballotName !== null && state.ballotError) { return 'This ballot\u2019s results could not be loaded: ' + state.ballotError + '.'; }
    var s = state.status;
    if (!s) { return null; }
    if (s.ok === false) {
      return 'The results are not being updated' + (s.stale_since ? ' since ' + fmtTime(s.stale_since) : '')
        + (s.error ? ': ' + s.error : '') + '.';
    }
    var interval = typeof s.interval_s === 'number' && s.interval_s > 0 ? s.interval_s : 5;
    var checked = Date.parse(s.checked_at);
    if (!isFinite(checked)) { return 'The publisher\u2019s status has no valid time.'; }
    if (serverNow() - checked > 3 * interval * 1000) {
      return 'The results have not been checked for updates since ' + fmtTime(s.checked_at) + '.';
    }
    return null;
  }

  // ---- rendering ----

  function render() {
    var reason = staleReason();
    var stale = $('stale');
    var root = document.documentElement;
    if (reason) {
      var shown = state.index ? ' Showing the last results received (as of ' + fmtTime(state.index.updated_at) + ').'
        : ' No results have been received yet.';
      setText(stale, 'Results may be out of date. ' + reason + shown);
      stale.hidden = false;
      root.setAttribute('data-state', 'stale');
    } else {
      stale.hidden = true;
      setText(stale, '');
      root.setAttribute('data-state', state.index ? 'fresh' : 'loading');
    }
    renderUpdated();
    if (state.ballotName !== null) { renderBallot(); } else { renderList(); }
  }

  function renderUpdated() {
    var p = $('updated');
    var idx = state.index;
    if (!idx) {
      setText(p, state.indexError ? 'No results available yet.' : 'Loading results…');
      return;
    }
    var key = idx.seq + '|' + idx.updated_at;
    if (p.getAttribute('data-key') === key) { return; }
    p.setAttribute('data-key', key);
    p.setAttribute('data-seq', String(idx.seq));
    p.setAttribute('data-updated-at', String(idx.updated_at));
    p.setAttribute('data-batches', JSON.stringify(idx.batches || {}));
    p.textContent = 'Last update: ';
    p.appendChild(timeEl(idx.updated_at));
  }

  function turnoutText(t) {
    if (!t || typeof t.roll !== 'number') { return null; }
    return 'turnout ' + pct(t.share) + ' (' + num(t.voted) + ' of ' + num(t.roll) + ' on the roll)';
  }

  function choiceList(choices, ballotName) {
    var ul = el('ul', 'choices');
    ul.setAttribute('aria-label', 'Votes by choice for ' + ballotName);
    choices.forEach(function (c) {
      var li = el('li', 'choice');
      li.setAttribute('data-choice', c.choice);
      li.setAttribute('data-votes', String(c.votes));
      li.setAttribute('data-share', String(c.share));
      li.appendChild(el('span', 'cname', c.choice));
      li.appendChild(bar(c.share));
      li.appendChild(el('span', 'cnum', num(c.votes) + ' votes, ' + pct(c.share)));
      ul.appendChild(li);
    });
    return ul;
  }

  function bar(share) {
    var b = el('span', 'bar');
    b.setAttribute('aria-hidden', 'true');
    var f = el('span', 'fill');
    var w = typeof share === 'number' && isFinite(share) ? Math.max(0, Math.min(1, share)) * 100 : 0;
    f.style.width = w.toFixed(2) + '%';
    b.appendChild(f);
    return b;
  }

  function makeCard(name) {
    var li = el('li', 'ballot');
    li.setAttribute('data-ballot', name);
    var art = el('article');
    var hid = 'b' + (++idCounter);
    art.setAttribute('aria-labelledby', hid);
    var h = el('h3');
    h.id = hid;
    var a = el('a', null, name);
    a.href = ballotHref(name);
    h.appendChild(a);
    var body = el('div', 'card-body');
    art.appendChild(h);
    art.appendChild(body);
    li.appendChild(art);
    return { li: li, link: a, body: body, sig: null };
  }

  function fillCard(c, b) {
    var body = el('div', 'card-body');
    var totals = el('p', 'totals');
    var v = el('strong', null, num(b.votes));
    v.setAttribute('data-field', 'votes');
    totals.appendChild(v);
    totals.appendChild(document.createTextNode(' votes counted'));
    var t = turnoutText(b.turnout);
    if (t) {
      var ts = el('span', 'turnout', ', ' + t);
      ts.setAttribute('data-field', 'turnout');
      totals.appendChild(ts);
    }
    c.li.setAttribute('data-votes', String(b.votes));
    body.appendChild(totals);
    if (b.choices && b.choices.length) {
      body.appendChild(choiceList(b.choices, b.ballot));
    } else {
      body.appendChild(el('p', 'empty', 'No votes counted yet.'));
    }
    c.body.replaceWith(body);
    c.body = body;
  }

  function matching() {
    var all = state.index ? state.index.ballots : [];
    var q = state.filter.trim().toLowerCase();
    if (!q) { return all; }
    return all.filter(function (b) { return String(b.ballot).toLowerCase().indexOf(q) >= 0; });
  }

  function renderList() {
    var idx = state.index;
    if (!idx) { return; }
    var key = idx.seq + '|' + idx.updated_at + '|' + state.filter + '|' + state.limit;
    if (key === state.renderedListKey) { return; }
    state.renderedListKey = key;
    var all = idx.ballots;
    var m = matching();
    var shown = m.slice(0, state.limit);
    var q = state.filter.trim();
    var count = q
      ? m.length + ' of ' + all.length + ' ballots match \u201c' + q + '\u201d'
      : all.length + (all.length === 1 ? ' ballot' : ' ballots');
    if (shown.length < m.length) { count += '; showing the first ' + shown.length; }
    count += '.';
    var cnt = $('list-count');
    setText(cnt, count);
    cnt.setAttribute('data-total', String(all.length));
    cnt.setAttribute('data-matching', String(m.length));
    cnt.setAttribute('data-shown', String(shown.length));

    var ol = $('ballots');
    var prev = null;
    var present = new Set();
    shown.forEach(function (b) {
      present.add(b.ballot);
      var c = cards.get(b.ballot);
      if (!c) { c = makeCard(b.ballot); cards.set(b.ballot, c); }
      var sig = JSON.stringify(b);
      if (c.sig !== sig) { fillCard(c, b); c.sig = sig; }
      var want = prev ? prev.nextSibling : ol.firstChild;
      if (want !== c.li) { ol.insertBefore(c.li, want); }
      prev = c.li;
    });
    while (prev ? prev.nextSibling : ol.firstChild) { ol.removeChild(prev ? prev.nextSibling : ol.firstChild); }
    if (cards.size > 4 * state.limit + all.length / 10) {
      cards.forEach(function (c, n) { if (!present.has(n)) { cards.delete(n); } });
    }
    $('more').hidden = shown.length >= m.length;
  }

  function dl(rows) {
    var d = el('dl', 'facts');
    rows.forEach(function (r) {
      var dt = el('dt', null, r[0]);
      var dd = el('dd', null, r[1]);
      if (r[2]) { dd.setAttribute('data-field', r[2]); }
      if (r[3] !== undefined) { dd.setAttribute('data-value', String(r[3])); }
      d.appendChild(dt);
      d.appendChild(dd);
    });
    return d;
  }

  function renderBallot() {
    var name = state.ballotName;
    var title = $('ballot-title');
    setText(title, name);
    var b = state.ballot;
    var key = name + '|' + (b ? b.seq + '|' + b.updated_at + '|' + b.ballot : state.ballotMissing ? 'missing' : 'none');
    if (key === state.renderedBallotKey) { return; }
    state.renderedBallotKey = key;
    var body = el('div');
    body.id = 'ballot-body';
    if (!b || b.ballot !== name) {
      body.appendChild(el('p', 'empty', state.ballotMissing
        ? 'No results have been published for this ballot (yet). Check the name, or go back to all ballots.'
        : 'Loading this ballot\u2019s results…'));
      $('ballot-body').replaceWith(body);
      return;
    }
    body.setAttribute('data-ballot', b.ballot);
    body.setAttribute('data-seq', String(b.seq));
    var upd = el('p', 'meta');
    upd.appendChild(document.createTextNode('Figures as of '));
    upd.appendChild(timeEl(b.updated_at));
    body.appendChild(upd);

    var table = el('table', 'results');
    table.appendChild(el('caption', null, 'Votes by choice'));
    var thead = el('thead');
    var hr = el('tr');
    ['Choice', 'Votes', 'Share'].forEach(function (h) { var th = el('th', null, h); th.scope = 'col'; hr.appendChild(th); });
    var thb = el('th', 'barcol');
    thb.scope = 'col';
    thb.appendChild(el('span', 'sr-only', 'Share as a bar'));
    hr.appendChild(thb);
    thead.appendChild(hr);
    table.appendChild(thead);
    var tb = el('tbody');
    if (!b.choices.length) {
      var er = el('tr');
      var ec = el('td', 'empty', 'No votes counted yet.');
      ec.colSpan = 4;
      er.appendChild(ec);
      tb.appendChild(er);
    }
    b.choices.forEach(function (c) {
      var tr = el('tr', 'choice');
      tr.setAttribute('data-choice', c.choice);
      tr.setAttribute('data-votes', String(c.votes));
      tr.setAttribute('data-share', String(c.share));
      var th = el('th', 'cname', c.choice);
      th.scope = 'row';
      tr.appendChild(th);
      tr.appendChild(el('td', 'n', num(c.votes)));
      tr.appendChild(el('td', 'n', pct(c.share)));
      var td = el('td', 'barcol');
      td.appendChild(bar(c.share));
      tr.appendChild(td);
      tb.appendChild(tr);
    });
    table.appendChild(tb);
    var tf = el('tfoot');
    var fr = el('tr');
    var fth = el('th', null, 'Counted votes');
    fth.scope = 'row';
    fr.appendChild(fth);
    var ftd = el('td', 'n', num(b.votes));
    ftd.setAttribute('data-field', 'votes');
    ftd.setAttribute('data-value', String(b.votes));
    fr.appendChild(ftd);
    fr.appendChild(el('td'));
    fr.appendChild(el('td', 'barcol'));
    tf.appendChild(fr);
    table.appendChild(tf);
    var wrap = el('div', 'table-wrap');
    wrap.appendChild(table);
    body.appendChild(wrap);

    var d = b.duplicates || {};
    var r = b.rejects || {};
    var facts = [];
    var t = turnoutText(b.turnout);
    facts.push(['Turnout', t ? t.charAt(0).toUpperCase() + t.slice(1) : 'No voter roll applies to this ballot',
      'turnout', b.turnout ? b.turnout.share : '']);
    facts.push(['Duplicate attempts', num(d.attempts) + ' attempts by ' + num(d.voters) + ' voters (not counted)',
      'duplicates', d.attempts]);
    facts.push(['Rejected beacons', num(r.total), 'rejects', r.total]);
    body.appendChild(el('h3', null, 'Checks'));
    body.appendChild(dl(facts));

    var reasons = r.by_reason ? Object.keys(r.by_reason).sort() : [];
    if (reasons.length) {
      var rt = el('table', 'rejects');
      rt.appendChild(el('caption', null, 'Rejected beacons by reason'));
      var rh = el('tr');
      ['Reason', 'Beacons'].forEach(function (h) { var th = el('th', null, h); th.scope = 'col'; rh.appendChild(th); });
      var rhead = el('thead');
      rhead.appendChild(rh);
      rt.appendChild(rhead);
      var rb = el('tbody');
      reasons.forEach(function (k) {
        var tr = el('tr');
        tr.setAttribute('data-reason', k);
        tr.setAttribute('data-count', String(r.by_reason[k]));
        var th = el('th', null, k.replace(/_/g, ' '));
        th.scope = 'row';
        tr.appendChild(th);
        tr.appendChild(el('td', 'n', num(r.by_reason[k])));
        rb.appendChild(tr);
      });
      rt.appendChild(rb);
      body.appendChild(rt);
    }
    if (b.batches && typeof b.batches === 'object') {
      var parts = Object.keys(b.batches).sort().map(function (n) { return n + ' batch ' + b.batches[n]; });
      if (parts.length) { body.appendChild(el('p', 'meta', 'Reflects ' + parts.join(', ') + '.')); }
    }
    $('ballot-body').replaceWith(body);
  }

  // ---- routing and controls ----

  function decode(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }

  function route(moveFocus) {
    var h = location.hash || '';
    var m = /^#\/ballot\/(.+)$/.exec(h);
    if (m) {
      var name = decode(m[1]);
      if (name !== state.ballotName) {
        state.ballotName = name;
        state.ballot = null;
        state.ballotError = null;
        state.ballotMissing = false;
        state.renderedBallotKey = null;
      }
      $('list-view').hidden = true;
      $('ballot-view').hidden = false;
      document.title = name + ' – Election results';
      render();
      if (moveFocus) { $('ballot-title').focus(); }
      poll();
      return;
    }
    var q = /^#\/\?q=(.*)$/.exec(h);
    state.ballotName = null;
    state.ballot = null;
    state.filter = q ? decode(q[1]) : '';
    $('filter').value = state.filter;
    state.renderedListKey = null;
    $('ballot-view').hidden = true;
    $('list-view').hidden = false;
    document.title = 'Election results';
    render();
    if (moveFocus) { $('list-title').focus(); }
  }

  var filterTimer = null;
  function onFilter() {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () {
      state.filter = $('filter').value;
      state.limit = PAGE;
      var h = state.filter ? '#/?q=' + encodeURIComponent(state.filter) : '#/';
      if (location.hash !== h && history.replaceState) { history.replaceState(null, '', h); }
      renderList();
    }, 120);
  }

  function init() {
    $('filter').addEventListener('input', onFilter);
    $('filter-form').addEventListener('submit', function (e) { e.preventDefault(); onFilter(); });
    $('more').addEventListener('click', function () {
      state.limit += PAGE;
      renderList();
      if ($('more').hidden) {
        var items = $('ballots').querySelectorAll('h3 a');
        if (items.length) { items[items.length - 1].focus(); }
      }
    });
    window.addEventListener('hashchange', function () { route(true); });
    document.addEventListener('visibilitychange', function () { if (!document.hidden) { poll(); } });
    route(false);
    poll();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
