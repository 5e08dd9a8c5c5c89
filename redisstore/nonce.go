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
// The write is acknowledged by Redis when Use returns; the call is not used.
func (n *Nonces) Use(ctx context.Context, _ *camsd.Call, accessKeyID, nonce string, expires time.Time) error {
	args := []any{nonce, expires.UnixMicro(), n.maxLive}
	if n.now != nil {
		args = append(args, n.now().UnixMicro())
	}
	cmd, err := n.client.run(ctx, "use nonce", useScript, []string{n.prefix + "nonce:" + accessKeyID}, args...)
	if err != nil {
		return err
	}
	r, err := cmd.Int64()
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: use nonce: unexpected reply %v: %w", cmd.Val(), err)
	case r == 0:
		return nil
	case r == 1:
		return camsd.ErrNonceUsed
	case r == 2:
		return camsd.ErrNonceStoreFull
	default:
		return fmt.Errorf("redisstore: use nonce: unexpected reply %v", cmd.Val())
	}
}
