// Package postgres is camsd's store on PostgreSQL, for several replicas behind a load balancer
// (issue 6): the Store, the NonceStore and the simulator's Outbox (DB), and flow control
// (Limiter) for deployments without Redis. It uses github.com/jackc/pgx/v5 with a connection
// pool. Business rules stay out: it persists what it is given, atomically, and passes the
// same contract suite (package storetest) as the SQLite store.
//
// # Schema
//
// Open runs the embedded migrations (migrations/*.sql, each once, in its own transaction,
// recorded in schema_migrations) under a session advisory lock on a fixed key, so replicas
// that start at once migrate one after the other and the later ones find nothing to do. It
// refuses a database migrated by a newer camsd, and a server with synchronous_commit off.
// Options.Schema keeps camsd's tables in a schema of their own.
//
// # What is exact across replicas, and how
//
// PostgreSQL is the one authority; nothing that decides is cached in a replica, except the
// tenants each request reads, under the rule of the next section.
//
//   - A code's compare-and-set (SaveCode) and a number's changes (ChangeNumber) run in
//     transactions that first take the number's transaction-level advisory lock,
//     pg_advisory_xact_lock(hashtextextended(number, 0)). Under READ COMMITTED every statement
//     after the lock sees all that the lock's previous holder committed, so concurrent calls for
//     one number, from any connection of any replica, are decided one after the other: one of
//     many concurrent SaveCodes wins the resend interval, one of many spenders of a code spends
//     it, and no change is lost. Numbers do not wait for each other.
//   - A nonce is accepted once: nonce_use locks the AccessKey's row in nonce_keys before it
//     looks, so the checks of one key are serial across replicas. That row also counts the key's
//     nonces, so the bound on live nonces (Options.MaxNonces, camsd.ErrNonceStoreFull) is exact,
//     and a live nonce is never deleted to make room. Different keys do not wait for each other,
//     and one busy key's nonces share their group's commit (below). A nonce is recorded by Use,
//     or, when the call's fast first check was Redis (camsd.Call.Nonce), with the call's first
//     change, in the same transaction, which a replay then refuses. A code's nonce is recorded
//     in the code's own row (verify_codes.nonce_key and nonce, unique; migration 0016), which
//     write_group, Use and ChangeNumber all look at, each under the nonce's own advisory lock,
//     so that a nonce recorded both ways at once is accepted once: one index entry where a row
//     of nonces cost its key's row, lookups and index entries (about 40% of PostgreSQL's CPU per
//     call, measured). It is refused for as long as the code is kept, not only while it lives (a
//     SignatureNonce must differ from request to request), and it does not count toward the
//     bound, which Redis, having admitted it, holds it to; the nonce of a code that is refused
//     goes to nonces, counted. Expiry is judged by the calling replica's clock (Options.Now), as
//     the signature's timestamp is: replicas need synchronized clocks, and a skew only moves the
//     moment a nonce expires.
//   - Flow control (Limiter) locks the key's row and reads PostgreSQL's clock_timestamp() under
//     the lock, so the admissions of a key are decided one at a time, in the order of one clock,
//     whichever replica asks: at most limit in any rolling second, bursts of limit after an idle
//     second, refused calls not counted, RetryAfter until the blocking admission leaves. Should
//     that clock go back, a key is decided at its newest admission. Its table is UNLOGGED (no
//     WAL, no flush per decision); a crash or failover of PostgreSQL forgets the last second's
//     admissions, as a restart of the in-process limiter does.
//   - ApplySeed runs in one transaction under an advisory lock on a fixed key, so replicas
//     applying a seed at once apply it one after the other, each to what the last committed
//     (upserts alone could deadlock, or collide on a user's replaced policies). Each number it
//     adds is added under the number's lock, so never in the middle of a ChangeNumber.
//   - A group trims the outbox under an advisory lock after adding its messages, so the outbox
//     holds the newest keep messages: more only while groups race, or until the next sweep for
//     a message committed after keep newer ones were numbered; fewer only while ids that a
//     failed group drew are among the newest keep.
//   - Records appended by ChangeNumber get ids from a sequence, unique across replicas.
//
// # Tenant cache
//
// Principal and Space, read by every request, and PhoneNumber, read by every code sent,
// answer from memory (cache.go): keys with their account, RAM user and policies, spaces, and
// ids known not to exist; numbers found (a number not found is read again every time). Ids that PostgreSQL's
// text could not hold (not UTF-8, a NUL, over 256 bytes) are not found, without a query.
// Replicas share the tables, so a cache that another replica's change did not reach would let
// a disabled key sign requests; what keeps it honest:
//
//   - Statement triggers on accounts, users, access_keys, user_policies and spaces (migration
//     0004), and a row trigger on phone_numbers that names the number (migration 0011),
//     pg_notify a channel named after the schema, so every writer (ApplySeed and
//     DeleteKey on any replica, the admin API, psql) tells every replica, at its commit. Each
//     replica's listener (listen.go), on a connection of its own named camsd-listen, drops the
//     notified table's entries as soon as it reads the notification.
//   - The cache answers only while the listener is listening and has proved its connection
//     within the last second (a heartbeat every 250 ms). When the connection is lost, it drops
//     everything and reads go to PostgreSQL until the listener has reconnected (backoff 100 ms
//     to 2 s) and listens again, when it drops everything once more, since changes made in
//     between were not told. A connection that dies silently stops the cache within a second.
//   - A read that missed keeps its answer only if no invalidation came while it read.
//   - A replica's own ApplySeed and DeleteKey drop its cache once committed, and its own
//     ChangeNumber that number's records, so it sees its own change at once; other replicas
//     see it within a second, normally within milliseconds. (A number's state can so lag by
//     as much on another replica; the rules that change a number decide inside ChangeNumber
//     on its current record, a code's compare-and-set reads the codes table, and what must
//     not act on or show a lagging record reads PhoneNumberNow, past the cache.)
//
// # Durability: group commit
//
// PostgreSQL with synchronous_commit on (the default, which Open insists on) flushes a commit
// to its write-ahead log before it acknowledges it, so nothing acknowledged is lost in a crash.
// The writes of the hot path (Use, SaveCode, SaveCodeMessage, SetCodeStatus, AddMessage) do not
// take a transaction each: a few writers each take every write queued when they are free (after
// waiting up to 3 ms for the writes of the calls still running, which the API counts with
// camsd.Running) and make them in one statement, write_group (group.go, migrations 0005, 0010,
// 0012, 0014 and 0015), one transaction and one WAL flush for the group; in a group of eight or
// more, its nonces and its codes are each made by a few set statements, below that with two
// statements a code. A code that carries its message (SaveCodeMessage: the simulator's
// delivery) inserts it in the same statement, only if the code is inserted. A write's outcome
// (a nonce used, a code's conflict) is known when its group commits, so those that decide
// return then; SetCodeStatus and AddMessage, given a camsd.Call, return once queued and leave
// the wait for their commit to the call's Wait, so a call's last writes share one group.
// write_group takes its locks in one global order (numbers' advisory locks by key, then its
// nonces' advisory locks by hash, then, after its codes, AccessKeys' nonce_keys rows by id),
// which ChangeNumber follows too (its number, then its call's nonce and its key's row), so
// groups of any replicas never deadlock. A group that fails is made again write by write, so
// one bad write fails alone.
//
// write_group's plans are made once per connection and kept, whatever the tables held when
// they were made (autovacuum analyzes a new database's tables while they are small, when every
// plan costs about the same). So its statements leave the planner no ruinous choice: a nonce
// looked up by (key, nonce), a code by seq and a message by id can only use the primary key
// (nonces_expiry, verify_codes_newest and messages_phone are partial indexes, usable only by
// the queries they are for), lookups of a group's rows are LATERAL subqueries with LIMIT,
// which PostgreSQL never turns into a join over a whole table, and the outbox's trim reckons
// from the group's own newest message, not the table's (migration 0015).

// # Cleanup
//
// Nothing grows forever. A key's expired nonces are deleted by its own later Uses (two with
// each new nonce), and every 64th Use also sweeps a key whose nonces have all expired. Every
// 1024th decision of a Limiter deletes keys with no admission in the last second. The sweeps
// skip rows another transaction holds, so they never wait.
package postgres
