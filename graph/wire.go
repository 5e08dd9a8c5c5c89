package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// bySubcode and byCode map Graph's codes to wire codes. A subcode is more specific than its
// code (136024 with subcode 2388091 is "not migrating", not "send failed"), so it is looked up
// first; the 2388xxx values are looked up as codes too, for Graph puts them in either field.
var (
	bySubcode = map[int]string{
		2388091: camsd.CodePhoneNumberNotMigrating,
		2388093: camsd.CodePhoneNumberNotMigrating,
		2388012: camsd.CodePhoneNumberAlreadyExists,
	}
	byCode = map[int]string{
		2388091: camsd.CodePhoneNumberNotMigrating,
		2388093: camsd.CodePhoneNumberNotMigrating,
		2388012: camsd.CodePhoneNumberAlreadyExists,
		136024:  camsd.CodeVerifyCodeSendFailed,
		136025:  camsd.CodeVerifyCodeInvalid,
		133016:  camsd.CodePhoneNumberRegisterTooFreq,
		133010:  camsd.CodePhoneNumberNotRegistered,
		4:       camsd.CodeSystemLimitControl,
		17:      camsd.CodeSystemLimitControl,
		80007:   camsd.CodeSystemLimitControl,
		130429:  camsd.CodeSystemLimitControl,
		100:     camsd.CodeInvalidParameter,
	}
)

// maxWireText bounds Graph's message in a wire message.
const maxWireText = 256

// WireError turns an error of a Client call into the *camsd.Error the protocol layer writes;
// a *camsd.Error is returned as is, and nil gives a nil *camsd.Error, which must not be stored
// in an error variable unchecked (it would not compare equal to nil). The package comment has
// the table. Graph's
// code, subcode and fbtrace_id are in the message, and Graph's own message too, except for
// InternalError: those are errors of camsd's setup (token, permissions, WABA), which the
// caller should log from err and the CAMS client cannot act on.
func WireError(err error) *camsd.Error {
	if err == nil {
		return nil
	}
	var we *camsd.Error
	if errors.As(err, &we) {
		return we
	}
	var ge *Error
	if errors.As(err, &ge) {
		return graphWireError(ge)
	}
	switch {
	case errors.Is(err, ErrBreakerOpen):
		return camsd.Errorf(camsd.CodeServiceUnavailable, "Graph is unavailable: too many recent failures, calls are paused (circuit breaker open)")
	case errors.Is(err, context.DeadlineExceeded):
		return camsd.Errorf(camsd.CodeServiceUnavailable, "Graph did not answer in time")
	case errors.Is(err, context.Canceled):
		return camsd.Errorf(camsd.CodeServiceUnavailable, "the call to Graph was cancelled")
	case errors.Is(err, ErrUnavailable):
		return camsd.Errorf(camsd.CodeServiceUnavailable, "Graph is unreachable")
	case errors.Is(err, ErrUnexpectedAnswer):
		return camsd.Errorf(camsd.CodeInternalError, "Graph answered success without the expected body")
	}
	return camsd.Errorf(camsd.CodeInternalError, "the call to Graph failed")
}

func graphWireError(e *Error) *camsd.Error {
	code, ok := bySubcode[e.Subcode]
	if !ok {
		code, ok = byCode[e.Code]
	}
	if !ok {
		switch {
		case e.Throttled():
			code = camsd.CodeSystemLimitControl
		case e.Status >= 500 || e.Transient:
			code = camsd.CodeServiceUnavailable
		default:
			code = camsd.CodeInternalError
		}
	}

	var b strings.Builder
	if e.Code == 0 {
		fmt.Fprintf(&b, "Graph answered HTTP %d", e.Status)
	} else {
		fmt.Fprintf(&b, "Graph error %d", e.Code)
	}
	if e.Subcode != 0 {
		fmt.Fprintf(&b, " (subcode %d)", e.Subcode)
	}
	if e.Code != 0 && e.Message != "" && code != camsd.CodeInternalError {
		fmt.Fprintf(&b, ": %s", clip(e.Message, maxWireText))
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " [fbtrace_id %s]", clip(e.FBTraceID, 64))
	}
	we := &camsd.Error{Code: code, Message: b.String()}
	if code == camsd.CodeSystemLimitControl {
		// Graph rarely says when it will take calls again; its throttling limits run from
		// a second (throughput, 130429) to an hour (application calls, 4), so without a
		// Retry-After the caller is asked to wait the shortest of them.
		we.RetryAfter = e.RetryAfter
		if we.RetryAfter <= 0 {
			we.RetryAfter = throttledWait
		}
	}
	return we
}

// throttledWait is how long a caller is asked to wait after Graph throttled camsd, when Graph
// did not say.
const throttledWait = time.Second
