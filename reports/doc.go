// Package reports turns simrun results into plots and a self-contained
// HTML report.
//
// It works in two steps kept apart on purpose. RunFigures and SweepFigures
// are pure: they turn a results.Run or results.Sweep into Figures, plain
// structs of lines, bands, shaded spans, rectangles, marks, reference
// rules, axes with their ticks and the legend, all in data coordinates with
// semantic colour names. That is what the golden tests pin (testdata/*.golden,
// regenerated with go test ./reports -update). Render then draws a Figure
// with gonum.org/v1/plot as PNG or SVG, and WriteHTML lays the figures out
// in one HTML file with the SVGs, the style sheet and the font inlined, so
// it opens from disk with nothing fetched.
//
// Per run: lag per Lite with fault windows, ResyncRequests and answers,
// throttle bands, heal and convergence; queue depth per Lite against the
// capacity and the throttle marks; Origin's push rate per Lite against the
// suggested rate while throttled; the fault timeline. More than MaxLines
// Lites are summarised as median, p90 and max. Per sweep: the distribution
// of time to converge after heal (histogram and CDF), failures by property,
// runs and failures by fault kind, simulated seconds per wall second.
//
// Nothing here depends on map iteration order or the clock: the same result
// gives the same figures and the same bytes.
package reports
