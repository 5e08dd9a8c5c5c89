// Package graph is a client for the calls to Meta's WhatsApp Business (Graph) API behind a
// CAMS phone number's life: a migration (issue 5) adds the number to the destination WABA
// with the migrate flag, requests a verification code, verifies it and registers the number;
// a new number (issue 14) is added with its display name, verified and registered the same
// way, and may be deregistered and registered again.
//
//	Client.AddPhoneNumber  POST /{version}/{waba-id}/phone_numbers   cc, phone_number, and migrate_phone_number=true or verified_name → {"id"}
//	Client.RequestCode     POST /{version}/{phone-number-id}/request_code  code_method, language → {"success":true}
//	Client.VerifyCode      POST /{version}/{phone-number-id}/verify_code   code → {"success":true}
//	Client.Register        POST /{version}/{phone-number-id}/register      messaging_product=whatsapp, pin → {"success":true}
//	Client.Deregister      POST /{version}/{phone-number-id}/deregister    (no fields) → {"success":true}
//
// Bodies are application/x-www-form-urlencoded, which Graph takes for every edge; the token
// goes in "Authorization: Bearer" only, never in a URL, a log or an error. A call succeeds only
// on a 2xx answer with the documented body: no OK without Graph's yes.
//
// # Deadline
//
// Client.Timeout (5s) bounds the whole call, back-off and retries included, so a call answers
// within it however Graph misbehaves (hung connection, body that never ends). A call that may
// be repeated after a timeout gives each attempt its share of the time left (5s/3 for the
// first of three), so that a hung attempt leaves room for the others; a call that may not gets
// all of it. No retry starts unless its back-off and 10ms fit before the deadline.
//
// # Retries
//
// An attempt fails transiently when Graph gives no answer (no connection, reset, timeout),
// answers 5xx or 429, or answers an error with is_transient or a throttling code (4, 17, 80007,
// 130429). Every other answer is final, a 2xx without the documented body included. A call
// that failed transiently is repeated at most MaxRetries (2) times, after 50ms then 100ms,
// each jittered to between half and all of it, and only where repeating is safe:
//
//	call            repeated after                           why
//	phone_numbers   any transient failure                    adding a number is idempotent at Meta: a WABA holds a number once
//	verify_code     any transient failure                    checking the same code again sends nothing to anyone
//	request_code    only failures proving Graph did not act  a repeat after Graph may have acted sends the person a second code
//	register        only failures proving Graph did not act  Meta allows 10 register or deregister calls per number in 72 hours (then 133016, blocked 72 hours)
//	deregister      only failures proving Graph did not act  the same 10 calls in 72 hours as register
//
// Graph did not act when no connection was made (the dial or the name lookup failed, and no
// request header was written) or when it answered 4xx (a throttling or is_transient error, or
// 429): a 4xx is Graph refusing the request. A timeout, a reset or an end of stream after the
// request was written, and any 5xx, may come after Graph acted, so they end request_code,
// register and deregister at once. When in doubt the request counts as received.
// Transport-level retries inside net/http stay as they are: for a POST they happen only when
// nothing was written.
//
// Two known limits of repeating: if Graph accepted verify_code or phone_numbers but the answer
// was lost, the repeat may answer 136025 or 2388012 where the first attempt had succeeded.
//
// # Circuit breaker
//
// BreakerThreshold (5) consecutive transiently failed attempts, of any call, open the breaker
// for BreakerCooldown (30s): attempts then fail at once with ErrBreakerOpen without touching
// the network. After the cool-down the next attempt is a probe and others still fail at once;
// any answer that is not a transient failure closes the breaker, a transient failure reopens it
// for another cool-down. An attempt cut short by the caller's cancellation does not count.
// Client.Stats reads the counters and the state for metrics; Client.OnAttempt sees every
// attempt, so a caller (or a test) knows how many attempts each call made.
//
// # Errors
//
// A call returns nil, or an error wrapping one of: *Error (Graph's error body and the HTTP
// status), ErrUnavailable (no answer; with context.DeadlineExceeded past the deadline),
// ErrBreakerOpen (itself an ErrUnavailable), ErrUnexpectedAnswer (2xx with another body), or
// an error naming an empty argument. WireError maps them to camsd's wire codes; the subcode is
// looked up before the code:
//
//	Graph                                        wire Code                          HTTP
//	subcode or code 2388091, 2388093             PhoneNumber.NotMigrating           400
//	subcode or code 2388012                      PhoneNumber.AlreadyExists          400
//	code 136024 (request_code failed)            VerifyCode.SendFailed              400
//	code 136025 (verify_code refused)            VerifyCode.Invalid                 400
//	code 133016 (register rate)                  PhoneNumber.RegisterTooFrequent    400
//	code 133010 (number not registered)          PhoneNumber.NotRegistered          400
//	code 4, 17, 80007, 130429, or HTTP 429       System.LimitControl                400
//	code 100 (invalid parameter)                 InvalidParameter                   400
//	any other code with HTTP 5xx or is_transient ServiceUnavailable                 503
//	no answer, past the deadline, breaker open   ServiceUnavailable                 503
//	any other Graph error (190 token, 200-299    InternalError                      500
//	  permissions, 133005 pin, 3xx/4xx without
//	  a Graph body, ...), a 2xx without the
//	  documented body, an empty argument
//
// The message carries Graph's code, subcode and fbtrace_id, for example
// "Graph error 136024 (subcode 2388091): <Graph's message> [fbtrace_id A1b2]", Graph's message
// clipped to 256 bytes. An InternalError message leaves Graph's message out: it describes
// camsd's own setup, which the CAMS client cannot fix; the caller logs the *Error instead.
package graph
