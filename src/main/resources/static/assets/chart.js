// A line chart on a canvas: series of (x, y) points against a linear x axis and a linear or logarithmic y axis.
import {fitCanvas, niceTicks} from './plot.js';

const MARGIN = {left: 58, right: 12, top: 8, bottom: 30};

/** The smallest and largest of many values (no spread: a history has up to 10,000 points a series). */
function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

function label(value) {
  if (value === 0) {
    return '0';
  }
  const magnitude = Math.abs(value);
  return (magnitude >= 1e-3 && magnitude < 1e5) ? String(Number(value.toPrecision(4))) : value.toExponential(0);
}

export class LineChart {
  /** scale: 'log', 'linear', or 'auto' (log when every value is positive and they span more than a decade). */
  constructor(canvas, {xLabel = 'step', scale = 'linear'} = {}) {
    this.canvas = canvas;
    this.xLabel = xLabel;
    this.scale = scale;
    this.series = [];
    /** What draw() drew last: per series its points and their pixels; for the pages' snapshot(). */
    this.drawn = [];
    this.drawnScale = null;
  }

  /** [{label, color, points: [[x, y], ...], selected}]: a selected series is drawn over the others. */
  setSeries(series) {
    this.series = series;
    this.draw();
  }

  draw() {
    const {context, width, height} = fitCanvas(this.canvas);
    context.clearRect(0, 0, width, height);
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, height);
    const plot = {x: MARGIN.left, y: MARGIN.top, width: width - MARGIN.left - MARGIN.right,
      height: height - MARGIN.top - MARGIN.bottom};
    const values = this.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
    const positive = values.filter(([, y]) => y > 0).map(([, y]) => y);
    let log = this.scale === 'log';
    if (this.scale === 'auto') {
      const [lo, hi] = extent(positive);
      log = values.length > 0 && positive.length === values.length && hi / lo > 10;
    }
    this.drawnScale = log ? 'log' : 'linear';
    const shown = log ? values.filter(([, y]) => y > 0) : values;

    let [xMin, xMax] = extent(shown.map(([x]) => x));
    if (!Number.isFinite(xMin)) {
      xMin = 0;
      xMax = 1;
    } else if (xMax === xMin) {
      xMax = xMin + 1;
    }
    const ys = shown.map(([, y]) => log ? Math.log10(y) : y);
    let [yMin, yMax] = extent(ys);
    if (!Number.isFinite(yMin)) {
      yMin = 0;
      yMax = 1;
    } else if (log) {
      yMin = Math.floor(yMin);
      yMax = Math.max(Math.ceil(yMax), yMin + 1);
    } else if (yMax === yMin) {
      yMin -= Math.abs(yMin) * 0.1 || 1;
      yMax += Math.abs(yMax) * 0.1 || 1;
    } else {
      const pad = (yMax - yMin) * 0.05;
      yMin -= pad;
      yMax += pad;
    }
    const px = (x) => plot.x + (x - xMin) / (xMax - xMin) * plot.width;
    const py = (y) => plot.y + (yMax - (log ? Math.log10(y) : y)) / (yMax - yMin) * plot.height;

    // grid and axes
    context.font = '11px system-ui, sans-serif';
    context.fillStyle = '#445';
    context.strokeStyle = '#e3e6ec';
    context.lineWidth = 1;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    const yTicks = log
      ? Array.from({length: yMax - yMin + 1}, (_, k) => yMin + k)
        .filter((_, k, all) => all.length <= 8 || k % Math.ceil(all.length / 8) === 0)
      : niceTicks(yMin, yMax, 5);
    for (const tick of yTicks) {
      const y = log ? py(10 ** tick) : py(tick);
      context.beginPath();
      context.moveTo(plot.x, Math.round(y) + 0.5);
      context.lineTo(plot.x + plot.width, Math.round(y) + 0.5);
      context.stroke();
      context.fillText(log ? `1e${tick}` : label(tick), plot.x - 6, y);
    }
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (const tick of niceTicks(xMin, xMax, 6)) {
      if (tick < xMin || tick > xMax) {
        continue;
      }
      const x = px(tick);
      context.beginPath();
      context.moveTo(Math.round(x) + 0.5, plot.y);
      context.lineTo(Math.round(x) + 0.5, plot.y + plot.height);
      context.stroke();
      context.fillText(label(tick), x, plot.y + plot.height + 5);
    }
    context.strokeStyle = '#556';
    context.strokeRect(plot.x, plot.y, plot.width, plot.height);
    context.textAlign = 'right';
    context.fillText(this.xLabel, plot.x + plot.width, plot.y + plot.height + 17);

    // the series
    context.save();
    context.beginPath();
    context.rect(plot.x, plot.y, plot.width, plot.height);
    context.clip();
    context.lineWidth = 2;
    context.lineJoin = 'round';
    this.drawn = this.series.map((series) => {
      const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!log || y > 0));
      return {label: series.label, color: series.color, points, pixels: points.map(([x, y]) => [px(x), py(y)])};
    });
    // a selected series last, on top of the others
    const order = this.series.map((series, k) => k)
      .sort((a, b) => Number(Boolean(this.series[a].selected)) - Number(Boolean(this.series[b].selected)));
    for (const k of order) {
      const series = this.series[k];
      const {pixels} = this.drawn[k];
      context.strokeStyle = series.color;
      context.fillStyle = series.color;
      if (pixels.length === 1) {
        context.beginPath();
        context.arc(pixels[0][0], pixels[0][1], 2.5, 0, 2 * Math.PI);
        context.fill();
      }
      context.beginPath();
      pixels.forEach(([x, y], i) => (i === 0) ? context.moveTo(x, y) : context.lineTo(x, y));
      context.stroke();
    }
    context.restore();
  }
}
