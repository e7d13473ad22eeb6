// The surface page: up to four optimizers, each a session on the service that holds (x, y), run side by side on a
// 2-D objective. The page computes f and its gradient at the session's point, sends them as a step, and draws the
// point the service answers; the selected optimizer's v, s and t are read from the session's checkpoint.
import {call, deleteWhileLeaving, jsonNumber, Problem} from './api.js';
import {LineChart} from './chart.js';
import {OBJECTIVES} from './objectives.js';
import {SurfacePlot} from './plot.js';
import {formatNumber, keyField, ProblemBox} from './ui.js';

const COLORS = ['#d7191c', '#f07d00', '#7b3294', '#1a9641'];
const MAX_OPTIMIZERS = COLORS.length;
const NUMBERS = ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'];
const NUMBER_NAMES = {learningRate: 'learning rate α', beta1: 'β1', beta2: 'β2', epsilon: 'ε',
  weightDecay: 'weight decay'};
const TORCH = {algorithm: 'adam', learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0,
  amsgrad: false};
const DEFAULTS = [
  {...TORCH, label: 'Adam'},
  {...TORCH, label: 'AdamW', algorithm: 'adamw', weightDecay: 0.1},
  {...TORCH, label: 'AMSGrad', amsgrad: true},
  {...TORCH, label: 'Adam β 0.5, 0.9', beta1: 0.5, beta2: 0.9},
];
/** Milliseconds between steps while playing; 'frame': one step per animation frame. */
const SPEEDS = {slow: 100, normal: 'frame', fast: 0};
/** How often the state panel is read while running. */
const STATE_INTERVAL_MS = 250;
/** How often the plot is drawn while running fast. */
const FAST_DRAW_MS = 250;

const $ = (id) => document.getElementById(id);
const problems = new ProblemBox($('problem'));
const plot = new SurfacePlot($('surface'));
const lossChart = new LineChart($('loss'), {scale: 'log'});

const page = {
  objective: OBJECTIVES.rosenbrock,
  start: OBJECTIVES.rosenbrock.start.slice(),
  /** {config, color, session (id or null), path: [[x, y], ...] from the start, card} */
  optimizers: [],
  selected: 0,
  running: false,
  run: Promise.resolve(),
  /** What the state panel shows: {sessionId, t, values} or null. */
  state: null,
};

function setStatus(status) {
  document.body.dataset.status = status;
}

function stepOf(optimizer) {
  return optimizer.path.length - 1;
}

/** The step every optimizer has reached. */
function commonStep() {
  return page.optimizers.length ? Math.min(...page.optimizers.map(stepOf)) : 0;
}

/** Runs work; a failure is shown with what the page was doing, then thrown on. */
async function doing(what, work) {
  try {
    return await work();
  } catch (error) {
    error.doing ??= what;
    throw error;
  }
}

function show(error) {
  problems.show(error, error.doing ?? 'Running');
  if (!(error instanceof Problem)) {
    console.error(error);
  }
}

// ---- optimizers and their cards -----------------------------------------------------------------------------------

function addOptimizer(config) {
  const used = new Set(page.optimizers.map((o) => o.color));
  const optimizer = {config: {...config}, color: COLORS.find((c) => !used.has(c)), session: null,
    path: [page.start.slice()], card: null};
  const card = $('optimizer-template').content.firstElementChild.cloneNode(true);
  optimizer.card = card;
  card.querySelector('.swatch').style.backgroundColor = optimizer.color;
  card.querySelector('.name').value = config.label;
  card.querySelector('[name="algorithm"]').value = config.algorithm;
  card.querySelector('[name="amsgrad"]').checked = config.amsgrad;
  for (const name of NUMBERS) {
    card.querySelector(`[name="${name}"]`).value = String(config[name]);
  }
  card.querySelector('[name="selected"]').addEventListener('change', () => select(optimizer));
  card.querySelector('.remove').addEventListener('click', () => removeOptimizer(optimizer));
  card.querySelector('.name').addEventListener('input', (event) => {
    optimizer.config.label = event.target.value;
    renderState();
  });
  for (const field of card.querySelectorAll('.fields input, .fields select')) {
    field.addEventListener('change', () => {
      optimizer.config.algorithm = card.querySelector('[name="algorithm"]').value;
      optimizer.config.amsgrad = card.querySelector('[name="amsgrad"]').checked;
      for (const name of NUMBERS) {
        optimizer.config[name] = card.querySelector(`[name="${name}"]`).value;
      }
      reset();
    });
  }
  page.optimizers.push(optimizer);
  $('optimizers').append(card);
  if (page.optimizers.length === 1) {
    select(optimizer);
  }
  updateControls();
}

