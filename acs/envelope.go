package acs

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// Response headers and content types. The darabonba V3 client parses an error body as XML only
// when Content-Type is exactly contentTypeXML.
const (
	HeaderRequestID = "x-acs-request-id"
	contentTypeJSON = "application/json;charset=utf-8"
	contentTypeXML  = "text/xml;charset=utf-8"
	xmlDeclaration  = "<?xml version='1.0' encoding='UTF-8'?>"
)

// errorBody is the gateway's error envelope. AccessDeniedDetail is an object or absent, never
// a string: the old Go SDK type-asserts it to a map and panics on anything else.
type errorBody struct {
	XMLName            xml.Name                  `json:"-" xml:"Error"`
	RequestID          string                    `json:"RequestId" xml:"RequestId"`
	HostID             string                    `json:"HostId" xml:"HostId"`
	Code               string                    `json:"Code" xml:"Code"`
	Message            string                    `json:"Message" xml:"Message"`
	Recommend          string                    `json:"Recommend" xml:"Recommend"`
	AccessDeniedDetail *camsd.AccessDeniedDetail `json:"AccessDeniedDetail,omitempty" xml:"AccessDeniedDetail,omitempty"`
}

// WriteError writes err as the gateway's error envelope, JSON unless format is XML (in any
// case). Status and default message come from the catalogue. An err that is not a
// *camsd.Error becomes InternalError with the catalogue's message: its text never leaves the
// server, so the caller logs it with requestID. A positive RetryAfter is sent as Retry-After
// in whole seconds, rounded up (RFC 9110), and, on flow control only, as x-acs-retry-after in
// milliseconds, rounded up: see retryHeaders.
func WriteError(w http.ResponseWriter, format, requestID, hostID string, err error) {
	var e *camsd.Error
	if !errors.As(err, &e) || e.Code == "" {
		e = newError(camsd.CodeInternalError)
	}
	status := Status(e.Code)
	body := errorBody{
		RequestID:          requestID,
		HostID:             hostID,
		Code:               e.Code,
		Message:            e.Message,
		Recommend:          recommend(e.Code, requestID),
		AccessDeniedDetail: e.Denied,
	}
	if body.Message == "" {
		body.Message = Message(e.Code)
	}
	if body.Message == "" {
		body.Message = http.StatusText(status)
	}
	retryHeaders(w.Header(), e)
	b, ctype, merr := encode(format, "", body)
	if merr != nil { // not expected: errorBody holds only strings; JSON cannot fail on them
		b, ctype, _ = encode(FormatJSON, "", body)
	}
	write(w, status, ctype, requestID, b)
}

// WriteResult writes v (a struct with json and xml tags, whose RequestId is requestID) with
// HTTP 200: JSON, or for format XML the XML declaration and a <{action}Response> root element.
// If v cannot be encoded it writes InternalError instead.
func WriteResult(w http.ResponseWriter, format, action, requestID string, v any) {
	b, ctype, err := encode(format, action+"Response", v)
	if err != nil {
		WriteError(w, format, requestID, "", err)
		return
	}
	write(w, http.StatusOK, ctype, requestID, b)
}

// encode marshals v as JSON or XML; root names the XML root element ("" keeps v's XMLName).
func encode(format, root string, v any) ([]byte, string, error) {
	var buf bytes.Buffer
	if !strings.EqualFold(format, FormatXML) {
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, "", err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), contentTypeJSON, nil
	}
	buf.WriteString(xmlDeclaration)
	enc := xml.NewEncoder(&buf)
	var err error
	if root == "" {
		err = enc.Encode(v)
	} else {
		err = enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: root}})
	}
	if err != nil {
		return nil, "", err
	}
	return buf.Bytes(), contentTypeXML, nil
}

// canonicalRequestID is HeaderRequestID as net/http keys it.
var canonicalRequestID = http.CanonicalHeaderKey(HeaderRequestID)

func write(w http.ResponseWriter, status int, contentType, requestID string, body []byte) {
	// Canonical names, set directly: Header.Set would make the canonical form of
	// HeaderRequestID anew on every call.
	h := w.Header()
	h["Content-Type"] = []string{contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h[canonicalRequestID] = []string{requestID}
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client went away; nothing to do
}

func recommend(code, requestID string) string {
	return "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(code) +
		"&product=cams&requestId=" + url.QueryEscape(requestID)
}

// HeaderRetryAfterMS is the wait Alibaba Cloud's clients read on a throttled call, in
// milliseconds: the aliyun CLI sleeps that long before each of its (at most three) retries,
// and retries any error reply that carries it (openapi/throttling_retry.go), so it goes on
// flow-control refusals only. darabonba reads it into ThrottlingError.RetryAfter, for codes
// that contain "Throttling".
const HeaderRetryAfterMS = "x-acs-retry-after"

// retryHeaders sets the waits of a refusal that has one (e.RetryAfter > 0): Retry-After in
// whole seconds on every such refusal (flow control, and business refusals such as
// VerifyCode.SendTooFrequent), and x-acs-retry-after in milliseconds on System.LimitControl
// alone, so that a client that retries on it never repeats a business refusal.
func retryHeaders(h http.Header, e *camsd.Error) {
	if e.RetryAfter <= 0 {
		return
	}
	h["Retry-After"] = []string{strconv.FormatInt(ceilUnits(e.RetryAfter, time.Second), 10)}
	if e.Code == camsd.CodeSystemLimitControl {
		h[canonicalRetryAfterMS] = []string{strconv.FormatInt(ceilUnits(e.RetryAfter, time.Millisecond), 10)}
	}
}

var canonicalRetryAfterMS = http.CanonicalHeaderKey(HeaderRetryAfterMS)

// ceilUnits is d in whole units rounded up, at least 1: a client that waits what it is told
// is then never early.
func ceilUnits(d, unit time.Duration) int64 {
	n := int64(d / unit)
	if d%unit != 0 {
		n++
	}
	return max(n, 1)
}
