import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { time } from './format.ts';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color: string;
  dash?: number[];
  /** Sparse data (an alarm's datapoints): a dot per value, joined across missing periods. */
  sparse?: boolean;
}

export interface ChartBand {
  from: number;
  to: number;
  state: string;
}

export interface ChartProps {
  /** Names the chart for tests and links (`data-chart`). */
  id: string;
  title: string;
  /** Epoch ms of each point. */
  times: number[];
  series: ChartSeries[];
  /** State history drawn behind the series, like the CloudWatch console's alarm bands. */
  bands?: ChartBand[];
  format: (value: number) => string;
  height?: number;
  /** The time span to show (epoch ms); default the first to the last point. Bands may reach past the last point. */
  span?: [number, number];
}

export const BAND_COLORS: Record<string, string> = {
  OK: 'rgba(22, 163, 74, 0.12)',
  ALARM: 'rgba(220, 38, 38, 0.18)',
  INSUFFICIENT_DATA: 'rgba(107, 114, 128, 0.16)',
  closed: 'rgba(22, 163, 74, 0.12)',
  open: 'rgba(220, 38, 38, 0.18)',
  halfOpen: 'rgba(217, 119, 6, 0.18)',
};

/** The chart library is loaded the first time a chart is drawn: views without charts never fetch it. */
let library: Promise<typeof uPlot> | undefined;
const loadLibrary = () => (library ??= import('uplot').then((m) => m.default));

function drawBands(u: uPlot, bands: readonly ChartBand[]): void {
  const { ctx } = u;
  const { top, height, left, width } = u.bbox;
  ctx.save();
  for (const band of bands) {
    const x0 = Math.max(left, u.valToPos(band.from / 1000, 'x', true));
    const x1 = Math.min(left + width, u.valToPos(band.to / 1000, 'x', true));
    if (x1 <= x0) continue;
    ctx.fillStyle = BAND_COLORS[band.state] ?? 'rgba(0,0,0,0.05)';
    ctx.fillRect(x0, top, x1 - x0, height);
  }
  ctx.restore();
}

/**
 * A time-series chart (uPlot on a canvas) with its numbers in a table beside it: the table is what a
 * screen reader (and a test) reads.
 */
export function Chart({ id, title, times, series, bands, format, height = 220, span }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const [failed, setFailed] = useState<string>();

  useEffect(() => {
    let cancelled = false;
    let observer: ResizeObserver | undefined;
    loadLibrary().then(
      (UPlot) => {
        if (cancelled || !box.current) return;
        const el = box.current;
        const options: uPlot.Options = {
          width: Math.max(300, el.clientWidth),
          height,
          series: [
            { value: (_u, v) => (v == null ? '—' : time(v * 1000)) },
            ...series.map((s) => ({
              label: s.label,
              stroke: s.color,
              width: 2,
              dash: s.dash,
              spanGaps: s.sparse === true,
              points: s.sparse ? { show: true, size: 7, fill: s.color } : { show: false },
              value: (_u: uPlot, v: number | null) => (v == null ? '—' : format(v)),
            })),
          ],
          scales: {
            x: { time: true, ...(span && { range: (): uPlot.Range.MinMax => [span[0] / 1000, span[1] / 1000] }) },
            y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max && max > 0 ? max * 1.12 : 1] },
          },
          axes: [
            { stroke: '#374151', grid: { stroke: '#e5e7eb', width: 1 }, ticks: { stroke: '#d1d5db', width: 1 } },
            {
              stroke: '#374151',
              size: 72,
              values: (_u, splits) => splits.map((v) => format(v)),
              grid: { stroke: '#e5e7eb', width: 1 },
              ticks: { stroke: '#d1d5db', width: 1 },
            },
          ],
          cursor: { drag: { x: false, y: false } },
          hooks: bands?.length ? { drawClear: [(u) => drawBands(u, bands)] } : {},
        };
        const data: uPlot.AlignedData = [times.map((t) => t / 1000), ...series.map((s) => s.values)];
        plot.current?.destroy();
        plot.current = new UPlot(options, data, el);
        observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(300, el.clientWidth), height }));
        observer.observe(el);
      },
      (error: Error) => setFailed(error.message),
    );
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [JSON.stringify([times, series, bands, span])]);

  const last = series.map((s) => `${s.label} ${format([...s.values].reverse().find((v) => v !== null) ?? 0)}`).join(', ');
  return (
    <figure class="chart" data-chart={id}>
      <figcaption>{title}</figcaption>
      {failed ? (
        <p class="error">The chart could not be drawn: {failed}</p>
      ) : (
        <div class="plot" ref={box} role="img" aria-label={`${title}. Latest: ${last}`} />
      )}
      {bands && bands.length > 0 && (
        <ul class="band-legend" aria-label="State history">
          {[...new Set(bands.map((b) => b.state))].map((state) => (
            <li key={state}>
              <span class={`swatch swatch-${state}`} aria-hidden="true" /> {state}
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>Data ({times.length} points)</summary>
        <div class="table-wrap" tabIndex={0}>
          <table class="data" data-chart-table={id}>
            <thead>
              <tr>
                <th scope="col">Time</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {times.map((t, i) => (
                <tr key={t}>
                  <td>{time(t)}</td>
                  {series.map((s) => (
                    <td key={s.label} data-value={s.values[i] ?? ''}>
                      {s.values[i] === null || s.values[i] === undefined ? '—' : format(s.values[i]!)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** Distinct, readable series colours. */
export const PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4b5563'];
