// What the pages' scripts share (surface-page.mjs, sessions-page.mjs): a scenario in phases, each reported as one
// line of JSON on stdout; after each but the last the script waits for a line on stdin, so that the Java test can
// check the service between phases (dev.adamopt.VisualizationPagesTest). And what the browser saw: console messages,
// page errors, failed requests, the API requests made; and whether a canvas shows a colour at given pixels.
import readline from 'node:readline';

const input = readline.createInterface({input: process.stdin});
const lines = input[Symbol.asyncIterator]();

/** Prints {phase, ...data} as one line; unless last, waits for the test to say go on. */
export async function report(phase, data, last = false) {
  process.stdout.write(JSON.stringify({phase, ...data}) + '\n');
  if (last) {
    input.close();
    return;
  }
  const next = await lines.next();
  if (next.done) {
    throw new Error(`stdin closed after phase ${phase}`);
  }
}

/** Collects what the page logs and, when asked, which API requests it makes (method, path and query, status). */
export function watch(page, {api = false} = {}) {
  const seen = {console: [], errors: [], failed: [], api: []};
  page.on('console', (message) => seen.console.push({type: message.type(), text: message.text()}));
  page.on('pageerror', (error) => seen.errors.push(error.message));
  page.on('requestfailed', (request) => seen.failed.push(`${request.method()} ${request.url()}: `
    + `${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (!api) {
      return;
    }
    const url = new URL(response.url());
    if (url.pathname.startsWith('/v1/')) {
      seen.api.push({method: response.request().method(), path: url.pathname + url.search,
        status: response.status()});
    }
  });
  return seen;
}

/** Keeps a copy of a canvas's pixels under a name, to compare with later. */
export async function keepPixels(page, canvasId, name) {
  await page.evaluate(([id, key]) => {
    const canvas = document.getElementById(id);
    window.kept ??= {};
    window.kept[key] = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  }, [canvasId, name]);
}

/**
 * How many of the given points (CSS pixels of the canvas) show the colour (#rrggbb) within 2 device pixels, now or
 * in a kept copy: {sampled, matched}.
 */
export async function colorAt(page, canvasId, points, color, kept = null) {
  return page.evaluate(([id, pixels, hex, key]) => {
    const canvas = document.getElementById(id);
    const ratio = canvas.width / canvas.clientWidth;
    const image = key ? window.kept[key] : canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let matched = 0;
    for (const [px, py] of pixels) {
      const cx = Math.round(px * ratio);
      const cy = Math.round(py * ratio);
      let best = Infinity;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const x = cx + dx;
          const y = cy + dy;
          if (x >= 0 && y >= 0 && x < image.width && y < image.height) {
            const k = 4 * (y * image.width + x);
            best = Math.min(best, Math.abs(image.data[k] - target[0]) + Math.abs(image.data[k + 1] - target[1])
              + Math.abs(image.data[k + 2] - target[2]));
          }
        }
      }
      if (best <= 40) {
        matched++;
      }
    }
    return {sampled: pixels.length, matched};
  }, [canvasId, points, color, kept]);
}

/**
 * Points of a drawn line (CSS pixels) to sample: those at least 3 pixels from the one sampled before and at least
 * 10 from every marker drawn over lines ([x, y] each), about count of them spread evenly.
 */
export function lineSamples(points, markers, count) {
  const distinct = [];
  for (const [x, y] of points) {
    const previous = distinct[distinct.length - 1];
    if ((!previous || Math.hypot(x - previous[0], y - previous[1]) >= 3)
      && markers.every(([mx, my]) => Math.hypot(x - mx, y - my) >= 10)) {
      distinct.push([x, y]);
    }
  }
  return spread(distinct, count);
}

/** About count points spread evenly over a list (its last one included). */
export function spread(points, count) {
  if (points.length <= count) {
    return points;
  }
  return Array.from({length: count}, (_, k) => points[Math.round(k * (points.length - 1) / (count - 1))]);
}
