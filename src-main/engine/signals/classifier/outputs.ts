/**
 * The classifier's outputs, in order: SAT, DSAT, then the rubric categories. Kept apart from
 * model.ts (which needs tfjs) so that reading or checking a saved classifier loads no tfjs: the
 * CLI's host reaches store.ts and should stay light.
 */
import { CATEGORIES } from '../../../api/index.js';

export const OUTPUTS = ['sat', 'dsat', ...CATEGORIES] as const;
export const OUTPUT_COUNT = OUTPUTS.length;
export const SAT_OUTPUT = 0;
export const DSAT_OUTPUT = 1;
export const CATEGORY_OFFSET = 2;
