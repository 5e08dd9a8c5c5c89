package acs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

const rid = "8F1A3B2C-4D5E-4F60-8172-93A4B5C6D7E8"

func TestWriteError(t *testing.T) {
	denied := &camsd.AccessDeniedDetail{
		NoPermissionType: "ImplicitDeny", PolicyType: "AccountLevelIdentityBasedPolicy",
		AuthAction: "cams:GetMigrationVerifyCode", AuthPrincipalType: "SubUser",
		AuthPrincipalOwnerId: "1234567890", AuthPrincipalDisplayName: "dev", EncodedDiagnosticMessage: "e30=",
	}
	recommend := func(code string) string {
		return "https://api.aliyun.com/troubleshoot?q=" + code + "&product=cams&requestId=" + rid
	}
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		wantJSON   map[string]any
		wantHeader http.Header
	}{
		{
			name: "catalogue message", err: &camsd.Error{Code: camsd.CodeInvalidVersion}, status: 400,
			wantJSON: map[string]any{"RequestId": rid, "HostId": "cams.test", "Code": "InvalidVersion",
				"Message": "Specified parameter Version is not valid.", "Recommend": recommend("InvalidVersion")},
		},
		{
			name: "own message, wrapped", err: fmt.Errorf("migration: %w", camsd.Errorf(camsd.CodePhoneNumberNotFound, "Number %s is not in space %s.", "861", "c1")), status: 400,
			wantJSON: map[string]any{"RequestId": rid, "HostId": "cams.test", "Code": "PhoneNumber.NotFound",
				"Message": "Number 861 is not in space c1.", "Recommend": recommend("PhoneNumber.NotFound")},
		},
		{
			name: "internal error hides its text", err: errors.New("pq: password authentication failed for user camsd"), status: 500,
			wantJSON: map[string]any{"RequestId": rid, "HostId": "cams.test", "Code": "InternalError",
				"Message": "The request processing has failed due to some unknown error, exception or failure.", "Recommend": recommend("InternalError")},
		},
		{
			name: "nil error is internal", err: nil, status: 500,
			wantJSON: map[string]any{"RequestId": rid, "HostId": "cams.test", "Code": "InternalError",
				"Message": "The request processing has failed due to some unknown error, exception or failure.", "Recommend": recommend("InternalError")},
		},
		{
			name: "access denied detail is an object", err: &camsd.Error{Code: camsd.CodeRAMPermissionDeny, Denied: denied}, status: 400,
			wantJSON: map[string]any{"RequestId": rid, "HostId": "cams.test", "Code": "Ram.PermissionDeny",
				"Message": "You are not authorized to perform the operation.", "Recommend": recommend("Ram.PermissionDeny"),
				"AccessDeniedDetail": map[string]any{
					"NoPermissionType": "ImplicitDeny", "PolicyType": "AccountLevelIdentityBasedPolicy",
					"AuthAction": "cams:GetMigrationVerifyCode", "AuthPrincipalType": "SubUser",
					"AuthPrincipalOwnerId": "1234567890", "AuthPrincipalDisplayName": "dev", "EncodedDiagnosticMessage": "e30=",
				}},
		},
		{
			name: "retry after", err: &camsd.Error{Code: camsd.CodeSystemLimitControl, RetryAfter: 1500 * time.Millisecond}, status: 400,
			wantJSON: map[string]any{"RequestId": rid, "HostId": "cams.test", "Code": "System.LimitControl",
				"Message": "The system is under flow control.", "Recommend": recommend("System.LimitControl")},
			wantHeader: http.Header{"Retry-After": {"2"}, "X-Acs-Retry-After": {"1500"}},
		},
		{
			name: "not found is 404", err: &camsd.Error{Code: camsd.CodeInvalidAccessKeyIDNotFound}, status: 404,
			wantJSON: map[string]any{"RequestId": rid, "HostId": "cams.test", "Code": "InvalidAccessKeyId.NotFound",
				"Message": "Specified access key is not found.", "Recommend": recommend("InvalidAccessKeyId.NotFound")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, "json", rid, "cams.test", tc.err)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			var got map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if diff := cmp.Diff(tc.wantJSON, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			want := http.Header{
				"Content-Type":     {"application/json;charset=utf-8"},
				"Content-Length":   {fmt.Sprint(w.Body.Len())},
				"X-Acs-Request-Id": {rid},
			}
			for k, v := range tc.wantHeader {
				want[k] = v
			}
			if diff := cmp.Diff(want, w.Header()); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteError_xml(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{
			name: "plain",
			err:  &camsd.Error{Code: camsd.CodeInvalidVersion},
			want: `<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>` + rid + `</RequestId><HostId>cams.test</HostId>` +
				`<Code>InvalidVersion</Code><Message>Specified parameter Version is not valid.</Message>` +
				`<Recommend>https://api.aliyun.com/troubleshoot?q=InvalidVersion&amp;product=cams&amp;requestId=` + rid + `</Recommend></Error>`,
		},
		{
			name: "string to sign is escaped",
			err:  signatureMismatch("GET&%2F&a%3D<b>"),
			want: `<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>` + rid + `</RequestId><HostId>cams.test</HostId>` +
				`<Code>SignatureDoesNotMatch</Code><Message>Specified signature is not matched with our calculation. server string to sign is:GET&amp;%2F&amp;a%3D&lt;b&gt;</Message>` +
				`<Recommend>https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&amp;product=cams&amp;requestId=` + rid + `</Recommend></Error>`,
		},
		{
			name: "access denied detail",
			err:  &camsd.Error{Code: camsd.CodeRAMPermissionDeny, Denied: &camsd.AccessDeniedDetail{NoPermissionType: "ExplicitDeny", AuthAction: "cams:X"}},
			want: `<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>` + rid + `</RequestId><HostId>cams.test</HostId>` +
				`<Code>Ram.PermissionDeny</Code><Message>You are not authorized to perform the operation.</Message>` +
				`<Recommend>https://api.aliyun.com/troubleshoot?q=Ram.PermissionDeny&amp;product=cams&amp;requestId=` + rid + `</Recommend>` +
				`<AccessDeniedDetail><NoPermissionType>ExplicitDeny</NoPermissionType><PolicyType></PolicyType><AuthAction>cams:X</AuthAction>` +
				`<AuthPrincipalType></AuthPrincipalType><AuthPrincipalOwnerId></AuthPrincipalOwnerId><AuthPrincipalDisplayName></AuthPrincipalDisplayName>` +
				`<EncodedDiagnosticMessage></EncodedDiagnosticMessage></AccessDeniedDetail></Error>`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, "xml", rid, "cams.test", tc.err)
			if diff := cmp.Diff(tc.want, w.Body.String()); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if got := w.Header().Get("Content-Type"); got != "text/xml;charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := w.Header().Get("x-acs-request-id"); got != rid {
				t.Errorf("x-acs-request-id %q", got)
			}
		})
	}
}