async function removeOptimizer(optimizer) {
  await reset();
  const selected = page.optimizers[page.selected];
  page.optimizers = page.optimizers.filter((o) => o !== optimizer);
  optimizer.card.remove();
  if (page.optimizers.length) {
    select((selected === optimizer) ? page.optimizers[0] : selected);
  } else {
    renderState();
  }
  updateControls();
  draw();
}

function select(optimizer) {
  page.selected = page.optimizers.indexOf(optimizer);
  page.optimizers.forEach((o) => {
    o.card.classList.toggle('selected', o === optimizer);
    o.card.querySelector('[name="selected"]').checked = o === optimizer;
  });
  renderState();
  refreshState().catch(show);
  draw();
}

/** The optimizer settings as the API takes them; a local Problem when a field is not a number. */
function settings(optimizer) {
  const result = {algorithm: optimizer.config.algorithm, amsgrad: optimizer.config.amsgrad};
  for (const name of NUMBERS) {
    const text = String(optimizer.config[name]).trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) {
      throw new Problem({status: 0, title: 'Not a number',
        detail: `${optimizer.config.label}: the ${NUMBER_NAMES[name]} '${text}' is not a number`});
    }
    result[name] = value;
  }
  return result;
}

// ---- the run --------------------------------------------------------------------------------------------------------

async function createSession(optimizer) {
  const label = optimizer.config.label;
  const created = await doing(`Creating the session of ${label}`, () => call('POST', '/v1/sessions',
    {optimizer: settings(optimizer), parameters: {xy: optimizer.path[0]}}));
  optimizer.session = created.id;
}

/** One step of one optimizer: f and its gradient at its point, sent to its session; the point it answers. */
async function step(optimizer) {
  const [x, y] = optimizer.path[optimizer.path.length - 1];
  const [gx, gy] = page.objective.gradient(x, y);
  const loss = page.objective.f(x, y);
  // built by hand: a gradient that is not finite travels as the API's NaN / Infinity tokens (and is refused)
  const body = `{"gradients":{"xy":[${jsonNumber(gx)},${jsonNumber(gy)}]}`
    + (Number.isFinite(loss) ? `,"loss":${jsonNumber(loss)}}` : '}');
  const session = optimizer.session;
  const answer = await doing(`Step ${stepOf(optimizer) + 1} of ${optimizer.config.label}`,
    () => call('POST', `/v1/sessions/${session}/steps`, body));
  if (optimizer.session === session) {
    optimizer.path.push(answer.parameters.xy);
  }
}

function pace(speed) {
  const delay = SPEEDS[speed];
  if (delay === 'frame') {
    return new Promise((resolve) => requestAnimationFrame(() => resolve()));
  }
  return new Promise((resolve) => setTimeout(resolve, delay));
}

