// Opens a page in headless Chromium (Debian's, never a downloaded one) and runs one of its functions against the
// service, or a script in it; prints {origin, result, console} as one line of JSON. Run by
// dev.adamopt.BrowserCorsTest:
//   node run-page.mjs PAGE_URL FUNCTION API_URL API_KEY
//   node run-page.mjs PAGE_URL script:FILE - -       (FILE: JavaScript run as the body of an async function)
// CHROMIUM names the browser (default /usr/bin/chromium).
import { readFileSync } from 'node:fs';
import { launchChromium } from './chromium.mjs';

const [pageUrl, fn, api, key] = process.argv.slice(2);
if (!key) {
  console.error('usage: node run-page.mjs PAGE_URL FUNCTION API_URL API_KEY');
  process.exit(2);
}

const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(120_000);
  const consoleLines = [];
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
  const loaded = await page.goto(pageUrl);
  if (!loaded || !loaded.ok()) {
    throw new Error(`could not load ${pageUrl}: ${loaded ? loaded.status() : 'no answer'}`);
  }
  const result = fn.startsWith('script:')
    ? await page.evaluate(`(async () => {\n${readFileSync(fn.substring('script:'.length), 'utf8')}\n})()`)
    : await page.evaluate(([name, ...args]) => window[name](...args), [fn, api, key]);
  const origin = await page.evaluate(() => window.location.origin);
  process.stdout.write(JSON.stringify({ origin, result: result ?? null, console: consoleLines }) + '\n');
} finally {
  await browser.close();
}
