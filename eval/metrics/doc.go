// Package metrics computes the statistics reported for VQA results:
// rank and linear correlations (SRCC, KRCC, PLCC), PLCC/RMSE after the
// 4- and 5-parameter logistic mappings, percentile-bootstrap confidence
// intervals, multi-seed aggregation, significance tests (paired t,
// Wilcoxon, Williams, Steiger, paired and hierarchical bootstraps, Holm) and
// the Wilson interval of a proportion.
//
// The reference is scipy 1.10.1: testdata/gen_fixtures.py writes the
// oracle values (testdata/scipy_fixtures.json) the tests compare against,
// testdata/gen_wilson.py those of the Wilson interval.
//
// Conventions:
//   - Inputs containing NaN/Inf, of unequal length or with fewer than 3
//     points are rejected with an error (errors.Is with ErrNonFinite,
//     ErrLength, ErrTooFew); NaN/Inf errors name the offending index.
//   - A constant input vector makes a correlation undefined: like scipy,
//     the value is NaN and no error is returned. Fitted metrics are NaN
//     as well in that case, and so are CI bounds when no resample is
//     defined. JSON output writes NaN/Inf as null.
//   - Logistic fits start from InitialParams (see Starts for the few
//     fallbacks) and use a MINPACK-style Levenberg-Marquardt with tight
//     tolerances, so they agree with scipy.optimize.curve_fit from the same
//     start whenever the optimum is well defined. When it lies at infinity
//     (a logistic fitted to a line or an exponential), fits stop after a
//     bounded number of iterations and Fit.Converged is false.
//   - The fitted curve may be decreasing (an anti-correlated model). The
//     PLCC after the fit then carries the sign of the curve, never a
//     positive value for a model that ranks the videos upside down
//     (Fit.Decreasing); the RMSE after the fit is that of the curve as
//     fitted.
//   - Bootstrap resample b draws its indices from PCG(seed, b), so results
//     depend only on the seed, not on the number of worker goroutines.
//     Fitting dominates the cost of Compute (two fits per resample; about
//     a few seconds for n=500 and 1000 resamples on two cores in the worst
//     case); use Options{Resamples: -1} for point estimates only.
package metrics
