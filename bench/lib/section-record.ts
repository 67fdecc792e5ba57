// What the orchestrator (run.ts) keeps of one section's run, and what the report and the chart
// read: its own module so that neither has to import the orchestrator.
import type { SectionOutput } from './context.js';

export interface SectionRecord {
  readonly name: string;
  readonly title: string;
  readonly durationMs: number;
  /** When the section ran (ISO). */
  readonly date?: string;
  readonly output?: SectionOutput;
  readonly error?: string;
}
