/**
 * How well a detector agrees with imported labels, turn by turn: precision, recall, F1 and Cohen's
 * kappa for "is it SAT?", "is it DSAT?" and each category, and the 4×4 polarity confusion matrix
 * (rows: labels, columns: detector) with its kappa.
 *
 * Cohen's kappa κ = (p_o − p_e) / (1 − p_e), with p_o the observed agreement and p_e the agreement
 * expected by chance from the two raters' marginals; null when p_e = 1 (both raters constant).
 */
import {
  CATEGORIES,
  Polarity,
  type BinaryAgreement,
  type DetectorAgreement,
  type DetectorName,
  type Signal,
} from '../../api/index.js';
import { hasDsat, hasSat } from './categories.js';

const POLARITIES = Polarity.options;

const ratio = (numerator: number, denominator: number): number | null =>
  denominator === 0 ? null : numerator / denominator;

/** Cohen's kappa of a square confusion matrix (rows: one rater, columns: the other). */
export function cohenKappa(matrix: readonly (readonly number[])[]): number | null {
  const size = matrix.length;
  let total = 0;
  let agreed = 0;
  const rows = new Array<number>(size).fill(0);
  const columns = new Array<number>(size).fill(0);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const count = matrix[row]?.[column] ?? 0;
      total += count;
      rows[row] = (rows[row] ?? 0) + count;
      columns[column] = (columns[column] ?? 0) + count;
      if (row === column) agreed += count;
    }
  }
  if (total === 0) return null;
  const observed = agreed / total;
  let expected = 0;
  for (let index = 0; index < size; index++) expected += ((rows[index] ?? 0) / total) * ((columns[index] ?? 0) / total);
  if (1 - expected <= 1e-12) return null;
  return (observed - expected) / (1 - expected);
}

/** Precision, recall, F1 and kappa from the four counts of a binary comparison. */
export function binaryAgreement(
  truePositives: number,
  falsePositives: number,
  falseNegatives: number,
  trueNegatives: number,
): BinaryAgreement {
  const precision = ratio(truePositives, truePositives + falsePositives);
  const recall = ratio(truePositives, truePositives + falseNegatives);
  const f1 =
    precision === null || recall === null
      ? null
      : precision + recall === 0
        ? 0
        : (2 * precision * recall) / (precision + recall);
  return {
    support: truePositives + falsePositives + falseNegatives + trueNegatives,
    truePositives,
    falsePositives,
    falseNegatives,
    trueNegatives,
    precision,
    recall,
    f1,
    // Rows: truth (positive, negative); columns: prediction (positive, negative).
    kappa: cohenKappa([
      [truePositives, falseNegatives],
      [falsePositives, trueNegatives],
    ]),
  };
}

class BinaryCounter {
  tp = 0;
  fp = 0;
  fn = 0;
  tn = 0;
  add(truth: boolean, predicted: boolean): void {
    if (truth && predicted) this.tp++;
    else if (predicted) this.fp++;
    else if (truth) this.fn++;
    else this.tn++;
  }
  result(): BinaryAgreement {
    return binaryAgreement(this.tp, this.fp, this.fn, this.tn);
  }
}

/** Accumulates one detector's agreement with the labels over a stream of turns. */
export class AgreementCounter {
  readonly detector: DetectorName;
  #turns = 0;
  #categorised = 0;
  readonly #sat = new BinaryCounter();
  readonly #dsat = new BinaryCounter();
  readonly #categories = new Map(CATEGORIES.map((category) => [category, new BinaryCounter()]));
  readonly #matrix = POLARITIES.map(() => POLARITIES.map(() => 0));

  constructor(detector: DetectorName) {
    this.detector = detector;
  }

  /** One labelled turn; `predicted` undefined means the detector did not judge it (neither). */
  add(label: Signal, predicted: Signal | undefined): void {
    const polarity = predicted?.polarity ?? 'neither';
    this.#turns++;
    this.#sat.add(hasSat(label.polarity), hasSat(polarity));
    this.#dsat.add(hasDsat(label.polarity), hasDsat(polarity));
    const row = this.#matrix[POLARITIES.indexOf(label.polarity)];
    if (row) row[POLARITIES.indexOf(polarity)] = (row[POLARITIES.indexOf(polarity)] ?? 0) + 1;
    if (label.categories.length > 0) {
      this.#categorised++;
      const named = new Set(predicted?.categories ?? []);
      const truth = new Set(label.categories);
      for (const [category, counter] of this.#categories) counter.add(truth.has(category), named.has(category));
    }
  }

  get turns(): number {
    return this.#turns;
  }

  result(): DetectorAgreement {
    const diagonal = this.#matrix.reduce((sum, row, index) => sum + (row[index] ?? 0), 0);
    return {
      detector: this.detector,
      turns: this.#turns,
      categorisedTurns: this.#categorised,
      polarity: { sat: this.#sat.result(), dsat: this.#dsat.result() },
      categories:
        this.#categorised === 0
          ? {}
          : Object.fromEntries([...this.#categories].map(([category, counter]) => [category, counter.result()])),
      confusion: { labels: [...POLARITIES], matrix: this.#matrix.map((row) => [...row]) },
      kappa: cohenKappa(this.#matrix),
      accuracy: ratio(diagonal, this.#turns),
    };
  }
}
