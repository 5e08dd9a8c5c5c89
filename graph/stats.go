package graph

import "sync/atomic"

// Stats are a Client's counters since it was made, for metrics. They only grow, except
// Breaker.
type Stats struct {
	Calls    int64 // method calls that reached the network stage (arguments were present)
	Attempts int64 // requests sent, or tried, to Graph
	Retries  int64 // attempts after the first of a call
	Failures int64 // attempts that ended in a transient failure (no answer, 5xx, throttled, is_transient)
	Rejected int64 // attempts the open breaker refused without touching the network
	Opens    int64 // times the breaker opened
	Breaker  BreakerState
}

type counters struct {
	calls, attempts, retries, failures, rejected atomic.Int64
}

// Stats returns the counters and the breaker's state now.
func (c *Client) Stats() Stats {
	state, opens := c.breaker.snapshot(c.now())
	return Stats{
		Calls:    c.stats.calls.Load(),
		Attempts: c.stats.attempts.Load(),
		Retries:  c.stats.retries.Load(),
		Failures: c.stats.failures.Load(),
		Rejected: c.stats.rejected.Load(),
		Opens:    opens,
		Breaker:  state,
	}
}