/** Steps every optimizer until each has reached stopAt, or until paused or a problem. */
function run(stopAt) {
  if (page.running) {
    return page.run;
  }
  page.running = true;
  problems.clear();
  setStatus('running');
  updateControls();
  page.run = (async () => {
    try {
      // every create settles before a refusal is shown, so the page never shows a problem while others are in flight
      const created = await Promise.allSettled(page.optimizers.filter((o) => !o.session).map(createSession));
      const refused = created.find((c) => c.status === 'rejected');
      if (refused) {
        throw refused.reason;
      }
      refreshState().catch(show);
      let stateRead = performance.now();
      while (page.running) {
        const due = page.optimizers.filter((o) => stepOf(o) < stopAt);
        if (due.length === 0) {
          break;
        }
        await Promise.all(due.map(step));
        requestDraw();
        if (performance.now() - stateRead > STATE_INTERVAL_MS) {
          stateRead = performance.now();
          refreshState().catch(show);
        }
        await pace($('speed').value);
      }
    } catch (error) {
      show(error);
    } finally {
      page.running = false;
      draw();
      await refreshState().catch(show);
      setStatus('idle');
      updateControls();
    }
  })();
  return page.run;
}

function pause() {
  page.running = false;
}

/** Stops the run, deletes its sessions and goes back to the start; the next step creates new sessions. */
async function reset() {
  page.running = false;
  setStatus('resetting');
  await page.run;
  const sessions = page.optimizers.filter((o) => o.session).map((o) => o.session);
  for (const optimizer of page.optimizers) {
    optimizer.session = null;
    optimizer.path = [page.start.slice()];
  }
  page.state = null;
  renderState();
  draw();
  const deleted = await Promise.allSettled(sessions.map((id) => call('DELETE', `/v1/sessions/${id}`)));
  // a session that expired meanwhile is gone already
  const failed = deleted.find((d) => d.status === 'rejected' && d.reason.status !== 404);
  if (failed) {
    problems.show(failed.reason, 'Deleting the sessions of the last run');
  }
  setStatus(page.running ? 'running' : 'idle');
  updateControls();
}

function stopAt() {
  return Math.max(1, Math.min(10_000, Math.floor(Number($('stop-at').value)) || 2000));
}

function updateControls() {
  const play = $('play');
  play.textContent = page.running ? 'Pause' : 'Play';
  play.setAttribute('aria-pressed', String(page.running));
  $('step').disabled = page.running || page.optimizers.length === 0;
  $('add-optimizer').disabled = page.optimizers.length >= MAX_OPTIMIZERS;
  document.body.dataset.step = String(commonStep());
  const target = stopAt();
  $('run-status').textContent = (!page.running && page.optimizers.length && commonStep() >= target)
    ? `Step ${commonStep()}: the stop step` : `Step ${commonStep()}`;
}

// ---- the state panel ----------------------------------------------------------------------------------------------

let stateQueued = null;
let stateChain = Promise.resolve();

/** Reads the selected optimizer's checkpoint once more, after any read in progress (reads never overlap). */
function refreshState() {
  if (stateQueued) {
    return stateQueued;
  }
  const read = stateChain.then(() => {
    stateQueued = null;
    return readState();
  });
  stateQueued = read;
  stateChain = read.catch(() => {});
  return read;
}

async function readState() {
  const optimizer = page.optimizers[page.selected];
  const session = optimizer?.session;
  if (!session) {
    page.state = null;
    renderState();
    return;
  }
  let state;
  try {
    state = await call('GET', `/v1/sessions/${session}/state`);
  } catch (error) {
    if (optimizer.session !== session) {
      return; // reset meanwhile: that session is gone
    }
    error.doing = `Reading the state of ${optimizer.config.label}`;
    throw error;
  }
  if (optimizer.session === session && page.optimizers[page.selected] === optimizer) {
    page.state = {session, state};
    renderState();
  }
}

