// Package ratelimit is camsd's in-process flow control: an exact rolling one-second window
// per key, implementing camsd.Limiter for a single replica. Replicas that must share limits need
// a shared limiter instead.
//
// The rule is exact, not estimated: a call at t is admitted iff fewer than limit calls were
// admitted in (t-1s, t]. Refused calls do not count, so a client that keeps retrying is never
// "blocked forever" (the sliding-window trap Kong documents), and there is no boundary burst of
// up to twice the limit as a fixed window allows, nor a refilled bucket on top of a full burst
// as a token bucket with burst = limit allows (2*limit-1 in the first second).
package ratelimit
