package acs

import (
	"net/http"
	"strconv"
	"strings"
)

// Headers Alibaba Cloud's clients send when they repeat a call: the aliyun CLI after a
// throttled reply (openapi/throttling_retry.go, the delay in milliseconds), darabonba with
// RetryOptions (openapi utils ApplyRetryHeaders, the delay in its backoff's unit).
const (
	HeaderRetryAttempts = "x-acs-retry-attempts"
	HeaderRetryDelay    = "x-acs-retry-delay"
)

// Retry is what a client says of a repeated call.
type Retry struct {
	Attempt int   // 1 for the first retry, 2 for the second, ...; 0: not a retry
	Delay   int64 // how long the client waited before it, in the client's unit; -1: not said
}

// maxRetryAttempt bounds the attempt number believed: clients retry a few times, and a
// metric or log line should not carry whatever a caller typed.
const maxRetryAttempt = 1000

// ParseRetry reads a request's retry headers. A value that is not a non-negative integer is
// ignored (a caller's bad header is no reason to refuse its call); an attempt over
// maxRetryAttempt is taken as maxRetryAttempt.
func ParseRetry(h http.Header) Retry {
	r := Retry{Delay: -1}
	if n, ok := headerInt(h, HeaderRetryAttempts); ok {
		r.Attempt = int(min(n, maxRetryAttempt))
	}
	if n, ok := headerInt(h, HeaderRetryDelay); ok {
		r.Delay = n
	}
	return r
}

func headerInt(h http.Header, name string) (int64, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
