// Debian's Chromium (never a downloaded one), headless, for the browser test's scripts. CHROMIUM names the browser
// (default /usr/bin/chromium).
import { chromium } from 'playwright-core';

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    timeout: 120_000,
    // --no-sandbox: CI runs as root. The others keep Chromium off the network it would call on its own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
