package postgres

import "time"

// The API's times are stored as bigint unix nanoseconds UTC, as in the SQLite store: they keep
// the nanoseconds a caller gave (timestamptz keeps microseconds), and sort and compare as
// numbers. The zero time is stored as 0.

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
