// The training curve as a small inline SVG: training loss (left axis) and validation RMSE (right axis) by epoch.
// No library: two linear scales, "nice" ticks, two polylines and a point per epoch with a tooltip.

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Most epochs drawn with a dot each. */
const MAX_DOTS = 40;

/**
 * @param {string} name
 * @param {Record<string, string | number>} [attributes]
 * @param {string} [text]
 */
function svg(name, attributes = {}, text) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * Tick values at a "nice" step of 1, 2 or 5 × 10^k covering [min, max] with about `count` ticks (Heckbert 1990,
 * "Nice numbers for graph labels", Graphics Gems).
 * @param {number} min
 * @param {number} max
 * @param {number} count
 */
export function niceTicks(min, max, count) {
  const range = max - min;
  if (!(range > 0)) return [min];
  const rough = range / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  const step = (residual >= 5 ? 10 : residual >= 2 ? 5 : residual >= 1 ? 2 : 1) * magnitude;
  const ticks = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) {
    ticks.push(Math.round(value / step) * step);
  }
  return ticks;
}

/**
 * Domain [min, max] of the values, padded by 8 % of the range on each side (or ±5 % of the value if flat).
 * @param {number[]} values
 */
function paddedDomain(values) {
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (max === min) {
    const pad = Math.abs(min) * 0.05 || 1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.08;
  min -= pad;
  max += pad;
  return [min, max];
}

/** @param {number} value */
function label(value) {
  const magnitude = Math.abs(value);
  return magnitude >= 100
    ? value.toFixed(0)
    : magnitude >= 10
      ? value.toFixed(1)
      : value.toFixed(magnitude >= 1 ? 2 : 3);
}

/**
 * @param {{ epoch: number, loss: number, validationRmse?: number | null }[]} epochs
 * @param {{ id: string }} options an id prefix for the SVG's title/description (must be unique on the page)
 * @returns {SVGSVGElement}
 */
export function trainingCurve(epochs, { id }) {
  const width = 480;
  const height = 220;
  const margin = { top: 26, right: 50, bottom: 38, left: 50 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const sorted = [...epochs].sort((a, b) => a.epoch - b.epoch);
  const lossPoints = sorted.filter((e) => Number.isFinite(e.loss));
  const rmsePoints = sorted.filter(
    (e) => typeof e.validationRmse === 'number' && Number.isFinite(e.validationRmse),
  );

  const root = /** @type {SVGSVGElement} */ (
    svg('svg', {
      viewBox: `0 0 ${width} ${height}`,
      class: 'chart',
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
    })
  );
  root.append(svg('title', { id: `${id}-title` }, 'Training curve: loss and validation RMSE by epoch'));
  const description = svg('desc', { id: `${id}-desc` });
  root.append(description);
  if (sorted.length === 0) {
    description.textContent = 'No epochs were recorded for this training run.';
    root.append(
      svg(
        'text',
        { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-empty' },
        'no epochs recorded',
      ),
    );
    return root;
  }

  const firstEpoch = sorted[0].epoch;
  const lastEpoch = sorted[sorted.length - 1].epoch;
  // x(e) = left + (e − first) / (last − first) · plotWidth; a single epoch sits in the middle.
  const x = (epoch) =>
    margin.left +
    (lastEpoch === firstEpoch
      ? plotWidth / 2
      : ((epoch - firstEpoch) / (lastEpoch - firstEpoch)) * plotWidth);
  const lossDomain = paddedDomain(lossPoints.map((e) => e.loss));
  const rmseDomain =
    rmsePoints.length > 0
      ? paddedDomain(rmsePoints.map((e) => /** @type {number} */ (e.validationRmse)))
      : [0, 1];
  // y(v) = top + (1 − (v − min) / (max − min)) · plotHeight, one scale per axis.
  const yScale = (domain) => (value) =>
    margin.top + (1 - (value - domain[0]) / (domain[1] - domain[0])) * plotHeight;
  const yLoss = yScale(lossDomain);
  const yRmse = yScale(rmseDomain);

  const axes = svg('g', { class: 'chart-axes' });
  for (const tick of niceTicks(lossDomain[0], lossDomain[1], 5)) {
    const y = yLoss(tick);
    axes.append(
      svg('line', { x1: margin.left, x2: width - margin.right, y1: y, y2: y, class: 'chart-grid' }),
    );
    axes.append(
      svg(
        'text',
        { x: margin.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-tick loss' },
        label(tick),
      ),
    );
  }
  if (rmsePoints.length > 0) {
    for (const tick of niceTicks(rmseDomain[0], rmseDomain[1], 5)) {
      const y = yRmse(tick);
      axes.append(
        svg('text', { x: width - margin.right + 6, y: y + 4, class: 'chart-tick rmse' }, label(tick)),
      );
    }
  }
  const epochStep = Math.max(1, Math.ceil((lastEpoch - firstEpoch + 1) / 8));
  const epochLabels = [];
  for (let epoch = firstEpoch; epoch <= lastEpoch; epoch += epochStep) epochLabels.push(epoch);
  // The last epoch gets a label too, unless it would crowd the previous one.
  const lastLabel = epochLabels[epochLabels.length - 1];
  if (lastLabel !== lastEpoch) {
    if (lastEpoch - lastLabel < epochStep / 2) epochLabels.pop();
    epochLabels.push(lastEpoch);
  }
  for (const epoch of epochLabels) {
    axes.append(
      svg(
        'text',
        { x: x(epoch), y: height - margin.bottom + 16, 'text-anchor': 'middle', class: 'chart-tick' },
        String(epoch),
      ),
    );
  }
  axes.append(
    svg('line', {
      x1: margin.left,
      x2: width - margin.right,
      y1: height - margin.bottom,
      y2: height - margin.bottom,
      class: 'chart-axis',
    }),
  );
  axes.append(
    svg(
      'text',
      { x: margin.left + plotWidth / 2, y: height - 6, 'text-anchor': 'middle', class: 'chart-label' },
      'epoch',
    ),
  );
  // Axis names above each axis (horizontal, so they stay readable when the chart is scaled down on a phone).
  axes.append(svg('text', { x: 2, y: 13, class: 'chart-label loss' }, 'loss'));
  if (rmsePoints.length > 0) {
    axes.append(
      svg(
        'text',
        { x: width - 2, y: 13, 'text-anchor': 'end', class: 'chart-label rmse' },
        'validation RMSE',
      ),
    );
  }
  root.append(axes);

  /**
   * @param {{ epoch: number }[]} points
   * @param {(e: any) => number} value
   * @param {(v: number) => number} y
   * @param {string} name
   * @param {string} className
   */
  const series = (points, value, y, name, className) => {
    const group = svg('g', { class: `chart-series ${className}` });
    group.append(
      svg('polyline', {
        points: points.map((e) => `${x(e.epoch).toFixed(1)},${y(value(e)).toFixed(1)}`).join(' '),
      }),
    );
    // A dot (with its value as a tooltip) per epoch while they stay apart; long runs (e.g. 120 Gibbs sweeps) are
    // drawn as the line alone, their numbers are in the epochs table.
    const dots = points.length <= MAX_DOTS ? points : [];
    for (const e of dots) {
      const dot = svg('circle', { cx: x(e.epoch).toFixed(1), cy: y(value(e)).toFixed(1), r: 3 });
      dot.append(svg('title', {}, `epoch ${e.epoch}: ${name} ${value(e).toFixed(4)}`));
      group.append(dot);
    }
    root.append(group);
  };
  series(lossPoints, (e) => e.loss, yLoss, 'loss', 'loss');
  let summary = `${lossPoints.length} epochs. Loss went from ${label(lossPoints[0]?.loss ?? Number.NaN)} at epoch ${firstEpoch} to ${label(lossPoints[lossPoints.length - 1]?.loss ?? Number.NaN)} at epoch ${lastEpoch}.`;
  if (rmsePoints.length > 0) {
    series(rmsePoints, (e) => e.validationRmse, yRmse, 'validation RMSE', 'rmse');
    const best = rmsePoints.reduce((a, b) => (b.validationRmse < a.validationRmse ? b : a));
    root.append(
      svg('circle', { cx: x(best.epoch), cy: yRmse(best.validationRmse), r: 6, class: 'chart-best' }),
    );
    summary += ` Validation RMSE went from ${label(rmsePoints[0].validationRmse)} to ${label(rmsePoints[rmsePoints.length - 1].validationRmse)}, best ${label(best.validationRmse)} at epoch ${best.epoch}.`;
  } else {
    summary += ' No validation RMSE was recorded.';
  }
  description.textContent = summary;
  return root;
}
