// The surface page (/) in headless Chromium (Debian's), as a person uses it, in phases that the Java test checks
// against the service in between (see phases.mjs). Run by dev.adamopt.VisualizationPagesTest:
//   node surface-page.mjs BASE_URL SCREENSHOT STOP_AT [API_KEY]
// loaded:   the page, and with API_KEY its 401 and key field, then the key given; the objectives' gradients against
//           finite differences
// ran:      Play, fast, to STOP_AT steps with the default optimizers: the page's snapshot (paths as drawn, the state
//           panel), whether the selected path and its loss curve are drawn (pixels now and before), the screenshot
// reset:    one more Step (the state panel follows), then Reset (the paths leave the plot)
// problem:  β1 = 1 for the second optimizer, then Step: the problem the page shows
// stepped:  β1 back, a click on the plot at (0.5, -0.5) as the start, three Steps
// left:     the page left for the sessions page (its sessions are deleted as it goes)
// CHROMIUM names the browser (default /usr/bin/chromium).
import { launchChromium } from './chromium.mjs';
import { colorAt, keepPixels, lineSamples, report, watch } from './phases.mjs';

const [base, screenshot, stopAtText, key] = process.argv.slice(2);
if (!stopAtText) {
  console.error('usage: node surface-page.mjs BASE_URL SCREENSHOT STOP_AT [API_KEY]');
  process.exit(2);
}
const stopAt = Number(stopAtText);

const browser = await launchChromium();
try {
  const page = await browser.newPage({viewport: {width: 1280, height: 820}});
  page.setDefaultTimeout(60_000);
  const seen = watch(page);
  const snapshot = () => page.evaluate(() => window.adamSurface.snapshot());
  const idleAt = (step) => page.waitForFunction((n) => document.body.dataset.status === 'idle'
    && Number(document.body.dataset.step) === n, step, {timeout: 240_000});

  const loaded = await page.goto(`${base}/`);
  if (!loaded.ok()) {
    throw new Error(`GET / answered ${loaded.status()}`);
  }
  await page.waitForFunction(() => document.body.dataset.status === 'idle' && document.body.dataset.access);
  let keyPrompt = null;
  if (key) {
    const refused = await snapshot();
    keyPrompt = {access: await page.evaluate(() => document.body.dataset.access), problem: refused.problem,
      keyFieldVisible: await page.locator('#key-form').isVisible()};
    await page.fill('#api-key', key);
    await page.click('#key-form button[type="submit"]');
    await page.waitForFunction(() => document.body.dataset.access === 'granted');
  }
  const gradients = await page.evaluate(async () => {
    const {OBJECTIVES} = await import('/assets/objectives.js');
    const errors = {};
    for (const [name, objective] of Object.entries(OBJECTIVES)) {
      const {xMin, xMax, yMin, yMax} = objective.view;
      let worst = 0;
      for (let i = 0; i < 7; i++) {
        for (let j = 0; j < 7; j++) {
          const x = xMin + (i + 0.37) / 7 * (xMax - xMin);
          const y = yMin + (j + 0.61) / 7 * (yMax - yMin);
          const [gx, gy] = objective.gradient(x, y);
          const h = 1e-6;
          const dx = (objective.f(x + h, y) - objective.f(x - h, y)) / (2 * h);
          const dy = (objective.f(x, y + h) - objective.f(x, y - h)) / (2 * h);
          worst = Math.max(worst, Math.abs(gx - dx) / Math.max(1, Math.abs(dx)),
            Math.abs(gy - dy) / Math.max(1, Math.abs(dy)));
        }
      }
      errors[name] = worst;
    }
    return errors;
  });
  await keepPixels(page, 'surface', 'surfaceBefore');
  await keepPixels(page, 'loss', 'lossBefore');
  await report('loaded', {keyPrompt, gradients, snapshot: await snapshot(), seen});

  await page.selectOption('#speed', 'fast');
  await page.fill('#stop-at', String(stopAt));
  const started = Date.now();
  await page.click('#play');
  await idleAt(stopAt);
  const runMillis = Date.now() - started;
  const ran = await snapshot();
  const selected = ran.optimizers[0];
  // the markers drawn over the paths: the start, the minimum, each optimizer's current point
  const markers = await page.evaluate((points) => points.map((point) => window.adamSurface.pixelOf(point)),
    [ran.start, [1, 1]]);
  markers.push(...ran.optimizers.map((o) => o.drawn[o.drawn.length - 1]));
  const pathPoints = lineSamples(selected.drawn, markers, 60);
  const lossPoints = lineSamples(selected.lossDrawn, [], 40);
  const pixels = {
    path: await colorAt(page, 'surface', pathPoints, selected.color),
    pathBefore: await colorAt(page, 'surface', pathPoints, selected.color, 'surfaceBefore'),
    loss: await colorAt(page, 'loss', lossPoints, selected.color),
    lossBefore: await colorAt(page, 'loss', lossPoints, selected.color, 'lossBefore'),
  };
  await page.screenshot({path: screenshot});
  await report('ran', {runMillis, snapshot: ran, pixels, seen});

  await page.click('#step');
  await idleAt(stopAt + 1);
  const afterStep = await snapshot();
  await page.click('#reset');
  await idleAt(0);
  const afterReset = await snapshot();
  const pathAfterReset = await colorAt(page, 'surface', pathPoints, selected.color);
  await report('reset', {afterStep, afterReset, pathAfterReset, seen});

  const second = page.locator('.optimizer').nth(1);
  await second.locator('[name="beta1"]').fill('1');
  await second.locator('[name="beta1"]').dispatchEvent('change');
  await page.waitForFunction(() => document.body.dataset.status === 'idle');
  await page.click('#step');
  await page.waitForFunction(() => document.body.dataset.status === 'idle'
    && !document.getElementById('problem').hidden);
  const problem = await snapshot();
  await report('problem', {snapshot: problem, problemVisible: await page.locator('#problem').isVisible(), seen});

  await second.locator('[name="beta1"]').fill('0.9');
  await second.locator('[name="beta1"]').dispatchEvent('change');
  await page.waitForFunction(() => document.body.dataset.status === 'idle');
  const [px, py] = await page.evaluate(() => window.adamSurface.pixelOf([0.5, -0.5]));
  await page.locator('#surface').click({position: {x: px, y: py}});
  await idleAt(0);
  for (let k = 1; k <= 3; k++) {
    await page.click('#step');
    await idleAt(k);
  }
  const stepped = await snapshot();
  const inputs = [await page.inputValue('#start-x'), await page.inputValue('#start-y')];
  await report('stepped', {snapshot: stepped, inputs, seen});

  await page.click('nav a[href="sessions.html"]');
  await page.waitForURL('**/sessions.html');
  await report('left', {url: page.url(), seen}, true);
} finally {
  await browser.close();
}
