package limitertest

import (
	"fmt"
	"time"
)

// CheckWindows is the product rule as a property of a history: it returns an error naming the
// first rolling window (t-1s, t] that holds more than limit of the admission times, which must
// be sorted. Checking the windows that end at an admission is enough, because a window's count
// only rises at an admission.
func CheckWindows(times []time.Time, limit int) error {
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

// CheckSaturated checks that a key called faster than its limit, from the start of a run that
// lasted elapsed and kept calling for at least d, admitted close to the ideal. An exact window
// admits limit at once from idle, then each admission's place again a second after it: at
// least limit*floor(d) in d, and never more than limit*ceil(elapsed). Fewer means the limiter
// refuses what it may admit; more, that it admits what it must refuse.
func CheckSaturated(times []time.Time, limit int, d, elapsed time.Duration) error {
	lo := limit * int(d/time.Second)
	hi := limit * int((elapsed+time.Second-1)/time.Second)
	if n := len(times); n < lo || n > hi {
		return fmt.Errorf("%d admitted in %.2fs with limit %d, want within [%d, %d]", n, elapsed.Seconds(), limit, lo, hi)
	}
	return nil
}
