package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/graph/graphtest"
)

// TestWireError_graphErrors sends each Graph error through the fake server and a real call,
// then maps it.
func TestWireError_graphErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    graphtest.Fault
		wantCode string
		wantMsg  string // prefix of the wire message
		attempts int
	}{
		{"request_code failed", fail(400, 136024, 0, false, "Request code error"), camsd.CodeVerifyCodeSendFailed, "Graph error 136024: Request code error", 1},
		{"verify_code refused", fail(400, 136025, 0, false, "Verify code error"), camsd.CodeVerifyCodeInvalid, "Graph error 136025: Verify code error", 1},
		{"not migrating, subcode", fail(400, 136024, 2388091, false, "Not eligible"), camsd.CodePhoneNumberNotMigrating, "Graph error 136024 (subcode 2388091): Not eligible", 1},
		{"not migrating, 2388093", fail(400, 100, 2388093, false, "Not eligible"), camsd.CodePhoneNumberNotMigrating, "Graph error 100 (subcode 2388093): Not eligible", 1},
		{"not migrating, as code", fail(400, 2388091, 0, false, "Not eligible"), camsd.CodePhoneNumberNotMigrating, "Graph error 2388091: Not eligible", 1},
		{"already exists", fail(400, 100, 2388012, false, "Phone number already exists"), camsd.CodePhoneNumberAlreadyExists, "Graph error 100 (subcode 2388012): Phone number already exists", 1},
		{"already exists, as code", fail(400, 2388012, 0, false, "exists"), camsd.CodePhoneNumberAlreadyExists, "Graph error 2388012: exists", 1},
		{"register too often", fail(400, 133016, 0, false, "(#133016) Registration or deregistration failed"), camsd.CodePhoneNumberRegisterTooFreq, "Graph error 133016: (#133016)", 1},
		{"not registered", fail(400, 133010, 0, false, "Account not registered"), camsd.CodePhoneNumberNotRegistered, "Graph error 133010: Account not registered", 1},
		{"invalid parameter", fail(400, 100, 0, false, "(#100) Invalid parameter"), camsd.CodeInvalidParameter, "Graph error 100: (#100) Invalid parameter", 1},
		{"throttled 4", fail(400, 4, 0, false, "Application request limit reached"), camsd.CodeSystemLimitControl, "Graph error 4: Application request limit reached", 3},
		{"throttled 17", fail(400, 17, 0, false, "User request limit reached"), camsd.CodeSystemLimitControl, "Graph error 17:", 3},
		{"throttled 80007", fail(400, 80007, 0, false, "Rate limit issues"), camsd.CodeSystemLimitControl, "Graph error 80007:", 3},
		{"throttled 130429", fail(429, 130429, 0, false, "Rate limit hit"), camsd.CodeSystemLimitControl, "Graph error 130429:", 3},
		{"429 without a body", raw(429, "text/plain", "Too Many Requests"), camsd.CodeSystemLimitControl, "Graph answered HTTP 429", 3},
		{"5xx with a Graph body", fail(500, 2, 0, true, "Service temporarily unavailable"), camsd.CodeServiceUnavailable, "Graph error 2: Service temporarily unavailable", 3},
		{"registration unavailable", fail(503, 133004, 0, false, "Server temporarily unavailable"), camsd.CodeServiceUnavailable, "Graph error 133004: Server", 3},
		{"4xx transient", fail(400, 1, 0, true, "An unknown error occurred"), camsd.CodeServiceUnavailable, "Graph error 1: An unknown error occurred", 3},
		{"5xx without a body", raw(502, "text/html", "<html>Bad Gateway</html>"), camsd.CodeServiceUnavailable, "Graph answered HTTP 502", 3},
		{"token expired", fail(401, 190, 463, false, "Session has expired"), camsd.CodeInternalError, "Graph error 190 (subcode 463) [fbtrace_id " + graphtest.TraceID + "]", 1},
		{"permission", fail(403, 200, 0, false, "Permissions error"), camsd.CodeInternalError, "Graph error 200 [fbtrace_id", 1},
		{"pin mismatch", fail(400, 133005, 0, false, "Two step verification PIN Mismatch"), camsd.CodeInternalError, "Graph error 133005 [", 1},
		{"4xx without a body", raw(404, "text/html", "<html>Not Found</html>"), camsd.CodeInternalError, "Graph answered HTTP 404", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t)
			g.FailAll("verify_code", tt.fault)
			c, log := newTestClient(t, g)
			err := c.VerifyCode(t.Context(), testNumber, "123456")
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("err = %v, want a *graph.Error", err)
			}
			we := WireError(err)
			if we.Code != tt.wantCode {
				t.Errorf("code = %s, want %s (%v)", we.Code, tt.wantCode, err)
			}
			if !strings.HasPrefix(we.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to start %q", we.Message, tt.wantMsg)
			}
			if ge.Code != 0 && !strings.Contains(we.Message, "[fbtrace_id "+graphtest.TraceID+"]") {
				t.Errorf("message = %q, want Graph's fbtrace_id", we.Message)
			}
			if tt.wantCode == camsd.CodeInternalError && ge.Message != "" && strings.Contains(we.Message, ge.Message) {
				t.Errorf("message = %q carries Graph's text into an InternalError", we.Message)
			}
			if got := log.count(); got != tt.attempts {
				t.Errorf("attempts = %d, want %d", got, tt.attempts)
			}
		})
	}
}