function renderState() {
  const optimizer = page.optimizers[page.selected];
  const table = $('state-table');
  const tbody = table.querySelector('tbody');
  $('state-name').textContent = optimizer ? optimizer.config.label : 'the selected optimizer';
  if (!optimizer || !page.state || page.state.session !== optimizer.session) {
    $('state-t').textContent = '–';
    $('state-t').dataset.value = '';
    $('state-source').textContent = 'Step an optimizer to read its state from the service.';
    table.hidden = true;
    tbody.replaceChildren();
    return;
  }
  const {session, state} = page.state;
  const tensor = state.tensors.xy;
  const t = tensor.step;
  const {learningRate: alpha, beta1, beta2, epsilon, amsgrad} = state.optimizer;
  const v = tensor.firstMoment;
  const s = tensor.secondMoment;
  const corrected = (moment, beta) => (t > 0) ? moment.map((m) => m / (1 - beta ** t)) : [null, null];
  const vHat = corrected(v, beta1);
  const sHat = corrected(s, beta2);
  const rows = [
    ['parameter', 'θ = (x, y)', tensor.parameter],
    ['firstMoment', 'v (first moment)', v],
    ['secondMoment', 's (second moment)', s],
  ];
  let sUsed = sHat;
  if (amsgrad && tensor.maxSecondMoment) {
    rows.push(['maxSecondMoment', 'max s (AMSGrad)', tensor.maxSecondMoment]);
    sUsed = corrected(tensor.maxSecondMoment, beta2);
  }
  rows.push(['vHat', 'v̂ = v / (1 − β1ᵗ)', vHat], ['sHat', 'ŝ = s / (1 − β2ᵗ)', sHat]);
  if (amsgrad) {
    rows.push(['sMaxHat', 'ŝ of max s', sUsed]);
  }
  rows.push(['update', 'α·v̂ / (√ŝ + ε)', (t > 0) ? vHat.map((m, k) => alpha * m / (Math.sqrt(sUsed[k]) + epsilon))
    : [null, null]]);
  tbody.replaceChildren(...rows.map(([key, name, values]) => {
    const row = document.createElement('tr');
    row.dataset.field = key;
    const header = document.createElement('th');
    header.scope = 'row';
    header.textContent = name;
    row.append(header, ...values.map((value) => {
      const cell = document.createElement('td');
      cell.textContent = formatNumber(value);
      cell.dataset.value = (value === null) ? '' : String(value);
      return cell;
    }));
    return row;
  }));
  table.hidden = false;
  $('state-t').textContent = String(t);
  $('state-t').dataset.value = String(t);
  const source = $('state-source');
  const link = document.createElement('a');
  link.href = `sessions.html?session=${encodeURIComponent(session)}`;
  link.textContent = session;
  source.replaceChildren(`Session `, link, `, read from GET /v1/sessions/{id}/state: α = ${alpha}, β1 = ${beta1}, `
    + `β2 = ${beta2}, ε = ${epsilon}.`);
}

// ---- drawing ------------------------------------------------------------------------------------------------------

let drawRequested = false;
let drawnAt = 0;

/** A draw at the next frame; while running fast, at most every FAST_DRAW_MS (drawing then costs more than steps). */
function requestDraw() {
  if (drawRequested) {
    return;
  }
  drawRequested = true;
  const wait = ($('speed').value === 'fast') ? Math.max(0, drawnAt + FAST_DRAW_MS - performance.now()) : 0;
  setTimeout(() => requestAnimationFrame(() => {
    drawRequested = false;
    draw();
  }), wait);
}

function draw() {
  drawnAt = performance.now();
  plot.draw(page.start, page.optimizers.map((o, k) => ({color: o.color, points: o.path,
    selected: k === page.selected})));
  const {f} = page.objective;
  lossChart.setSeries(page.optimizers.map((o, k) => ({label: o.config.label, color: o.color,
    points: o.path.map(([x, y], t) => [t, f(x, y)]), selected: k === page.selected})));
  for (const optimizer of page.optimizers) {
    const [x, y] = optimizer.path[optimizer.path.length - 1];
    optimizer.card.querySelector('.progress').textContent =
      `t = ${stepOf(optimizer)} · (${formatNumber(x)}, ${formatNumber(y)}) · f = ${formatNumber(f(x, y))}`;
  }
  updateControls();
}

// ---- the page -----------------------------------------------------------------------------------------------------

function setStart(point) {
  page.start = point.map((c) => Number(c.toFixed(3)));
  $('start-x').value = String(page.start[0]);
  $('start-y').value = String(page.start[1]);
  return reset();
}

