package ratelimit_test

import (
	"fmt"
	"testing"
	"time"
)

// checkWindows is the product rule as a property of a history: it returns an error naming the
// first rolling window (t-1s, t] that holds more than limit of the admission times, which must
// be sorted. Checking the windows that end at an admission is enough, because a window's count
// only rises at an admission.
func checkWindows(times []time.Time, limit int) error {
	lo := 0
	for i, t := range times {
		if i > 0 && t.Before(times[i-1]) {
			return fmt.Errorf("admission %d at %v is before admission %d at %v", i, t, i-1, times[i-1])
		}
		for t.Sub(times[lo]) >= time.Second {
			lo++
		}
		if n := i - lo + 1; n > limit {
			return fmt.Errorf("window (%v, %v] holds %d admissions, limit %d",
				t.Add(-time.Second).Format(time.StampMicro), t.Format(time.StampMicro), n, limit)
		}
	}
	return nil
}

// The checker is itself tested both ways, so that a pass below means something.
func TestCheckWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		ts := make([]time.Time, len(ms))
		for i, m := range ms {
			ts[i] = t0.Add(time.Duration(m) * time.Millisecond)
		}
		return ts
	}
	for _, tc := range []struct {
		name  string
		times []time.Time
		limit int
		ok    bool
	}{
		{"empty", nil, 1, true},
		{"limit in one instant", at(0, 0, 0), 3, true},
		{"one over in one instant", at(0, 0, 0, 0), 3, false},
		{"one over within 999ms", at(0, 500, 999), 2, false},
		{"exactly 1s apart is two windows", at(0, 500, 1000), 2, true},
		{"over in a later window", at(0, 1000, 1500, 1999), 2, false},
		{"ties at the window end count", at(0, 900, 900), 2, false},
		{"steady at the limit", at(0, 100, 1000, 1100, 2000, 2100), 2, true},
		{"unsorted", at(10, 0), 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkWindows(tc.times, tc.limit)
			if (err == nil) != tc.ok {
				t.Errorf("checkWindows = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
