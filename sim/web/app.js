// The simulator's page: the captured messages, newest first, kept up to date without a
// reload.
//
// Messages come three ways: a fetch of "messages" (at the start, when the filter changes,
// when the event stream opens, and when it says it missed some); one "message" event per
// new message on the "events" stream; and, while that stream is down, a fetch every few
// seconds. What a message holds goes into the page as text (textContent), never as markup.
'use strict';

(() => {
  const LIMIT = 200; // the page shows the newest this many
  const POLL_MS = 3000; // how often it polls while the event stream is down
  const REOPEN_MS = 30000; // when it tries again a stream the server refused

  const $ = (id) => document.getElementById(id);
  const list = $('messages');
  const template = $('message-template');
  const filterInput = $('filter');

  let filter = ''; // a phone number as stored, or '' for all
  let shown = []; // the messages on the page, newest first
  const nodes = new Map(); // key(message) → its <li>
  let fetchSeq = 0; // the latest fetch; earlier ones are ignored when they answer
  let pushed = []; // messages from events since that fetch began, newest first
  let loaded = false; // a fetch has answered
  let fetchFailed = false;
  let source = null;
  let pollTimer = 0;

  const key = (m) => m.PhoneNumber + ' ' + m.CreatedAt + ' ' + m.Code;

  // normalize writes a number as camsd stores it: "+86 138-0000-1234" → "8613800001234".
  const normalize = (s) => s.replace(/[\s+()\-.]/g, '');

  // ---- fetching ----

  async function refresh(highlight) {
    const seq = ++fetchSeq;
    pushed = [];
    const query = new URLSearchParams({Limit: String(LIMIT)});
    if (filter) query.set('PhoneNumber', filter);
    let body;
    try {
      const res = await fetch('messages?' + query, {cache: 'no-store'});
      body = await res.json();
      if (!res.ok) throw new Error(body.Message || 'HTTP ' + res.status);
    } catch (err) {
      if (seq === fetchSeq) {
        fetchFailed = true;
        showError('Cannot read the outbox: ' + err.message);
        updateStatus();
      }
      return;
    }
    if (seq !== fetchSeq) return; // a later fetch, for another filter maybe, answers instead
    loaded = true;
    fetchFailed = false;
    showError('');
    const got = body.Messages || [];
    const known = new Set(got.map(key));
    // An event may have come while the fetch ran, and the fetch may have read the outbox
    // before that message was in it: keep what the events brought.
    shown = pushed.filter((m) => !known.has(key(m))).concat(got).slice(0, LIMIT);
    render(highlight);
    updateStatus();
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(() => document.hidden || refresh(true), POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = 0;
  }

  // ---- the event stream ----

  function connect() {
    if (!window.EventSource) {
      startPolling();
      return;
    }
    const es = new EventSource('events');
    source = es;
    es.onopen = () => {
      stopPolling();
      refresh(true); // whatever came while the stream was down
      updateStatus();
    };
    es.onmessage = (e) => {
      let m;
      try {
        m = JSON.parse(e.data);
      } catch (_) {
        return;
      }
      receive(m);
    };
    es.addEventListener('resync', () => refresh(true));
    es.onerror = () => {
      // The browser reopens a broken stream by itself, but not one the server refused
      // (live events off, or a proxy in the way): try that again much later.
      if (es.readyState === EventSource.CLOSED) {
        source = null;
        setTimeout(connect, REOPEN_MS);
      }
      startPolling();
      updateStatus();
    };
  }

  function receive(m) {
    if (filter && m.PhoneNumber !== filter) return;
    if (nodes.has(key(m))) return;
    pushed = [m, ...pushed].slice(0, LIMIT);
    shown = [m, ...shown].slice(0, LIMIT);
    render(true);
  }

  // ---- rendering ----

  // render makes the list show `shown`, reusing the <li> of every message already there, so
  // that a selection or a "Copied" survives a new message.
  function render(highlight) {
    const keep = new Set();
    let at = list.firstChild;
    for (const m of shown) {
      const k = key(m);
      keep.add(k);
      let li = nodes.get(k);
      if (!li) {
        li = build(m);
        nodes.set(k, li);
        if (highlight) {
          li.classList.add('fresh');
          li.addEventListener('animationend', () => li.classList.remove('fresh'), {once: true});
        }
      }
      if (li === at) at = at.nextSibling;
      else list.insertBefore(li, at);
    }
    for (const [k, li] of nodes) {
      if (!keep.has(k)) {
        li.remove();
        nodes.delete(k);
      }
    }
    updateSummary();
  }

  function build(m) {
    const li = template.content.firstElementChild.cloneNode(true);
    li.dataset.phone = m.PhoneNumber;
    const code = li.querySelector('.code');
    code.textContent = m.Code;
    const copyButton = li.querySelector('.copy');
    copyButton.addEventListener('click', () => copy(m.Code, code, copyButton));
    copyButton.setAttribute('aria-label', 'Copy code ' + m.Code);

    const phone = li.querySelector('.phone');
    phone.textContent = '+' + m.PhoneNumber;
    phone.addEventListener('click', () => {
      filterInput.value = m.PhoneNumber;
      setFilter(m.PhoneNumber);
    });
    const method = li.querySelector('.method');
    method.textContent = (m.Method || '').toLowerCase() === 'voice' ? 'Voice' : 'SMS';
    method.dataset.method = method.textContent.toLowerCase();
    li.querySelector('.locale').textContent = m.Locale;

    const time = li.querySelector('.time');
    const at = new Date(m.CreatedAt);
    time.dateTime = m.CreatedAt;
    time.title = m.CreatedAt;
    time.dataset.at = String(at.getTime());
    time.textContent = formatTime(at);
    li.querySelector('.ago').dataset.at = time.dataset.at;

    li.querySelector('.text').textContent = m.Text;
    updateAgo(li);
    return li;
  }

  const pad = (n) => String(n).padStart(2, '0');

  function formatTime(d) {
    if (isNaN(d)) return '';
    const date = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
    return date + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function ago(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 10) return 'just now';
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }

  function updateAgo(root) {
    for (const el of root.querySelectorAll('.ago')) {
      const ms = Number(el.dataset.at);
      el.textContent = isNaN(ms) ? '' : ago(ms);
    }
  }

  function updateSummary() {
    const to = filter ? ' to +' + filter : '';
    const n = shown.length;
    $('summary').textContent = n === 0 ? '' :
      n >= LIMIT ? 'The newest ' + LIMIT + ' messages' + to :
      n === 1 ? '1 message' + to : n + ' messages' + to;
    const empty = $('empty');
    empty.hidden = !(loaded && n === 0);
    empty.querySelector('.empty-title').textContent =
      filter ? 'No captured messages to +' + filter : 'No captured messages';
    empty.querySelector('.empty-hint').textContent = filter ?
      'The filter matches whole numbers, country code first, such as 8613800001234.' :
      'Codes sent with GetMigrationVerifyCode appear here as soon as they are sent.';
  }

  function updateStatus() {
    const el = $('status');
    let status = 'polling';
    if (source && source.readyState === EventSource.OPEN) status = 'live';
    else if (fetchFailed) status = 'offline';
    else if (!loaded) status = 'connecting';
    el.dataset.status = status;
    el.textContent = status;
    el.title = {
      live: 'New messages appear as they are sent',
      polling: 'Checking for new messages every ' + POLL_MS / 1000 + ' s',
      offline: 'camsd does not answer',
      connecting: '',
    }[status];
  }

  function showError(text) {
    const el = $('error');
    el.textContent = text;
    el.hidden = !text;
  }

  // ---- copying ----

  async function copy(text, codeElement, button) {
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (_) {
        // refused: select the code instead, below
      }
    }
    if (!copied) {
      // Pages served over plain HTTP to another host have no clipboard API.
      const range = document.createRange();
      range.selectNodeContents(codeElement);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try {
        copied = document.execCommand('copy');
      } catch (_) {
        copied = false;
      }
    }
    button.textContent = copied ? 'Copied' : 'Selected';
    button.classList.add('done');
    clearTimeout(Number(button.dataset.timer));
    button.dataset.timer = String(setTimeout(() => {
      button.textContent = 'Copy';
      button.classList.remove('done');
    }, 1500));
  }

  // ---- the filter ----

  function setFilter(value) {
    const f = normalize(value);
    if (f === filter) return;
    filter = f;
    const url = new URL(location.href);
    if (f) url.searchParams.set('PhoneNumber', f);
    else url.searchParams.delete('PhoneNumber');
    history.replaceState(null, '', url);
    // Show at once what the page already has, then what the outbox has.
    shown = shown.filter((m) => !f || m.PhoneNumber === f);
    render(false);
    refresh(false);
  }

  let typing = 0;
  filterInput.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter(filterInput.value), 250);
  });
  $('filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(typing);
    setFilter(filterInput.value);
  });
  filterInput.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      filterInput.value = '';
      setFilter('');
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement !== filterInput) {
      e.preventDefault();
      filterInput.focus();
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && pollTimer) refresh(true);
  });

  // ---- start ----

  filter = normalize(new URLSearchParams(location.search).get('PhoneNumber') || '');
  filterInput.value = filter;
  updateStatus();
  refresh(false);
  connect();
  setInterval(() => updateAgo(list), 10000);
})();