function setObjective(key) {
  page.objective = OBJECTIVES[key];
  $('objective').value = key;
  $('formula').textContent = page.objective.formula;
  plot.setObjective(page.objective);
  return setStart(page.objective.start);
}

/** Whether the service needs a key this tab lacks: a 401 shows the key field and the problem. */
async function checkAccess() {
  try {
    await call('GET', '/v1/sessions?pageSize=1');
    document.body.dataset.access = 'granted';
  } catch (error) {
    document.body.dataset.access = 'refused';
    problems.show(error, 'Asking the service for its sessions');
  }
}

$('objective').addEventListener('change', (event) => setObjective(event.target.value).catch(show));
for (const id of ['start-x', 'start-y']) {
  $(id).addEventListener('change', () => {
    const point = [Number($('start-x').value), Number($('start-y').value)];
    if (point.every(Number.isFinite)) {
      setStart(point).catch(show);
    }
  });
}
$('surface').addEventListener('click', (event) => {
  const bounds = event.target.getBoundingClientRect();
  const point = plot.toPoint(event.clientX - bounds.left, event.clientY - bounds.top);
  if (point) {
    setStart(point).catch(show);
  }
});
$('surface').addEventListener('mousemove', (event) => {
  const bounds = event.target.getBoundingClientRect();
  const point = plot.toPoint(event.clientX - bounds.left, event.clientY - bounds.top);
  $('cursor').textContent = point
    ? `x = ${point[0].toFixed(3)}, y = ${point[1].toFixed(3)}, f = ${formatNumber(page.objective.f(...point))}`
    : 'Click the plot to start from there.';
});
$('play').addEventListener('click', () => page.running ? pause() : run(stopAt()));
$('step').addEventListener('click', () => run(commonStep() + 1));
$('reset').addEventListener('click', () => reset().catch(show));
$('stop-at').addEventListener('change', updateControls);
$('add-optimizer').addEventListener('click', async () => {
  await reset();
  addOptimizer({...TORCH, label: `Adam ${page.optimizers.length + 1}`});
  draw();
});
keyField($('key-form'), () => {
  problems.clear();
  checkAccess();
});
new ResizeObserver(() => {
  plot.renderBackground();
  draw();
}).observe($('surface'));
// Sessions end with the page (best effort: they expire after the service's idle timeout anyway)
window.addEventListener('pagehide', () => {
  deleteWhileLeaving(page.optimizers.filter((o) => o.session).map((o) => `/v1/sessions/${o.session}`));
  for (const optimizer of page.optimizers) {
    optimizer.session = null;
    optimizer.path = [page.start.slice()];
  }
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) {
    page.state = null;
    renderState();
    draw();
  }
});

/** What the page shows, for its tests and the console: the paths as drawn, the state panel's values. */
window.adamSurface = {
  /** Where a point of the plane is on the plot, in the canvas's CSS pixels. */
  pixelOf(point) {
    return plot.toPixel(point);
  },
  snapshot() {
    return {
      status: document.body.dataset.status,
      objective: $('objective').value,
      start: page.start,
      step: commonStep(),
      optimizers: page.optimizers.map((o, k) => ({
        label: o.config.label, color: o.color, session: o.session, step: stepOf(o), path: o.path,
        drawn: plot.drawn[k]?.pixels ?? [], lossDrawn: lossChart.drawn[k]?.pixels ?? [],
      })),
      state: page.state && {session: page.state.session, t: Number($('state-t').dataset.value),
        rows: Object.fromEntries([...$('state-table').querySelectorAll('tbody tr')].map((row) => [row.dataset.field,
          [...row.querySelectorAll('td')].map((cell) => (cell.dataset.value === '') ? null
            : Number(cell.dataset.value))]))},
      problem: $('problem').hidden ? null : {status: $('problem').dataset.status, type: $('problem').dataset.type,
        text: $('problem').textContent},
    };
  },
};

DEFAULTS.forEach(addOptimizer);
setObjective('rosenbrock').then(() => {
  setStatus('idle');
  return checkAccess();
}).catch(show);
