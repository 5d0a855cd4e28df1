/**
 * L2-regularized logistic regression fitted by Newton's method (iteratively reweighted least
 * squares), in plain TypeScript.
 *
 * Why not a kept library: `ml-logistic-regression` 2.0 (the obvious candidate for the Workers
 * runtime) fits by plain gradient descent with no regularization term and exposes no class
 * probability for a two-class model through its public API, and both are needed here (a penalty
 * keeps coefficients finite on small or separable histories; probabilities are the product). With
 * about 14 features the Newton step is a d×d solve (Cholesky), so the whole fit is a few dozen
 * lines, converges in a handful of iterations and is checked against closed-form cases in tests.
 *
 * Objective: minimize −Σ log-likelihood + (λ/2)·Σ βⱼ² over the coefficients βⱼ; the intercept is
 * not penalized.
 */

/** A fitted model on the design matrix's own scale. */
export interface LogisticFit {
  intercept: number;
  coefficients: number[];
  iterations: number;
  converged: boolean;
}

/** Options of {@link fitLogistic}. */
export interface FitOptions {
  /** L2 penalty λ on the coefficients (not the intercept). */
  lambda: number;
  maxIterations?: number;
  /** Stop when no parameter moves by more than this in one step. */
  tolerance?: number;
}

/** The logistic function, numerically safe for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** P(y = 1) for one row of features. */
export function predictProbability(
  fit: Pick<LogisticFit, "intercept" | "coefficients">,
  row: readonly number[],
): number {
  let z = fit.intercept;
  for (let j = 0; j < fit.coefficients.length; j++) z += (fit.coefficients[j] ?? 0) * (row[j] ?? 0);
  return sigmoid(z);
}

/**
 * Fits P(y = 1 | x) = σ(β₀ + Σ βⱼ xⱼ) by Newton–Raphson on the penalized log-likelihood.
 * `rows` are the feature vectors (already standardized by the caller), `labels` 0 or 1.
 */
export function fitLogistic(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  options: FitOptions,
): LogisticFit {
  if (rows.length !== labels.length) throw new Error("rows and labels differ in length");
  if (rows.length === 0) throw new Error("no examples to fit");
  const d = rows[0]?.length ?? 0;
  const size = d + 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-10;
  // Parameters: index 0 is the intercept, 1..d the coefficients.
  const beta = new Array<number>(size).fill(0);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && !converged) {
    iterations++;
    const gradient = new Array<number>(size).fill(0);
    const hessian = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as readonly number[];
      const x = [1, ...row];
      let z = 0;
      for (let j = 0; j < size; j++) z += (beta[j] as number) * (x[j] as number);
      const p = sigmoid(z);
      const w = p * (1 - p);
      const residual = p - (labels[i] as number);
      for (let j = 0; j < size; j++) {
        const xj = x[j] as number;
        gradient[j] = (gradient[j] as number) + residual * xj;
        const hRow = hessian[j] as number[];
        for (let k = 0; k <= j; k++) hRow[k] = (hRow[k] as number) + w * xj * (x[k] as number);
      }
    }
    for (let j = 1; j < size; j++) {
      gradient[j] = (gradient[j] as number) + options.lambda * (beta[j] as number);
      const hRow = hessian[j] as number[];
      hRow[j] = (hRow[j] as number) + options.lambda;
    }
    // Only the lower triangle was accumulated; mirror it.
    for (let j = 0; j < size; j++)
      for (let k = j + 1; k < size; k++) (hessian[j] as number[])[k] = (hessian[k] as number[])[j] as number;
    // A tiny ridge keeps the solve defined when a class or a feature is degenerate.
    for (let j = 0; j < size; j++) (hessian[j] as number[])[j] = ((hessian[j] as number[])[j] as number) + 1e-12;
    const step = solveSymmetric(hessian, gradient);
    let largest = 0;
    for (let j = 0; j < size; j++) {
      beta[j] = (beta[j] as number) - (step[j] as number);
      largest = Math.max(largest, Math.abs(step[j] as number));
    }
    converged = largest < tolerance;
  }
  return { intercept: beta[0] as number, coefficients: beta.slice(1), iterations, converged };
}

/** Solves A·x = b for a symmetric positive-definite A by Cholesky decomposition. */
export function solveSymmetric(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const lower = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (a[i] as readonly number[])[j] as number;
      for (let k = 0; k < j; k++) sum -= ((lower[i] as number[])[k] as number) * ((lower[j] as number[])[k] as number);
      if (i === j) {
        if (sum <= 0) throw new Error("matrix is not positive definite");
        (lower[i] as number[])[i] = Math.sqrt(sum);
      } else {
        (lower[i] as number[])[j] = sum / ((lower[j] as number[])[j] as number);
      }
    }
  }
  // Forward substitution L·y = b, then back substitution Lᵀ·x = y.
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= ((lower[i] as number[])[k] as number) * (y[k] as number);
    y[i] = sum / ((lower[i] as number[])[i] as number);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k++) sum -= ((lower[k] as number[])[i] as number) * (x[k] as number);
    x[i] = sum / ((lower[i] as number[])[i] as number);
  }
  return x;
}
