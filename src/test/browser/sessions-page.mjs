// The sessions page (/sessions.html) in headless Chromium (Debian's), in phases that the Java test checks against
// the service in between (see phases.mjs). Run by dev.adamopt.VisualizationPagesTest:
//   node sessions-page.mjs BASE_URL SCREENSHOT SESSION_ID ENTRIES_THEN ENTRIES_LATER [API_KEY]
// listed:   the first page, and with API_KEY its 401 and key field, then the key given; ten a page: the first page,
//           the next, the first again
// plotted:  SESSION_ID chosen: its charts once they hold ENTRIES_THEN entries, whether each line is drawn (pixels), the
//           screenshot
// updated:  once the charts hold ENTRIES_LATER entries (the test steps the session meanwhile): the charts and the
//           history requests the page made
// CHROMIUM names the browser (default /usr/bin/chromium).
import { launchChromium } from './chromium.mjs';
import { colorAt, report, spread, watch } from './phases.mjs';

const [base, screenshot, session, entriesThen, entriesLater, key] = process.argv.slice(2);
if (!entriesLater) {
  console.error('usage: node sessions-page.mjs BASE_URL SCREENSHOT SESSION_ID ENTRIES_THEN ENTRIES_LATER [API_KEY]');
  process.exit(2);
}

const browser = await launchChromium();
try {
  const page = await browser.newPage({viewport: {width: 1280, height: 820}});
  page.setDefaultTimeout(60_000);
  const seen = watch(page, {api: true});
  const snapshot = () => page.evaluate(() => window.adamSessions.snapshot());
  const entries = (n) => page.waitForFunction((count) => Number(document.getElementById('detail').dataset.entries)
    === count, Number(n), {timeout: 60_000});
  /** Clicks a pager button and waits for the page of the list it asks for. */
  async function turn(button, number) {
    await page.click(button);
    await page.waitForFunction((n) => window.adamSessions.snapshot().page === n, number);
    return snapshot();
  }

  const loaded = await page.goto(`${base}/sessions.html`);
  if (!loaded.ok()) {
    throw new Error(`GET /sessions.html answered ${loaded.status()}`);
  }
  await page.waitForFunction(() => document.body.dataset.status === 'idle' && document.body.dataset.access);
  let keyPrompt = null;
  if (key) {
    keyPrompt = {access: await page.evaluate(() => document.body.dataset.access), problem: (await snapshot()).problem,
      keyFieldVisible: await page.locator('#key-form').isVisible()};
    await page.fill('#api-key', key);
    await page.click('#key-form button[type="submit"]');
    await page.waitForFunction(() => document.body.dataset.access === 'granted');
  }
  const first = await snapshot();
  await page.selectOption('#page-size', '10');
  await page.waitForFunction(() => window.adamSessions.snapshot().listed.length <= 10);
  const tenFirst = await snapshot();
  const tenNext = await turn('#next-page', 2);
  const tenFirstAgain = await turn('#first-page', 1);
  const rows = await page.locator('#session-table tbody tr').count();
  await report('listed', {keyPrompt, first, tenFirst, tenNext, tenFirstAgain, rows, seen});

  await page.selectOption('#page-size', '50');
  await page.waitForFunction((id) => window.adamSessions.snapshot().listed.includes(id), session);
  await page.locator(`#session-table tr[data-session="${session}"] button`).click();
  await entries(entriesThen);
  const plotted = await snapshot();
  const pixels = {};
  for (const [name, chart] of Object.entries(plotted.charts)) {
    pixels[name] = await colorAt(page, chart.canvas, spread(chart.pixels, 30), chart.color);
  }
  await page.screenshot({path: screenshot, fullPage: true});
  await report('plotted', {snapshot: plotted, pixels, url: page.url(), seen});

  await entries(entriesLater);
  await report('updated', {snapshot: await snapshot(), seen}, true);
} finally {
  await browser.close();
}
