package redisstore

import "time"

// SetLimiterClock makes l decide at now's time instead of Redis's, so that the limiter
// contract's exact cases can run against the real script.
func SetLimiterClock(l *Limiter, now func() time.Time) { l.now = now }

// SetNoncesClock makes n judge expiry by now's time instead of Redis's.
func SetNoncesClock(n *Nonces, now func() time.Time) { n.now = now }
