// The surface as a contour plot on a canvas: the objective's log-scaled values as colour with contour lines
// (marching squares), its minima, the start point and the optimizers' paths.

const MARGIN = {left: 42, right: 10, top: 10, bottom: 30};

/** Light to mid blue (low to high f), so that the paths' colours stand out. */
const PALETTE = [[255, 255, 255], [239, 243, 255], [198, 219, 239], [158, 202, 225], [107, 174, 214]];

/** Decades of f shown below the highest value; lower values get the lowest colour. */
const DECADES = 7;

function paletteColor(t) {
  const scaled = Math.min(Math.max(t, 0), 1) * (PALETTE.length - 1);
  const i = Math.min(Math.floor(scaled), PALETTE.length - 2);
  const w = scaled - i;
  return PALETTE[i].map((c, k) => Math.round(c + (PALETTE[i + 1][k] - c) * w));
}

/** A canvas sized to its box in CSS pixels, drawn at the device's resolution. */
export function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth));
  const height = Math.max(1, Math.round(canvas.clientHeight));
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return {context, width, height};
}

/** Ticks at round values between lo and hi, about count of them. */
export function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) {
    return [lo];
  }
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

export class SurfacePlot {
  constructor(canvas) {
    this.canvas = canvas;
    this.background = document.createElement('canvas');
    this.objective = null;
    this.size = {width: 0, height: 0};
    /** What draw() drew last, in the canvas's CSS pixels: for the page's snapshot(). */
    this.drawn = [];
  }

  /** The plot area inside the margins, in CSS pixels. */
  area() {
    return {x: MARGIN.left, y: MARGIN.top, width: this.size.width - MARGIN.left - MARGIN.right,
      height: this.size.height - MARGIN.top - MARGIN.bottom};
  }

  toPixel([x, y]) {
    const {xMin, xMax, yMin, yMax} = this.objective.view;
    const a = this.area();
    return [a.x + (x - xMin) / (xMax - xMin) * a.width, a.y + (yMax - y) / (yMax - yMin) * a.height];
  }

  /** The point under a pixel, or null outside the plot area. */
  toPoint(px, py) {
    const a = this.area();
    if (px < a.x || px > a.x + a.width || py < a.y || py > a.y + a.height) {
      return null;
    }
    const {xMin, xMax, yMin, yMax} = this.objective.view;
    return [xMin + (px - a.x) / a.width * (xMax - xMin), yMax - (py - a.y) / a.height * (yMax - yMin)];
  }

  setObjective(objective) {
    this.objective = objective;
    this.renderBackground();
  }

  /** The colours, contour lines, axes and minima: drawn once per objective and size, then copied each frame. */
  renderBackground() {
    if (!this.objective) {
      return;
    }
    const {width, height} = fitCanvas(this.canvas);
    this.size = {width, height};
    const ratio = window.devicePixelRatio || 1;
    this.background.width = this.canvas.width;
    this.background.height = this.canvas.height;
    const context = this.background.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, height);
    const a = this.area();
    const {f, view} = this.objective;

    // log10 f on a grid of cells of 2 CSS pixels
    const columns = Math.max(2, Math.ceil(a.width / 2));
    const rows = Math.max(2, Math.ceil(a.height / 2));
    const z = new Float64Array((columns + 1) * (rows + 1));
    let zMax = -Infinity;
    for (let j = 0; j <= rows; j++) {
      const y = view.yMax - j / rows * (view.yMax - view.yMin);
      for (let i = 0; i <= columns; i++) {
        const x = view.xMin + i / columns * (view.xMax - view.xMin);
        const value = Math.log10(Math.max(f(x, y), 1e-300));
        z[j * (columns + 1) + i] = value;
        zMax = Math.max(zMax, value);
      }
    }
    const zMin = zMax - DECADES;

