package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	// ErrUnavailable is wrapped by every error that means Graph gave no answer: no
	// connection, a reset, a timeout (then context.DeadlineExceeded is wrapped too), or the
	// breaker open.
	ErrUnavailable = errors.New("graph: upstream unavailable")
	// ErrBreakerOpen is returned, without a request, while the circuit breaker is open.
	ErrBreakerOpen = fmt.Errorf("%w: circuit breaker open", ErrUnavailable)
	// ErrUnexpectedAnswer is returned when Graph answers 2xx with a body that is not the
	// documented one ({"id":...} or {"success":true}): the call is not taken as accepted.
	ErrUnexpectedAnswer = errors.New("graph: unexpected answer")
)

// Error is an error answer from Graph: its body
// {"error":{"message","type","code","error_subcode","is_transient","error_user_msg",...,"fbtrace_id"}}
// and the HTTP status. An answer without such a body has Code 0 and a Message naming the
// status. Graph's strings are scrubbed of the client's token and clipped to maxText bytes.
type Error struct {
	Status      int    // HTTP status
	Code        int    // code
	Subcode     int    // error_subcode
	Type        string // type, e.g. "OAuthException"
	Message     string // message
	UserTitle   string // error_user_title
	UserMessage string // error_user_msg
	Details     string // error_data.details
	Transient   bool   // is_transient
	FBTraceID   string // fbtrace_id, for Meta's support

	// RetryAfter is the wait Graph asked for in a Retry-After header (delta-seconds), or 0.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: HTTP %d", e.Status)
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Subcode != 0 {
		fmt.Fprintf(&b, " subcode %d", e.Subcode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " (fbtrace_id %s)", e.FBTraceID)
	}
	return b.String()
}

// Throttled reports whether Graph refused the call for its rate: codes 4 (application), 17
// (user), 80007 (WhatsApp Business Account) and 130429 (Cloud API throughput), or HTTP 429.
func (e *Error) Throttled() bool {
	switch e.Code {
	case 4, 17, 80007, 130429:
		return true
	}
	return e.Status == http.StatusTooManyRequests
}

// maxRetryAfter bounds the wait taken from Graph's Retry-After header.
const maxRetryAfter = time.Hour

// parseRetryAfter reads a Retry-After header in delta-seconds (RFC 9110), at most
// maxRetryAfter; an HTTP-date, a negative number or anything else gives 0.
func parseRetryAfter(v string) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	if n > int64(maxRetryAfter/time.Second) {
		return maxRetryAfter
	}
	return time.Duration(n) * time.Second
}

// maxText bounds each string taken from an error body.
const maxText = 1024

// parseError reads Graph's error body, replacing token wherever Graph echoed it. It never
// fails: fields that are missing or of the wrong type are left zero, and a body that is not a
// Graph error gives an Error naming the status.
func parseError(status int, body []byte, token string) *Error {
	e := &Error{Status: status}
	var env struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		e.Message = fmt.Sprintf("HTTP %d %s without a Graph error body", status, http.StatusText(status))
		return e
	}
	f := env.Error
	e.Code = intField(f["code"])
	e.Subcode = intField(f["error_subcode"])
	e.Type = stringField(f["type"], token)
	e.Message = stringField(f["message"], token)
	e.UserTitle = stringField(f["error_user_title"], token)
	e.UserMessage = stringField(f["error_user_msg"], token)
	e.FBTraceID = stringField(f["fbtrace_id"], token)
	_ = json.Unmarshal(f["is_transient"], &e.Transient)
	var data struct {
		Details json.RawMessage `json:"details"`
	}
	if json.Unmarshal(f["error_data"], &data) == nil {
		e.Details = stringField(data.Details, token)
	}
	return e
}

// intField reads a JSON integer, or a string holding one; anything else is 0.
func intField(raw json.RawMessage) int {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0
		}
		n = json.Number(s)
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		return 0
	}
	return int(i)
}

// stringField reads a JSON string with token replaced, clipped to maxText bytes; anything
// else is "".
func stringField(raw json.RawMessage, token string) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	if token != "" {
		s = strings.ReplaceAll(s, token, "[token]")
	}
	return clip(s, maxText)
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
