# medians.awk: the median of each metric per build, one column per build,
# with each build's change against the first.
# Input lines: "build unit value unit value ..." (as bench-lib.sh's
# bench_once writes them). ns/op is left out: the per-frame metrics say
# what a whole iteration does, better. Columns b/first are b's change.
# The columns are the builds named in -v order="a b ...", in that order
# (the first is the baseline), then any other build in order of first
# appearance. With -v spread=1 each metric has a second row: the lowest
# and highest value of each build.
BEGIN { nb = split(order, builds, " "); for (b = 1; b <= nb; b++) seen[builds[b]] = 1 }
{
	if (!($1 in seen)) { seen[$1] = 1; builds[++nb] = $1 }
	for (i = 2; i < NF; i += 2) { n[$1, $i]++; v[$1, $i, n[$1, $i]] = $(i+1); if (!($i in isunit)) { isunit[$i] = 1; units[++nu] = $i } }
}
function median(b, u,    k, m, j, t, a) {
	m = n[b, u]
	if (m == 0) return "-"
	for (k = 1; k <= m; k++) a[k] = v[b, u, k]
	for (k = 2; k <= m; k++) { t = a[k]; for (j = k - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function fmt(x) { return x >= 1e4 ? sprintf("%.0f", x) : sprintf("%.4g", x) }
function cell(x) { return sprintf("%14s", x == "-" ? "-" : fmt(x)) }
function span(b, u,    k, lo, hi) {
	if (n[b, u] == 0) return "-"
	lo = hi = v[b, u, 1]
	for (k = 2; k <= n[b, u]; k++) { if (v[b, u, k] < lo) lo = v[b, u, k]; if (v[b, u, k] > hi) hi = v[b, u, k] }
	return fmt(lo) "-" fmt(hi)
}
END {
	printf "%-14s", "metric"
	for (b = 1; b <= nb; b++) printf " %14s", builds[b]
	for (b = 2; b <= nb; b++) printf " %13s", builds[b] "/" builds[1]
	print ""
	for (k = 1; k <= nu; k++) {
		u = units[k]
		if (u == "ns/op") continue
		printf "%-14s", u
		for (b = 1; b <= nb; b++) { m[b] = median(builds[b], u); printf " %s", cell(m[b]) }
		for (b = 2; b <= nb; b++) {
			if (m[1] == "-" || m[b] == "-" || m[1] == 0) printf " %13s", "-"
			else printf " %+12.1f%%", 100 * (m[b] - m[1]) / m[1]
		}
		print ""
		if (spread) {
			printf "%-14s", "  range"
			for (b = 1; b <= nb; b++) printf " %14s", span(builds[b], u)
			print ""
		}
	}
}
