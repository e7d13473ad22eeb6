// The sessions page: the caller's sessions a page at a time (GET /v1/sessions with pageSize and pageToken), and for
// the chosen one live charts of its history (GET .../history, then ?since= the last step seen, every second).
import {call} from './api.js';
import {LineChart} from './chart.js';
import {formatNumber, keyField, ProblemBox} from './ui.js';

const POLL_MS = 1000;
/** As many entries as the service keeps by default (adam.history.size). */
const MAX_ENTRIES = 10_000;
const CHARTS = {
  learningRate: {color: '#1a9641', scale: 'linear'},
  loss: {color: '#d7191c', scale: 'auto'},
  gradNorm: {color: '#7b3294', scale: 'auto'},
  updateNorm: {color: '#f07d00', scale: 'auto'},
};

const $ = (id) => document.getElementById(id);
const problems = new ProblemBox($('problem'));
const charts = Object.fromEntries(Object.entries(CHARTS).map(([name, {scale}]) =>
  [name, new LineChart($(`chart-${name}`), {scale})]));

const page = {
  /** The list: the token of the page shown (null: the first), its number, the next page's token. */
  pageToken: null,
  pageNumber: 1,
  nextPageToken: null,
  listed: [],
  /** The chosen session and its history. */
  selected: null,
  history: [],
  lastStep: null,
  polls: 0,
  /** Bumped whenever the chosen session changes: an older poll sees it and stops. */
  generation: 0,
  timer: null,
};

function setStatus(status) {
  document.body.dataset.status = status;
}

function time(instant) {
  return instant ? new Date(instant).toLocaleString() : '–';
}

function bytes(count) {
  return (count < 1024) ? `${count} B` : (count < 1024 ** 2) ? `${(count / 1024).toFixed(1)} KB`
    : `${(count / 1024 ** 2).toFixed(1)} MB`;
}

function optimizerText(optimizer) {
  return `${(optimizer.algorithm === 'adamw') ? 'AdamW' : 'Adam'}${optimizer.amsgrad ? ' (AMSGrad)' : ''}, `
    + `α ${formatNumber(optimizer.learningRate)}${optimizer.schedule ? ` (${optimizer.schedule.type})` : ''}, `
    + `β ${optimizer.beta1}/${optimizer.beta2}` + (optimizer.weightDecay ? `, weight decay ${optimizer.weightDecay}` : '');
}

// ---- the list -----------------------------------------------------------------------------------------------------

async function list(token, number) {
  const query = new URLSearchParams({pageSize: $('page-size').value});
  if (token) {
    query.set('pageToken', token);
  }
  try {
    const answer = await call('GET', `/v1/sessions?${query}`);
    page.pageToken = token;
    page.pageNumber = number;
    page.nextPageToken = answer.nextPageToken ?? null;
    page.listed = answer.sessions;
    document.body.dataset.access = 'granted';
    renderList();
  } catch (error) {
    document.body.dataset.access = 'refused';
    problems.show(error, 'Listing the sessions');
  }
}

function renderList() {
  const rows = page.listed.map((session) => {
    const row = document.createElement('tr');
    row.dataset.session = session.id;
    row.classList.toggle('selected', session.id === page.selected);
    row.setAttribute('aria-selected', String(session.id === page.selected));
    const choose = document.createElement('button');
    choose.type = 'button';
    choose.className = 'link';
    choose.textContent = session.id;
    choose.addEventListener('click', () => select(session.id));
    const cells = [
      choose,
      time(session.createdAt),
      time(session.lastUsedAt),
      String(session.step),
      optimizerText(session.optimizer),
      session.tensors.map((t) => `${t.name} [${t.shape.join('×')}]`).join(', ') || '–',
      bytes(session.bytes),
    ].map((content, k) => {
      const cell = document.createElement('td');
      cell.append(content);
      if (k === 3 || k === 6) {
        cell.className = 'number';
      }
      return cell;
    });
    row.append(...cells);
    return row;
  });
  if (rows.length === 0) {
    const row = document.createElement('tr');
    const cell = document.createElement('td');
    cell.colSpan = 7;
    cell.className = 'hint';
    cell.textContent = (page.pageNumber === 1) ? 'No sessions: create one with the API, or run the surface page.'
      : 'No more sessions.';
    row.append(cell);
    rows.push(row);
  }
  $('session-table').querySelector('tbody').replaceChildren(...rows);
  $('next-page').disabled = !page.nextPageToken;
  $('first-page').disabled = page.pageNumber === 1;
  $('page-info').textContent = `Page ${page.pageNumber}: ${page.listed.length} session`
    + `${page.listed.length === 1 ? '' : 's'}${page.nextPageToken ? ', more on the next page' : ''}`;
}

