package acs

import (
	"net/http"
	"testing"
)

func TestParseRetry(t *testing.T) {
	for _, tc := range []struct {
		name            string
		attempts, delay string // "" for no header
		want            Retry
	}{
		{"first attempt", "", "", Retry{Attempt: 0, Delay: -1}},
		{"CLI's first retry", "1", "250", Retry{Attempt: 1, Delay: 250}},
		{"darabonba's third retry", "3", "1", Retry{Attempt: 3, Delay: 1}},
		{"no delay said", "2", "", Retry{Attempt: 2, Delay: -1}},
		{"spaces", " 2 ", " 40 ", Retry{Attempt: 2, Delay: 40}},
		{"zero attempt", "0", "0", Retry{Attempt: 0, Delay: 0}},
		{"negative", "-1", "-5", Retry{Attempt: 0, Delay: -1}},
		{"not a number", "two", "1.5", Retry{Attempt: 0, Delay: -1}},
		{"huge attempt", "99999999999999", "1", Retry{Attempt: maxRetryAttempt, Delay: 1}},
		{"overflow", "999999999999999999999", "999999999999999999999", Retry{Attempt: 0, Delay: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.attempts != "" {
				h.Set(HeaderRetryAttempts, tc.attempts)
			}
			if tc.delay != "" {
				h.Set(HeaderRetryDelay, tc.delay)
			}
			if got := ParseRetry(h); got != tc.want {
				t.Errorf("ParseRetry(%q, %q) = %+v, want %+v", tc.attempts, tc.delay, got, tc.want)
			}
		})
	}
}

// FuzzParseRetry: whatever a client sends, the attempt is in [0, maxRetryAttempt] and the
// delay -1 or non-negative.
func FuzzParseRetry(f *testing.F) {
	f.Add("1", "250")
	f.Add("-1", "x")
	f.Fuzz(func(t *testing.T, attempts, delay string) {
		h := http.Header{}
		h.Set(HeaderRetryAttempts, attempts)
		h.Set(HeaderRetryDelay, delay)
		r := ParseRetry(h)
		if r.Attempt < 0 || r.Attempt > maxRetryAttempt || r.Delay < -1 {
			t.Fatalf("ParseRetry(%q, %q) = %+v", attempts, delay, r)
		}
	})
}
