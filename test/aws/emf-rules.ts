/**
 * The published CloudWatch Embedded Metric Format structure (AWS CloudWatch User Guide,
 * "Specification: Embedded metric format", and its JSON Schema), checked rule by rule. Returns every
 * violation; an empty list means the document is valid EMF.
 */
const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 255;

export function emfViolations(line: string): string[] {
  const problems: string[] = [];
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return ['the line is not one JSON value'];
  }
  // The LogEvent message must be a JSON object with nothing before or after it (JSON.parse rejects extra data).
  if (!isObject(root)) return ['the root is not a JSON object'];
  const aws = root._aws;
  if (!isObject(aws)) return [...problems, '_aws is missing or not an object'];
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 0) problems.push('_aws.Timestamp must be an integer of milliseconds since the epoch');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives)) return [...problems, '_aws.CloudWatchMetrics must be an array'];
  directives.forEach((d: unknown, i) => {
    const at = `CloudWatchMetrics[${i}]`;
    if (!isObject(d)) return problems.push(`${at} is not an object`);
    if (!isName(d.Namespace)) problems.push(`${at}.Namespace must be a string of 1-255 characters`);
    if (!Array.isArray(d.Dimensions) || d.Dimensions.length < 1) problems.push(`${at}.Dimensions must be a non-empty array of dimension sets`);
    else {
      d.Dimensions.forEach((set: unknown, j) => {
        if (!Array.isArray(set)) return problems.push(`${at}.Dimensions[${j}] is not an array`);
        if (set.length > 30) problems.push(`${at}.Dimensions[${j}] has more than 30 dimension keys`);
        for (const key of set) {
          if (!isName(key)) problems.push(`${at}.Dimensions[${j}] has a key that is not a 1-255 character string`);
          else if (typeof root[key] !== 'string') problems.push(`dimension "${key}" must be a string member of the root`);
        }
      });
    }
    if (!Array.isArray(d.Metrics)) return problems.push(`${at}.Metrics must be an array`);
    if (d.Metrics.length > 100) problems.push(`${at}.Metrics has more than 100 metric definitions`);
    d.Metrics.forEach((m: unknown, k) => {
      if (!isObject(m) || !isName(m.Name)) return problems.push(`${at}.Metrics[${k}].Name must be a string of 1-255 characters`);
      if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) problems.push(`${at}.Metrics[${k}].Unit "${String(m.Unit)}" is not a CloudWatch unit`);
      const target = root[m.Name as string];
      const numeric = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
      if (Array.isArray(target)) {
        if (target.length > 100) problems.push(`metric "${m.Name}" has more than 100 values`);
        if (!target.every(numeric)) problems.push(`metric "${m.Name}" has a value that is not a number`);
      } else if (!numeric(target)) problems.push(`metric "${m.Name}" must be a number or an array of numbers on the root`);
    });
  });
  return problems;
}