func TestWriteError_retryAfter(t *testing.T) {
	const limited, resend = camsd.CodeSystemLimitControl, camsd.CodeVerifyCodeSendTooFreq
	for _, tc := range []struct {
		code    string
		d       time.Duration
		seconds string // Retry-After; "" for no header
		ms      string // x-acs-retry-after; "" for no header
	}{
		{limited, 0, "", ""},
		{limited, -time.Second, "", ""},
		{limited, time.Nanosecond, "1", "1"},
		{limited, time.Millisecond, "1", "1"},
		{limited, time.Millisecond + time.Microsecond, "1", "2"},
		{limited, 250 * time.Millisecond, "1", "250"},
		{limited, 999 * time.Millisecond, "1", "999"},
		{limited, time.Second, "1", "1000"},
		{limited, time.Second + time.Nanosecond, "2", "1001"},
		{limited, 90 * time.Second, "90", "90000"},
		// Business refusals: the seconds only, so that a client retrying on
		// x-acs-retry-after does not repeat them.
		{resend, 45 * time.Second, "45", ""},
		{camsd.CodePhoneNumberRegisterTooFreq, 90 * time.Minute, "5400", ""},
		{resend, 0, "", ""},
	} {
		w := httptest.NewRecorder()
		WriteError(w, "JSON", rid, "h", &camsd.Error{Code: tc.code, RetryAfter: tc.d})
		_, hasMS := w.Header()["X-Acs-Retry-After"]
		if a, b := w.Header().Get("Retry-After"), w.Header().Get("x-acs-retry-after"); a != tc.seconds || b != tc.ms || hasMS != (tc.ms != "") {
			t.Errorf("%s RetryAfter %v: Retry-After %q, x-acs-retry-after %q; want %q, %q", tc.code, tc.d, a, b, tc.seconds, tc.ms)
		}
	}
}

type result struct {
	RequestID          string `json:"RequestId" xml:"RequestId"`
	Code               string `json:"Code" xml:"Code"`
	Message            string `json:"Message" xml:"Message"`
	AccessDeniedDetail string `json:"AccessDeniedDetail" xml:"AccessDeniedDetail"`
	Data               struct {
		Status string `json:"Status" xml:"Status"`
	} `json:"Data" xml:"Data"`
}

func TestWriteResult(t *testing.T) {
	v := result{RequestID: rid, Code: "OK", Message: "OK", AccessDeniedDetail: "None"}
	v.Data.Status = "Sent & <done>"
	for _, tc := range []struct {
		format, want, ctype string
	}{
		{"JSON", `{"RequestId":"` + rid + `","Code":"OK","Message":"OK","AccessDeniedDetail":"None","Data":{"Status":"Sent & <done>"}}`, "application/json;charset=utf-8"},
		{"", `{"RequestId":"` + rid + `","Code":"OK","Message":"OK","AccessDeniedDetail":"None","Data":{"Status":"Sent & <done>"}}`, "application/json;charset=utf-8"},
		{"Xml", `<?xml version='1.0' encoding='UTF-8'?><GetMigrationVerifyCodeResponse><RequestId>` + rid + `</RequestId><Code>OK</Code>` +
			`<Message>OK</Message><AccessDeniedDetail>None</AccessDeniedDetail><Data><Status>Sent &amp; &lt;done&gt;</Status></Data></GetMigrationVerifyCodeResponse>`,
			"text/xml;charset=utf-8"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteResult(w, tc.format, testAction, rid, v)
			if w.Code != 200 {
				t.Errorf("status %d", w.Code)
			}
			if diff := cmp.Diff(tc.want, w.Body.String()); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			want := http.Header{"Content-Type": {tc.ctype}, "Content-Length": {fmt.Sprint(len(tc.want))}, "X-Acs-Request-Id": {rid}}
			if diff := cmp.Diff(want, w.Header()); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteResult_notEncodable(t *testing.T) {
	w := httptest.NewRecorder()
	WriteResult(w, "JSON", testAction, rid, map[string]any{"c": make(chan int)})
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"Code":"InternalError"`) || w.Header().Get("x-acs-request-id") != rid {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

func TestNewRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !re.MatchString(id) {
			t.Fatalf("NewRequestID() = %q, not an upper-case v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID() repeated %q", id)
		}
		seen[id] = true
	}
}
