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
// judged by Redis's clock, and the set expires with its last nonce. A call whose
// camsd.Call carries an Admission has its flow-control decision made in the nonce's script
// (use.lua, then allow.lua as they are, in one script), when the nonce was new: one round trip
// instead of two, and the same decision a Limiter on the same prefix makes (the limiter
// contract runs on it).
//
// # When Redis does not answer
//
// Redis is an accelerator, not a single point of failure. Scripts of concurrent calls are
// pipelined (Client). A call waits for its pipeline's reply at most the Client's timeout
// (DefaultTimeout, 1 s), counted from when the pipeline is sent, so that a replica whose CPU
// is saturated still hears a healthy Redis in time; nothing is retried. A call that finds
// Redis unavailable (no reply in time, or LOADING, READONLY, OOM, …) marks the Client down:
// from then on calls fail at once with ErrUnavailable, without waiting, until a prober that
// pings Redis every 250 ms has heard it twice in a row. Callers decide without Redis meanwhile:
// Fallback with a per-replica limiter (the limit then holds per replica, not across them),
// NonceGuard with the database's nonce store, which records every nonce anyway; both count
// such decisions, and Client.OnChange reports each change between up and down.
//
// A nonce is therefore never only in Redis: NonceGuard records it in the database too, and
// Redis's answer only refuses a replay early. A Redis that loses its data (a restart without
// persistence, FLUSHALL) loses no replay protection.
package redisstore
