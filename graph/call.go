package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// maxBody bounds how much of an answer is read; Graph's answers here are a few hundred bytes.
const maxBody = 64 << 10

// minAttemptWindow is the least time left before the deadline that is worth a retry.
const minAttemptWindow = 10 * time.Millisecond

// outcome is what one attempt came to.
type outcome struct {
	status int
	err    error
	// transient: the failure may pass if the request is repeated.
	transient bool
	// mayHaveActed: Graph may have received the request and acted on it. False only when no
	// connection was made or Graph's answer proves it refused the request.
	mayHaveActed bool
}

// call runs one API call: at most 1+MaxRetries attempts, all inside one deadline, each
// admitted by the breaker. accept checks a 2xx answer's body.
func (c *Client) call(ctx context.Context, ep endpoint, id string, form url.Values, accept func([]byte) error) error {
	c.stats.calls.Add(1)
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	deadline, _ := ctx.Deadline()

	u, body := c.endpointURL(id, ep.edge), form.Encode()
	attempts := 1 + c.maxRetries()
	cfg := c.breakerConfig()
	var last error
	for n := 1; n <= attempts; n++ {
		if n > 1 {
			if !c.wait(ctx, deadline, n-1) {
				break
			}
			c.stats.retries.Add(1)
		}
		probe, ok := c.breaker.allow(c.now(), cfg)
		if !ok {
			c.stats.rejected.Add(1)
			if last == nil {
				last = ErrBreakerOpen
			}
			break
		}
		c.stats.attempts.Add(1)
		start := time.Now()
		o := c.attempt(ctx, u, body, attemptTimeout(ep, deadline, attempts-n+1), accept)
		c.breaker.record(c.now(), probe, verdictOf(o, caller), cfg)
		retryable := o.transient && (ep.retry == retryTransient || !o.mayHaveActed)
		if o.transient {
			c.stats.failures.Add(1)
		}
		if c.OnAttempt != nil {
			c.OnAttempt(caller, Attempt{Call: ep.edge, N: n, Status: o.status, Err: o.err, Duration: time.Since(start), Retryable: retryable})
		}
		if o.err == nil {
			return nil
		}
		last = o.err
		if !retryable || caller.Err() != nil {
			break
		}
	}
	return fmt.Errorf("graph: %s: %w", ep.edge, last)
}

// attemptTimeout gives an attempt of a call that may be repeated after a timeout its share of
// the time left, so that a hung first attempt leaves room for the retries. A call that is not
// repeated after a timeout gets all of it: cutting it short would only make it fail.
func attemptTimeout(ep endpoint, deadline time.Time, attemptsLeft int) time.Duration {
	left := time.Until(deadline)
	if ep.retry != retryTransient || attemptsLeft <= 1 {
		return left
	}
	return left / time.Duration(attemptsLeft)
}

// wait sleeps the jittered back-off before retry number retry and reports whether the call
// should go on: false when the wait would leave too little time before the deadline.
func (c *Client) wait(ctx context.Context, deadline time.Time, retry int) bool {
	d := jittered(c.backoff(), retry)
	if time.Until(deadline) < d+minAttemptWindow {
		return false
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// jittered returns base*2^(retry-1), scaled by a random factor in [0.5, 1] so that callers
// that failed together do not retry together.
func jittered(base time.Duration, retry int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base << (retry - 1)
	return d/2 + rand.N(d/2+1)
}

// attempt sends one request and classifies what came back.
func (c *Client) attempt(ctx context.Context, u, body string, timeout time.Duration, accept func([]byte) error) outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Once the headers are written the request may have reached Graph, whatever happens next.
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return outcome{err: err} // a malformed BaseURL: a wiring bug, not worth repeating
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := c.httpClient().Do(req)
	if err != nil {
		return outcome{err: unavailable(err), transient: true, mayHaveActed: wrote.Load() || !neverConnected(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return outcome{status: resp.StatusCode, err: unavailable(err), transient: true, mayHaveActed: true}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := accept(data); err != nil {
			return outcome{status: resp.StatusCode, err: err}
		}
		return outcome{status: resp.StatusCode}
	}

	e := parseError(resp.StatusCode, data, c.Token)
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	switch {
	case resp.StatusCode >= 500:
		return outcome{status: resp.StatusCode, err: e, transient: true, mayHaveActed: true}
	case e.Throttled() || e.Transient:
		// A 4xx answer is Graph refusing the request, so nothing was done.
		return outcome{status: resp.StatusCode, err: e, transient: true}
	}
	return outcome{status: resp.StatusCode, err: e}
}

// unavailable wraps a failure to get an answer from Graph.
func unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// neverConnected reports whether err proves no connection was made, so no byte of the
// request left this process: the dial (or the name lookup before it) failed. Anything else,
// a timeout included, may have come after the request was written.
func neverConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// verdictOf is what an attempt tells the breaker: a transient failure counts against Graph,
// unless the caller gave up (cancelled, not timed out); any answer that is not a transient
// failure shows Graph is up.
func verdictOf(o outcome, caller context.Context) verdict {
	switch {
	case !o.transient:
		return verdictSuccess
	case errors.Is(caller.Err(), context.Canceled):
		return verdictNeutral
	}
	return verdictFailure
}
