package main

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{1.1, 0.9, 1.0, 1.2, 0.8}, 1.0},
	} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median(nil) = %v, want NaN", got)
	}
}

func TestMedianLeavesItsInputInOrder(t *testing.T) {
	xs := []float64{3, 1, 2}
	median(xs)
	if xs[0] != 3 || xs[1] != 1 || xs[2] != 2 {
		t.Errorf("median reordered its input: %v", xs)
	}
}

// TestFigureRatioIsTheMedianOfThePerRunRatios: not the ratio of the
// medians, so a run's fxforge value is only ever compared with the baseline
// measured next to it.
func TestFigureRatioIsTheMedianOfThePerRunRatios(t *testing.T) {
	var f figure
	f.add(11, 10) // 1.1
	f.add(30, 20) // 1.5
	f.add(9, 10)  // 0.9
	f.add(40, 40) // 1.0
	if got, want := f.ratio(), (1.0+1.1)/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("ratio() = %v, want %v", got, want)
	}
	if got, want := f.spread(), "0.900×–1.500×"; got != want {
		t.Errorf("spread() = %q, want %q", got, want)
	}
}

func TestFigureWithoutAPositiveBaselineHasNoRatio(t *testing.T) {
	var f figure
	f.add(1, 2)
	f.add(1, 0)
	if r := f.ratio(); !math.IsNaN(r) {
		t.Errorf("ratio() = %v, want NaN", r)
	}
	if s := f.spread(); s != "n/a" {
		t.Errorf("spread() = %q, want n/a", s)
	}
	if s := fmtRatio(f.ratio()); s != "n/a" {
		t.Errorf("fmtRatio = %q, want n/a", s)
	}
}
