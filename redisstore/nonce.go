package redisstore

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/camsd/camsd"
	"github.com/redis/go-redis/v9"
)

var _ camsd.NonceStore = (*Nonces)(nil)

//go:embed use.lua
var useSource string

// useScript records one nonce: see use.lua.
var useScript = redis.NewScript(useSource)

// useAllowScript records one nonce and, when it was not used, makes the call's flow-control
// decision, in one round trip: use.lua and allow.lua, each as it is, run one after the other
// inside one script, so that Redis runs both atomically and no rule is written twice.
//
// KEYS[1] the nonce's key, KEYS[2] the decision's; ARGV[1..3] use.lua's (nonce, expiry,
// bound), ARGV[4] the limit, ARGV[5] tests only: the time now, for both.
// Returns {use's reply} when the nonce was not recorded, else {0, allow's three values}.
var useAllowScript = redis.NewScript("local function use(KEYS, ARGV)\n" + useSource + "\nend\n" +
	"local function allow(KEYS, ARGV)\n" + allowSource + "\nend\n" + `
local used = use({KEYS[1]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[5]})
if used ~= 0 then
  return {used}
end
local d = allow({KEYS[2]}, {ARGV[4], ARGV[5]})
return {0, d[1], d[2], d[3]}
`)

// Nonces remembers signature nonces in Redis, so that a signed request is accepted once across
// every replica that shares its Redis and prefix. It is safe for concurrent use.
//
// Each AccessKey's live nonces are one sorted set scored by expiry, so that a key can be held
// to a bound as the SQLite store holds it, and the set expires with its last nonce. Expiry is
// judged by Redis's clock, like flow control: the caller's expires is an absolute time, and a
// replica whose clock runs ahead of Redis's keeps its nonces that much longer, one behind that
// much shorter. Replicas' clocks must agree with Redis's to well within the signature window
// (they are already trusted to judge a request's timestamp).
//
// A nonce is as durable as the Redis server makes its writes: one that keeps nothing on disk
// forgets the nonces of the last window when it restarts.
type Nonces struct {
	client  *Client
	prefix  string
	maxLive int

	now func() time.Time // tests only: the time instead of Redis's
}

// NewNonces returns a Nonces on c whose keys start with prefix, such as "camsd:", holding at
// most maxLive live nonces per AccessKey (no bound when maxLive <= 0).
func NewNonces(c *Client, prefix string, maxLive int) *Nonces {
	return &Nonces{client: c, prefix: prefix, maxLive: max(maxLive, 0)}
}

// Use records nonce for the AccessKey until expires, in one round trip. Returns
// camsd.ErrNonceUsed if it is recorded and not yet expired, camsd.ErrNonceStoreFull if the key
// already holds its maximum of live nonces (a live nonce is never evicted), and an error
// wrapping ErrUnavailable when Redis does not answer within the Client's timeout: whether the
// nonce was used is then unknown, and the caller must refuse the request.
//
// The write is acknowledged by Redis when Use returns. When call carries an Admission not yet
// decided, the nonce's script makes its flow-control decision too, as a Limiter on the same
// Redis and prefix would, and sets it in the Admission: one round trip for both.
func (n *Nonces) Use(ctx context.Context, call *camsd.Call, accessKeyID, nonce string, expires time.Time) error {
	if call != nil && call.Admission != nil && call.Admission.Limit > 0 && !call.Admission.Decided {
		return n.useAllow(ctx, call.Admission, accessKeyID, nonce, expires)
	}
	args := []any{nonce, expires.UnixMicro(), n.maxLive}
	if n.now != nil {
		args = append(args, n.now().UnixMicro())
	}
	cmd, err := n.client.run(ctx, "use nonce", useScript, []string{n.prefix + "nonce:" + accessKeyID}, args...)
	if err != nil {
		return err
	}
	r, err := cmd.Int64()
	if err != nil {
		return fmt.Errorf("redisstore: use nonce: unexpected reply %v: %w", cmd.Val(), err)
	}
	return useVerdict(r, cmd.Val())
}

// useAllow is Use that also makes a's decision, with the nonce's, in one script: a Limiter on
// the same Redis and prefix would have made the same (the decision is allow.lua's). A nonce
// that was used or over the bound makes no decision, as flow control never sees such a call.
func (n *Nonces) useAllow(ctx context.Context, a *camsd.Admission, accessKeyID, nonce string, expires time.Time) error {
	args := []any{nonce, expires.UnixMicro(), n.maxLive, a.Limit}
	if n.now != nil {
		args = append(args, n.now().UnixMicro())
	}
	keys := []string{n.prefix + "nonce:" + accessKeyID, n.prefix + "rate:" + a.Key}
	cmd, err := n.client.run(ctx, "use nonce and allow", useAllowScript, keys, args...)
	if err != nil {
		return err
	}
	r, err := cmd.Int64Slice()
	switch {
	case err != nil || len(r) != 1 && len(r) != 4:
		return fmt.Errorf("redisstore: use nonce and allow: unexpected reply %v", cmd.Val())
	case len(r) == 1:
		return useVerdict(r[0], cmd.Val())
	}
	a.Decided = true
	a.Decision = camsd.Decision{Allowed: r[1] == 1, At: time.UnixMicro(r[2])}
	if !a.Decision.Allowed {
		a.Decision.RetryAfter = time.Duration(r[3]) * time.Microsecond
	}
	return nil
}

// useVerdict is what use.lua's reply r says.
func useVerdict(r int64, val any) error {
	switch r {
	case 0:
		return nil
	case 1:
		return camsd.ErrNonceUsed
	case 2:
		return camsd.ErrNonceStoreFull
	}
	return fmt.Errorf("redisstore: use nonce: unexpected reply %v", val)
}