    const image = context.createImageData(columns, rows);
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < columns; i++) {
        const value = z[j * (columns + 1) + i];
        const [r, g, b] = paletteColor((value - zMin) / (zMax - zMin));
        const k = 4 * (j * columns + i);
        image.data[k] = r;
        image.data[k + 1] = g;
        image.data[k + 2] = b;
        image.data[k + 3] = 255;
      }
    }
    const cells = document.createElement('canvas');
    cells.width = columns;
    cells.height = rows;
    cells.getContext('2d').putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(cells, a.x, a.y, a.width, a.height);

    // contour lines every half decade
    context.save();
    context.beginPath();
    context.rect(a.x, a.y, a.width, a.height);
    context.clip();
    context.strokeStyle = 'rgba(8, 48, 107, 0.35)';
    context.lineWidth = 1;
    context.beginPath();
    const cellWidth = a.width / columns;
    const cellHeight = a.height / rows;
    for (let level = Math.ceil(zMin * 2) / 2; level < zMax; level += 0.5) {
      for (let j = 0; j < rows; j++) {
        for (let i = 0; i < columns; i++) {
          this.contourCell(context, z, columns, i, j, level, a.x + i * cellWidth, a.y + j * cellHeight,
            cellWidth, cellHeight);
        }
      }
    }
    context.stroke();
    context.restore();

    // axes
    context.strokeStyle = '#556';
    context.strokeRect(a.x, a.y, a.width, a.height);
    context.fillStyle = '#334';
    context.font = '12px system-ui, sans-serif';
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (const x of niceTicks(view.xMin, view.xMax, 8)) {
      const [px] = this.toPixel([x, view.yMin]);
      context.fillRect(px, a.y + a.height, 1, 4);
      context.fillText(String(x), px, a.y + a.height + 6);
    }
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    for (const y of niceTicks(view.yMin, view.yMax, 8)) {
      const [, py] = this.toPixel([view.xMin, y]);
      context.fillRect(a.x - 4, py, 4, 1);
      context.fillText(String(y), a.x - 7, py);
    }
  }

  /** Marching squares: the segment(s) of one contour level through one grid cell. */
  contourCell(context, z, columns, i, j, level, x, y, w, h) {
    const stride = columns + 1;
    const tl = z[j * stride + i];
    const tr = z[j * stride + i + 1];
    const br = z[(j + 1) * stride + i + 1];
    const bl = z[(j + 1) * stride + i];
    const index = (tl > level ? 8 : 0) | (tr > level ? 4 : 0) | (br > level ? 2 : 0) | (bl > level ? 1 : 0);
    if (index === 0 || index === 15) {
      return;
    }
    const at = (a, b) => (level - a) / (b - a);
    const top = [x + w * at(tl, tr), y];
    const right = [x + w, y + h * at(tr, br)];
    const bottom = [x + w * at(bl, br), y + h];
    const left = [x, y + h * at(tl, bl)];
    const segment = (p, q) => {
      context.moveTo(p[0], p[1]);
      context.lineTo(q[0], q[1]);
    };
    switch (index) {
      case 1: case 14: segment(left, bottom); break;
      case 2: case 13: segment(bottom, right); break;
      case 3: case 12: segment(left, right); break;
      case 4: case 11: segment(top, right); break;
      case 5: segment(left, top); segment(bottom, right); break;
      case 6: case 9: segment(top, bottom); break;
      case 7: case 8: segment(left, top); break;
      case 10: segment(left, bottom); segment(top, right); break;
      default: break;
    }
  }

  /** A disc of radius 5 at (px, py), filled and outlined. */
  disc(context, px, py, fill, outline, lineWidth) {
    context.fillStyle = fill;
    context.strokeStyle = outline;
    context.lineWidth = lineWidth;
    context.beginPath();
    context.arc(px, py, 5, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
  }

  cross(context, px, py, r) {
    context.beginPath();
    context.moveTo(px - r, py - r);
    context.lineTo(px + r, py + r);
    context.moveTo(px - r, py + r);
    context.lineTo(px + r, py - r);
    context.stroke();
  }

  /**
   * The background, the start point and each path ({color, points: [[x, y], ...], selected}) with its current
   * point. Points outside the view are drawn where they are (clipped to the plot area).
   */
  draw(start, paths) {
    if (!this.objective) {
      return;
    }
    if (this.canvas.clientWidth !== this.size.width || this.canvas.clientHeight !== this.size.height) {
      this.renderBackground();
    }
    const {context} = fitCanvas(this.canvas);
    context.save();
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.drawImage(this.background, 0, 0);
    context.restore();
    const a = this.area();
    context.save();
    context.beginPath();
    context.rect(a.x, a.y, a.width, a.height);
    context.clip();
    context.lineJoin = 'round';
    context.lineCap = 'round';
    this.drawn = paths.map((path) => ({color: path.color, pixels: path.points.map((point) => this.toPixel(point))}));
    // the selected path last, on top of the others
    const order = paths.map((path, k) => k).sort((a, b) => Number(paths[a].selected) - Number(paths[b].selected));
    for (const k of order) {
      const path = paths[k];
      const {pixels} = this.drawn[k];
      if (pixels.length > 1) {
        context.strokeStyle = path.color;
        context.lineWidth = path.selected ? 3 : 2;
        context.beginPath();
        context.moveTo(pixels[0][0], pixels[0][1]);
        for (let k = 1; k < pixels.length; k++) {
          context.lineTo(pixels[k][0], pixels[k][1]);
        }
        context.stroke();
      }
    }
    for (const {color, pixels} of this.drawn) {
      if (pixels.length > 1) {
        const [px, py] = pixels[pixels.length - 1];
        this.disc(context, px, py, color, '#fff', 1.5);
      }
    }
    for (const minimum of this.objective.minima) {
      const [px, py] = this.toPixel(minimum);
      context.strokeStyle = '#000';
      context.lineWidth = 3;
      this.cross(context, px, py, 5);
      context.strokeStyle = '#fff';
      context.lineWidth = 1.5;
      this.cross(context, px, py, 5);
    }
    const [sx, sy] = this.toPixel(start);
    this.disc(context, sx, sy, '#fff', '#000', 2);
    context.restore();
  }
}
