package camsd

import (
	"errors"
	"fmt"
	"time"
)

// Error is a failure that the caller is meant to see. Code is the wire Code (for example
// "PhoneNumber.NotFound"); the protocol layer (package acs) maps it to an HTTP status and an
// envelope. Any error that is not an *Error becomes InternalError and its text never leaves
// the server.
type Error struct {
	Code    string
	Message string

	// RetryAfter, when positive, is how long until the call would succeed: sent as
	// Retry-After in whole seconds rounded up, and on System.LimitControl also as
	// x-acs-retry-after in milliseconds, which Alibaba Cloud's clients retry on.
	RetryAfter time.Duration

	// Denied is set on Ram.PermissionDeny.
	Denied *AccessDeniedDetail
}

func (e *Error) Error() string {
	if e.Message == "" { // the catalogue's message goes on the wire
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the wire Code of err, or InternalError when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternalError
}

// AccessDeniedDetail explains a RAM denial. Field names are those of Alibaba Cloud's error
// bodies.
type AccessDeniedDetail struct {
	NoPermissionType         string // ImplicitDeny or ExplicitDeny
	PolicyType               string
	AuthAction               string
	AuthPrincipalType        string
	AuthPrincipalOwnerId     string
	AuthPrincipalDisplayName string
	EncodedDiagnosticMessage string
}

// Sentinel errors returned by adapters. They are not wire errors: the layer that calls an
// adapter decides which wire Code, if any, they become.
var (
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a conditional write lost to a concurrent or earlier one.
	ErrConflict = errors.New("conflict")
	// ErrNonceUsed: the nonce was already accepted for this AccessKey inside its window.
	ErrNonceUsed = errors.New("nonce used")
	// ErrNonceStoreFull: the AccessKey holds the maximum number of live nonces.
	ErrNonceStoreFull = errors.New("nonce store full")
	// ErrUnavailable: a service the adapter depends on (Redis, say) did not answer in time.
	// Callers fail closed: a nonce that cannot be checked is refused, 503.
	ErrUnavailable = errors.New("unavailable")
	// ErrNoMasterKey: the store was opened without a master key, so it seals nothing.
	ErrNoMasterKey = errors.New("no master key")
)

// CodeConflict is the ErrConflict of Store.SaveCode when the store can say what it lost to:
// Newest is when the newest code that did not fail was sent, which is what the resend
// interval runs from. errors.Is(err, ErrConflict) holds for it.
type CodeConflict struct {
	Newest time.Time
}

func (e *CodeConflict) Error() string        { return ErrConflict.Error() }
func (e *CodeConflict) Is(target error) bool { return target == ErrConflict }
