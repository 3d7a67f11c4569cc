import type { AlarmState, Comparison, TreatMissingData } from '../../src/alarms/types.ts';

/** `keep` = the alarm keeps whatever state it had (treatMissingData: ignore). */
export type Expected = AlarmState | 'keep';

export interface Vector {
  id: string;
  n: number;
  m: number;
  /** Oldest → newest: X breaching, 0 not breaching, - missing (threshold semantics below). */
  data: string;
  expect: Record<TreatMissingData, Expected>;
}

const all = (state: AlarmState): Record<TreatMissingData, Expected> => ({ missing: state, ignore: state, breaching: state, notBreaching: state });

/**
 * aws-semantics.md §4 vectors (C1, C3–C7 from the CloudWatch docs' tables), plus the remaining rows
 * of those tables (D*) for completeness.
 */
export const VECTORS: Vector[] = [
  { id: 'C1', n: 3, m: 3, data: '0 - X - X', expect: all('OK') },
  { id: 'C3', n: 3, m: 3, data: '- - - - -', expect: { missing: 'INSUFFICIENT_DATA', ignore: 'keep', breaching: 'ALARM', notBreaching: 'OK' } },
  { id: 'C4', n: 3, m: 3, data: '0 X X - X', expect: all('ALARM') },
  { id: 'C5', n: 3, m: 3, data: '- - X - -', expect: { missing: 'ALARM', ignore: 'keep', breaching: 'ALARM', notBreaching: 'OK' } },
  { id: 'C6', n: 3, m: 2, data: '0 0 X 0 X', expect: all('ALARM') },
  { id: 'C7', n: 3, m: 2, data: '0 - X - -', expect: { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' } },
  { id: 'D1 (3/3 row 2)', n: 3, m: 3, data: '0 - - - -', expect: all('OK') },
  { id: 'D2 (2/3 row 1)', n: 3, m: 2, data: '0 - X - X', expect: all('ALARM') },
  { id: 'D3 (2/3 row 4)', n: 3, m: 2, data: '- - - - 0', expect: { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' } },
  { id: 'D4 (2/3 row 5)', n: 3, m: 2, data: '- - - X -', expect: { missing: 'ALARM', ignore: 'keep', breaching: 'ALARM', notBreaching: 'OK' } },
  // The docs' "not yet": one fresh breaching point is not enough for 3 of 3.
  { id: 'D5 (- - - - X)', n: 3, m: 3, data: '- - - - X', expect: { missing: 'OK', ignore: 'keep', breaching: 'ALARM', notBreaching: 'OK' } },
];

/** X → 100, 0 → 1 against GreaterThanThreshold 50. */
export const VECTOR_COMPARISON: Comparison = 'GreaterThanThreshold';
export const VECTOR_THRESHOLD = 50;

export function points(data: string): Array<number | null> {
  return data.split(/\s+/).map((c) => (c === 'X' ? 100 : c === '0' ? 1 : null));
}

export const MODES: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
export const STATES: AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];
