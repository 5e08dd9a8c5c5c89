// Package redisstore keeps flow control and signature nonces in Redis, so that replicas of
// camsd share them: a limit holds across all replicas, and a nonce is accepted once by any of
// them (issue 6). It uses github.com/redis/go-redis/v9 against one Redis server.
//
// # Guarantees
//
// Limiter is the exact rule of package ratelimit, across replicas: a call for a key is admitted
// iff fewer than limit calls of that key were admitted in the rolling second before it,
// (t-1s, t]; a burst of limit after an idle second is all admitted; refused calls do not count;
// RetryAfter is when the admission that blocks the call leaves the window. Each decision is
// one Lua script (allow.lua), which Redis runs atomically, over a sorted set of the key's
// admission times. The time is Redis's (TIME, to the microsecond), never a replica's, so clock
// skew between replicas changes nothing; were Redis's clock to go back, a key is decided at its
// newest admission rather than in the past. A key expires a second after its newest admission,
// so an idle key costs nothing and nothing lives forever.
//
// Nonces accepts a nonce once per AccessKey until it expires, by one Lua script (use.lua) over
// a sorted set of the AccessKey's live nonces, bounded per AccessKey like the SQLite store (a
// live nonce is never evicted: a full key refuses with camsd.ErrNonceStoreFull). Expiry is
// judged by Redis's clock, and the set expires with its last nonce.
//
// # When Redis does not answer
//
// No call waits for Redis longer than the Client's timeout (DefaultTimeout, 50ms, unless
// configured): the timeout bounds the wait for a connection, the dial, the handshake, the write
// and the reply together, and nothing is retried. Calls that fail so return an error wrapping
// ErrUnavailable, as do replies that say Redis cannot serve now (LOADING, READONLY, OOM, …).
// Nonces then fails closed: the error is never camsd.ErrNonceUsed, and the caller refuses the
// request (503 ServiceUnavailable) rather than risk a replay. Flow control degrades instead:
// Fallback decides with a per-replica limiter and counts each such decision. Client.Ping is
// the readiness check.
package redisstore
