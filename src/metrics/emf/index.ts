/** CloudWatch Embedded Metric Format output (`metrics.emf` in the config). */
export { createEmfWriter, withEmf, type EmfWriter, type EmfWriterOptions } from './writer.ts';
export { emfDocument, EMF_UNITS, type EmfDocument, type EmfMetricDefinition, type EmfUnit } from './record.ts';