// ---- the chosen session -------------------------------------------------------------------------------------------

async function select(id) {
  page.generation++;
  clearTimeout(page.timer);
  page.selected = id;
  page.history = [];
  page.lastStep = null;
  page.polls = 0;
  renderList();
  const url = new URL(window.location.href);
  url.searchParams.set('session', id);
  window.history.replaceState(null, '', url);
  $('detail').hidden = false;
  $('detail-id').textContent = id;
  $('detail-summary').textContent = '';
  drawCharts();
  const generation = page.generation;
  try {
    const session = await call('GET', `/v1/sessions/${encodeURIComponent(id)}`);
    if (generation === page.generation) {
      $('detail-summary').textContent = `${optimizerText(session.optimizer)}; ${session.precision}; created `
        + `${time(session.createdAt)}; ${session.holdsParameters ? 'holds its parameters' : 'the client holds the '
          + 'parameters'}.`;
    }
  } catch (error) {
    if (generation === page.generation) {
      problems.show(error, `Reading session ${id}`);
      return;
    }
  }
  poll(generation);
}

/** One read of the history (only what is new after the first), then the next one a second later. */
async function poll(generation) {
  if (generation !== page.generation) {
    return;
  }
  const id = page.selected;
  if (!document.hidden) {
    const since = (page.lastStep === null) ? '' : `?since=${page.lastStep}`;
    let answer;
    try {
      answer = await call('GET', `/v1/sessions/${encodeURIComponent(id)}/history${since}`);
    } catch (error) {
      if (generation === page.generation) {
        problems.show(error, `Reading the history of session ${id} (its charts no longer update)`);
        setStatus('idle');
      }
      return;
    }
    if (generation !== page.generation) {
      return;
    }
    for (const entry of answer.steps) {
      page.history.push(entry);
    }
    if (page.history.length > MAX_ENTRIES) {
      page.history.splice(0, page.history.length - MAX_ENTRIES);
    }
    if (page.history.length) {
      page.lastStep = page.history[page.history.length - 1].step;
    }
    page.polls++;
    drawCharts();
  }
  page.timer = setTimeout(() => poll(generation), POLL_MS);
}

function drawCharts() {
  for (const [name, chart] of Object.entries(charts)) {
    chart.setSeries([{label: name, color: CHARTS[name].color,
      points: page.history.filter((entry) => typeof entry[name] === 'number').map((entry) => [entry.step,
        entry[name]])}]);
    const scale = document.querySelector(`[data-chart="${name}"]`);
    if (scale) {
      scale.textContent = (chart.drawnScale === 'log') ? '(log scale)' : '';
    }
  }
  const last = page.history[page.history.length - 1];
  $('detail').dataset.entries = String(page.history.length);
  $('detail').dataset.lastStep = last ? String(last.step) : '';
}

// ---- the page -----------------------------------------------------------------------------------------------------

$('refresh').addEventListener('click', () => list(page.pageToken, page.pageNumber));
$('first-page').addEventListener('click', () => list(null, 1));
$('next-page').addEventListener('click', () => list(page.nextPageToken, page.pageNumber + 1));
$('page-size').addEventListener('change', () => list(null, 1));
keyField($('key-form'), () => {
  problems.clear();
  list(null, 1).then(() => page.selected && select(page.selected));
});
new ResizeObserver(() => drawCharts()).observe($('detail'));

/** What the page shows, for its tests and the console. */
window.adamSessions = {
  snapshot() {
    return {
      status: document.body.dataset.status,
      page: page.pageNumber,
      listed: page.listed.map((s) => s.id),
      nextPageToken: page.nextPageToken,
      selected: page.selected,
      polls: page.polls,
      charts: Object.fromEntries(Object.entries(charts).map(([name, chart]) => [name, {scale: chart.drawnScale,
        canvas: `chart-${name}`, color: CHARTS[name].color, points: chart.drawn[0]?.points ?? [],
        pixels: chart.drawn[0]?.pixels ?? []}])),
      problem: $('problem').hidden ? null : {status: $('problem').dataset.status, type: $('problem').dataset.type,
        text: $('problem').textContent},
    };
  },
};

const chosen = new URLSearchParams(window.location.search).get('session');
list(null, 1).then(() => {
  setStatus('idle');
  if (chosen) {
    select(chosen);
  }
});
