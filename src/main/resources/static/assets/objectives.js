// The surfaces: each a function of (x, y) with its gradient, written out by hand, the part of the plane shown, its
// minima (all with f = 0, so that the loss plots on a log scale) and a start point that shows something.

const THETA = Math.PI / 6;
const COS = Math.cos(THETA);
const SIN = Math.sin(THETA);
const CONDITION = 50;

export const OBJECTIVES = {
  rosenbrock: {
    name: 'Rosenbrock',
    formula: 'f(x, y) = (1 − x)² + 100 (y − x²)²',
    f: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    gradient: (x, y) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
    view: {xMin: -2, xMax: 2, yMin: -1, yMax: 3},
    minima: [[1, 1]],
    start: [-1.5, 2],
  },
  beale: {
    name: 'Beale',
    formula: 'f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²',
    f: (x, y) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2,
    gradient: (x, y) => {
      const a = 1.5 - x + x * y;
      const b = 2.25 - x + x * y * y;
      const c = 2.625 - x + x * y ** 3;
      return [2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1),
        2 * a * x + 4 * b * x * y + 6 * c * x * y * y];
    },
    view: {xMin: -4.5, xMax: 4.5, yMin: -4.5, yMax: 4.5},
    minima: [[3, 0.5]],
    start: [1, 1.5],
  },
  himmelblau: {
    name: 'Himmelblau',
    formula: 'f(x, y) = (x² + y − 11)² + (x + y² − 7)²',
    f: (x, y) => (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
    gradient: (x, y) => [4 * x * (x * x + y - 11) + 2 * (x + y * y - 7),
      2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)],
    view: {xMin: -5, xMax: 5, yMin: -5, yMax: 5},
    minima: [[3, 2], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]],
    start: [-0.5, -0.5],
  },
  saddle: {
    name: 'Saddle',
    formula: 'f(x, y) = x² + (y² − 1)² / 4: a saddle at (0, 0), minima at (0, ±1)',
    f: (x, y) => x * x + (y * y - 1) ** 2 / 4,
    gradient: (x, y) => [2 * x, y * (y * y - 1)],
    view: {xMin: -2, xMax: 2, yMin: -2, yMax: 2},
    minima: [[0, 1], [0, -1]],
    start: [-1.8, 0.01],
  },
  quadratic: {
    name: 'Ill-conditioned quadratic',
    formula: `f(x, y) = (u² + ${CONDITION} w²) / 2, (u, w) = (x, y) turned by 30°: condition number ${CONDITION}`,
    f: (x, y) => {
      const u = x * COS + y * SIN;
      const w = -x * SIN + y * COS;
      return (u * u + CONDITION * w * w) / 2;
    },
    gradient: (x, y) => {
      const u = x * COS + y * SIN;
      const w = -x * SIN + y * COS;
      return [u * COS - CONDITION * w * SIN, u * SIN + CONDITION * w * COS];
    },
    view: {xMin: -3, xMax: 3, yMin: -3, yMax: 3},
    minima: [[0, 0]],
    start: [-2.5, 2],
  },
};
