package main

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"time"
)

// histogram records latencies in nanoseconds with bounded memory: exact
// below 128 ns, then 64 buckets per power of two (under 1.6% error).
type histogram struct {
	counts [histBuckets]uint64
	total  uint64
}

const histBuckets = 64 * 64

func histIndex(v uint64) int {
	if v < 128 {
		return int(v)
	}
	shift := bits.Len64(v) - 7 // v>>shift is in [64, 127]
	i := shift*64 + int(v>>shift)
	return min(i, histBuckets-1)
}

func histValue(i int) uint64 {
	if i < 128 {
		return uint64(i)
	}
	shift := i/64 - 1
	return uint64(i%64+64) << shift
}

func (h *histogram) record(d time.Duration) {
	h.counts[histIndex(uint64(max(d, 0)))]++
	h.total++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the latency below which a fraction q of the samples
// fall (the lower edge of its bucket).
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(histValue(i))
		}
	}
	return time.Duration(histValue(histBuckets - 1))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// figure is one row of the table: a value for fxforge and for the baseline
// per run; the ratio reported is the median of the per-run ratios.
type figure struct {
	section string
	name    string
	unit    string
	better  string // "higher", "lower" or "" (informational)
	format  string // fmt verb for the values
	fx      []float64
	base    []float64
}

func (f *figure) add(fx, base float64) {
	f.fx = append(f.fx, fx)
	f.base = append(f.base, base)
}

// ratios returns fxforge/baseline per run, nil when a baseline is not
// positive.
func (f *figure) ratios() []float64 {
	var rs []float64
	for i := range f.fx {
		if !(f.base[i] > 0) {
			return nil
		}
		rs = append(rs, f.fx[i]/f.base[i])
	}
	return rs
}

// ratio returns the median over runs of fxforge/baseline, NaN when a
// baseline is not positive.
func (f *figure) ratio() float64 { return median(f.ratios()) }

// spread returns the lowest and highest per-run ratio.
func (f *figure) spread() string {
	rs := f.ratios()
	if len(rs) == 0 {
		return "n/a"
	}
	return fmtRatio(slices.Min(rs)) + "–" + fmtRatio(slices.Max(rs))
}

// table collects figures in the order they were first added.
type table struct {
	figs []*figure
}

func (t *table) get(section, name, unit, better, format string) *figure {
	for _, f := range t.figs {
		if f.section == section && f.name == name {
			return f
		}
	}
	f := &figure{section: section, name: name, unit: unit, better: better, format: format}
	t.figs = append(t.figs, f)
	return f
}

func (t *table) find(section, name string) *figure {
	for _, f := range t.figs {
		if f.section == section && f.name == name {
			return f
		}
	}
	return nil
}

// write prints the table as Markdown: figure | fxforge | baseline | ratio |
// range of the per-run ratios.
func (t *table) write(w io.Writer) {
	section := ""
	for _, f := range t.figs {
		if f.section != section {
			section = f.section
			fmt.Fprintf(w, "\n%s\n\n", section)
			fmt.Fprintln(w, "| figure | fxforge | baseline | ratio | per-run ratios |")
			fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: |")
		}
		name := f.name
		if f.unit != "" {
			name += " (" + f.unit + ")"
		}
		if f.better != "" {
			name += ", " + f.better + " is better"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name,
			fmt.Sprintf(f.format, median(f.fx)), fmt.Sprintf(f.format, median(f.base)), fmtRatio(f.ratio()), f.spread())
	}
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f×", r)
}

// target is one goal from the benchmark issue.
type target struct {
	what   string
	fig    *figure
	limit  float64
	atMost bool // ratio ≤ limit; else ratio ≥ limit
	note   string
}

func (g target) check() (float64, string) {
	if g.fig == nil {
		return math.NaN(), "not measured"
	}
	r := g.fig.ratio()
	switch {
	case math.IsNaN(r):
		return r, "n/a"
	case g.atMost && r <= g.limit, !g.atMost && r >= g.limit:
		return r, "met"
	default:
		return r, "NOT met"
	}
}

func writeTargets(w io.Writer, targets []target) {
	fmt.Fprintf(w, "\ntargets\n\n")
	fmt.Fprintln(w, "| target | ratio | per-run ratios | limit | result |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- |")
	for _, g := range targets {
		r, res := g.check()
		op := "≥"
		if g.atMost {
			op = "≤"
		}
		if g.note != "" {
			res += " (" + g.note + ")"
		}
		spread := "n/a"
		if g.fig != nil {
			spread = g.fig.spread()
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s %.2f× | %s |\n", g.what, fmtRatio(r), spread, op, g.limit, res)
	}
}

// micros formats a duration as microseconds for the table.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// kib converts bytes to KiB.
func kib(b float64) float64 { return b / 1024 }
