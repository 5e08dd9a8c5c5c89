package sqlite

import "time"

// Times are stored as INTEGER unix nanoseconds UTC: they sort and compare as numbers in SQL,
// keep full precision and mean the same in every time zone. The zero time is stored as 0.

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0 // UnixNano of the zero time overflows int64
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
