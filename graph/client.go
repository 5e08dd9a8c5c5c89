package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// Defaults for the zero fields of Client.
const (
	DefaultBaseURL          = "https://graph.facebook.com"
	DefaultVersion          = "v21.0"
	DefaultTimeout          = 5 * time.Second
	DefaultMaxRetries       = 2
	DefaultBackoff          = 50 * time.Millisecond
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 30 * time.Second
)

// Client calls the Graph API edges behind a phone-number migration. Set its fields before the
// first call and leave them alone afterwards; then it is safe for concurrent use. It holds
// the circuit breaker and the counters, so it must not be copied after first use.
type Client struct {
	// BaseURL is Graph's origin; "" means DefaultBaseURL.
	BaseURL string
	// Version is the Graph API version that prefixes every path; "" means DefaultVersion.
	Version string
	// Token is the access token, sent as "Authorization: Bearer". It never appears in an
	// error: Graph's messages are scrubbed of it.
	Token string
	// Timeout is the deadline of a whole call, retries and back-off included; 0 means
	// DefaultTimeout, as does a negative value. A shorter deadline on the caller's context wins.
	Timeout time.Duration
	// HTTP sends the requests; nil means a client on http.DefaultTransport that does not
	// follow redirects (a redirected POST would silently become a GET).
	HTTP *http.Client
	// MaxRetries is how many times a failed attempt may be repeated, where repeating is safe
	// (see the package comment); 0 means DefaultMaxRetries, a negative value none.
	MaxRetries int
	// Backoff is the wait before the first retry, doubled for each further one and jittered
	// to between half and all of it; 0 means DefaultBackoff, a negative value no wait.
	Backoff time.Duration
	// BreakerThreshold is how many consecutive transient failures open the circuit breaker;
	// 0 means DefaultBreakerThreshold, a negative value disables the breaker.
	BreakerThreshold int
	// BreakerCooldown is how long the breaker stays open before it lets one probe through;
	// 0 or less means DefaultBreakerCooldown.
	BreakerCooldown time.Duration
	// Now is the breaker's clock; nil means time.Now. Deadlines always use the real clock.
	Now func() time.Time
	// OnAttempt, when set, is called after every attempt, in the calling goroutine, with the
	// call's context: for metrics, logs, and tests that count attempts.
	OnAttempt func(ctx context.Context, a Attempt)

	breaker breaker
	stats   counters
}

// Attempt describes one request to Graph, as OnAttempt sees it.
type Attempt struct {
	// Call is the Graph edge: "phone_numbers", "request_code", "verify_code", "register" or
	// "deregister".
	Call string
	// N is 1 for a call's first attempt, 2 for its first retry, and so on.
	N int
	// Status is the HTTP status of Graph's answer, 0 when there was none.
	Status int
	// Err is nil when Graph accepted the call.
	Err error
	// Duration is how long the attempt took.
	Duration time.Duration
	// Retryable says the failure was transient and the call safe to repeat; the call still
	// stops when retries are used up or the deadline is too close.
	Retryable bool
}

// endpoint is one Graph edge and whether it may be repeated.
type endpoint struct {
	edge  string
	retry retryPolicy
}

// retryPolicy says which transient failures a call may repeat after.
type retryPolicy int

const (
	// retryTransient: any transient failure; repeating the request has no further effect.
	retryTransient retryPolicy = iota
	// retryUnacted: only failures that prove Graph did not act on the request (no connection
	// was made, or Graph answered with a throttling or transient 4xx error).
	retryUnacted
)

// The edges and their retry policies; the package comment gives the reasons.
var (
	phoneNumbers = endpoint{"phone_numbers", retryTransient}
	requestCode  = endpoint{"request_code", retryUnacted}
	verifyCode   = endpoint{"verify_code", retryTransient}
	register     = endpoint{"register", retryUnacted}
	// deregister shares register's limit at Meta (10 register or deregister calls per number
	// in 72 hours, then 133016 and the number blocked for 72 hours): a repeat after Graph may
	// have acted would spend a second one for nothing.
	deregister = endpoint{"deregister", retryUnacted}
)

