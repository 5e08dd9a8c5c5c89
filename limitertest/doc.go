// Package limitertest is the contract every camsd.Limiter must pass, in-process or shared by
// replicas. An implementation's tests call Run with a function that returns a fresh limiter on
// the real clock, and RunWithClock, when the limiter's clock can be set, with one that returns
// a fresh limiter on a given clock.
//
// The product rule is exact: a call is admitted iff fewer than limit calls of its key were
// admitted in the rolling second before it, (t-1s, t]; refused calls do not count; a refused
// call's RetryAfter is how long until enough admissions have left that window for it to have
// room. The suite judges a limiter two ways. CheckWindows checks the property on a history of
// admission times (no rolling second over the limit), which would pass a limiter that refuses
// everything; so RunWithClock also compares every decision with an oracle (the rule written the
// slow, obvious way) on deterministic traffic, and Run checks that a saturated key admits close
// to the ideal. The checker is itself tested against two designs the rule forbids, a fixed
// window and a token bucket, so that a pass means something.
package limitertest
