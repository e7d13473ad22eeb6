// Swagger UI's Authorize button, as a person uses it: open the service's Swagger UI in headless Chromium (Debian's),
// send "Create a session" with Try it out / Execute, then give the key to Authorize and send it again. Prints one line
// of JSON: {before, after} with each create's status and the Authorization header Swagger UI sent, and the console.
// Run by dev.adamopt.BrowserCorsTest:
//   node swagger-authorize.mjs API_URL API_KEY
// CHROMIUM names the browser (default /usr/bin/chromium).
import { launchChromium } from './chromium.mjs';

const [api, key] = process.argv.slice(2);
if (!key) {
  console.error('usage: node swagger-authorize.mjs API_URL API_KEY');
  process.exit(2);
}

const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(60_000);
  const consoleLines = [];
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
  await page.goto(`${api}/swagger-ui.html`);

  const create = page.locator('#operations-Sessions-create');
  await create.locator('.opblock-summary').click();
  const tryItOut = create.locator('button.try-out__btn');
  if ((await tryItOut.textContent()).trim() === 'Try it out') {
    await tryItOut.click();
  }

  /** Clicks Execute and waits for the POST it sends; what was sent and answered. */
  async function execute() {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/sessions'),
      create.locator('button.execute').click(),
    ]);
    const body = await response.json();
    return { status: response.status(), authorization: response.request().headers()['authorization'] ?? null,
      type: body.type ?? null, id: body.id ?? null };
  }

  const before = await execute();

  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.modal-ux');
  await dialog.locator('input').first().fill(key);
  await dialog.locator('button.authorize').click();
  await dialog.locator('button.btn-done').click();

  const after = await execute();
  process.stdout.write(JSON.stringify({ before, after, console: consoleLines }) + '\n');
} finally {
  await browser.close();
}