// AddPhoneNumber adds the number n to the WhatsApp Business Account wabaID
// (POST /{version}/{waba-id}/phone_numbers) and returns the phone-number id Graph gives it.
// A migration sends migrate_phone_number=true, and verified_name only when n has one; a new
// number sends its verified_name, which Graph requires for it. Errors are as for every call:
// see the package comment and WireError.
func (c *Client) AddPhoneNumber(ctx context.Context, wabaID string, n camsd.NewNumber) (string, error) {
	if err := required(phoneNumbers, "waba id", wabaID, "cc", n.CountryCode, "phone number", n.Number); err != nil {
		return "", err
	}
	form := url.Values{"cc": {n.CountryCode}, "phone_number": {n.Number}}
	if n.Migrate {
		form.Set("migrate_phone_number", "true")
	} else if err := required(phoneNumbers, "verified name", n.VerifiedName); err != nil {
		return "", err
	}
	if n.VerifiedName != "" {
		form.Set("verified_name", n.VerifiedName)
	}
	var id string
	err := c.call(ctx, phoneNumbers, wabaID, form, func(body []byte) error {
		var out struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &out) != nil || out.ID == "" {
			return ErrUnexpectedAnswer
		}
		id = out.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// RequestCode asks Graph to send the number phoneNumberID a verification code
// (POST /{version}/{id}/request_code) by method "SMS" or "VOICE" (any case) in language, a
// WhatsApp locale such as "en_US". It is never repeated once Graph may have sent a code.
func (c *Client) RequestCode(ctx context.Context, phoneNumberID, method, language string) error {
	if err := required(requestCode, "phone-number id", phoneNumberID, "code method", method, "language", language); err != nil {
		return err
	}
	form := url.Values{"code_method": {strings.ToUpper(method)}, "language": {language}}
	return c.call(ctx, requestCode, phoneNumberID, form, acceptSuccess)
}

// VerifyCode gives Graph the code the number phoneNumberID received
// (POST /{version}/{id}/verify_code).
func (c *Client) VerifyCode(ctx context.Context, phoneNumberID, code string) error {
	if err := required(verifyCode, "phone-number id", phoneNumberID, "code", code); err != nil {
		return err
	}
	return c.call(ctx, verifyCode, phoneNumberID, url.Values{"code": {code}}, acceptSuccess)
}

// Register registers the number phoneNumberID for the Cloud API with the two-step
// verification pin (POST /{version}/{id}/register, messaging_product=whatsapp). Meta allows 10
// register calls per number in 72 hours, so it is repeated only when Graph did not act.
func (c *Client) Register(ctx context.Context, phoneNumberID, pin string) error {
	if err := required(register, "phone-number id", phoneNumberID, "pin", pin); err != nil {
		return err
	}
	form := url.Values{"messaging_product": {"whatsapp"}, "pin": {pin}}
	return c.call(ctx, register, phoneNumberID, form, acceptSuccess)
}

// Deregister takes the number phoneNumberID off the Cloud API
// (POST /{version}/{id}/deregister, no fields); it stays in its WABA and can be registered
// again. It counts against the same 10 calls in 72 hours as Register, so it too is repeated
// only when Graph did not act.
func (c *Client) Deregister(ctx context.Context, phoneNumberID string) error {
	if err := required(deregister, "phone-number id", phoneNumberID); err != nil {
		return err
	}
	return c.call(ctx, deregister, phoneNumberID, nil, acceptSuccess)
}

// acceptSuccess accepts Graph's {"success":true} and nothing else: no OK without Graph's yes.
func acceptSuccess(body []byte) error {
	var out struct {
		Success bool `json:"success"`
	}
	if json.Unmarshal(body, &out) != nil || !out.Success {
		return ErrUnexpectedAnswer
	}
	return nil
}

// required returns an error naming the first empty value of the name/value pairs: a wiring
// bug, refused before any request.
func required(ep endpoint, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("graph: %s: empty %s", ep.edge, pairs[i])
		}
	}
	return nil
}

// endpointURL returns the URL of edge on node id.
func (c *Client) endpointURL(id, edge string) string {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	version := strings.Trim(c.Version, "/")
	if version == "" {
		version = DefaultVersion
	}
	return base + "/" + version + "/" + url.PathEscape(id) + "/" + edge
}

// noRedirects is the client used when Client.HTTP is nil.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return noRedirects
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries == 0:
		return DefaultMaxRetries
	case c.MaxRetries < 0:
		return 0
	}
	return c.MaxRetries
}

func (c *Client) backoff() time.Duration {
	switch {
	case c.Backoff == 0:
		return DefaultBackoff
	case c.Backoff < 0:
		return 0
	}
	return c.Backoff
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