func TestWireError_otherErrors(t *testing.T) {
	wire := camsd.Errorf(camsd.CodePhoneNumberNotFound, "no such number")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"breaker open", fmt.Errorf("graph: register: %w", ErrBreakerOpen), camsd.CodeServiceUnavailable},
		{"deadline", fmt.Errorf("graph: register: %w", unavailable(context.DeadlineExceeded)), camsd.CodeServiceUnavailable},
		{"cancelled", unavailable(context.Canceled), camsd.CodeServiceUnavailable},
		{"no connection", unavailable(errors.New("connection refused")), camsd.CodeServiceUnavailable},
		{"unexpected answer", fmt.Errorf("graph: verify_code: %w", ErrUnexpectedAnswer), camsd.CodeInternalError},
		{"wiring bug", errors.New("graph: register: empty pin"), camsd.CodeInternalError},
		{"already a wire error", fmt.Errorf("wrapped: %w", wire), camsd.CodePhoneNumberNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WireError(tt.err); got == nil || got.Code != tt.want {
				t.Errorf("WireError(%v) = %v, want code %s", tt.err, got, tt.want)
			}
		})
	}
	if WireError(nil) != nil {
		t.Error("WireError(nil) is not nil")
	}
	if WireError(wire) != wire {
		t.Error("a *camsd.Error is not returned as is")
	}
}

// Graph's message is clipped in the wire message, whole characters only.
func TestWireError_longMessage(t *testing.T) {
	e := &Error{Status: http.StatusBadRequest, Code: 136024, Message: strings.Repeat("é", 1000)}
	we := WireError(e)
	if len(we.Message) > 300 || !strings.HasPrefix(we.Message, "Graph error 136024: éé") {
		t.Errorf("message = %q (%d bytes), want Graph's clipped", we.Message, len(we.Message))
	}
	if strings.Contains(we.Message, "\uFFFD") || !strings.HasSuffix(we.Message, "é") {
		t.Errorf("message splits a character: %q", we.Message[len(we.Message)-4:])
	}
}

// A throttled call tells the caller how long to wait: what Graph asked for in Retry-After
// (delta-seconds, bounded), or a second when it did not say. Other refusals carry no wait.
func TestWireError_throttledWait(t *testing.T) {
	throttled := func(retryAfter string) graphtest.Fault {
		f := fail(http.StatusTooManyRequests, 130429, 0, false, "Rate limit hit")
		if retryAfter != "" {
			f.Header = http.Header{"Retry-After": {retryAfter}}
		}
		return f
	}
	tests := []struct {
		name  string
		fault graphtest.Fault
		want  time.Duration
	}{
		{"Retry-After in seconds", throttled("7"), 7 * time.Second},
		{"no Retry-After", throttled(""), time.Second},
		{"Retry-After as a date", throttled("Wed, 21 Oct 2015 07:28:00 GMT"), time.Second},
		{"Retry-After negative", throttled("-3"), time.Second},
		{"Retry-After beyond an hour", throttled("86400"), time.Hour},
		{"not throttled", fail(400, 136025, 0, false, "Verify code error"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t)
			g.FailAll("verify_code", tt.fault)
			c, _ := newTestClient(t, g)
			we := WireError(c.VerifyCode(t.Context(), testNumber, "123456"))
			if we.RetryAfter != tt.want {
				t.Errorf("%s: RetryAfter = %v, want %v", we.Code, we.RetryAfter, tt.want)
			}
		})
	}
}
