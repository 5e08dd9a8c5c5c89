package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
)

var sixDigits = regexp.MustCompile(`^\d{6}$`)

// TestGetMigrationVerifyCode_OfficialClients sends a code with each official client and
// finds it in the simulator's outbox.
func TestGetMigrationVerifyCode_OfficialClients(t *testing.T) {
	m := start(t, testConfig(t))
	numbers := map[string]string{"v3": "8613800001234", "v2": "8613800001235"}
	for _, alg := range []string{"v3", "v2"} {
		t.Run("darabonba "+alg, func(t *testing.T) {
			sig := ""
			if alg == "v2" {
				sig = "v2"
			}
			c := newClient(t, m, acmeKey, acmeSecret, sig)
			number := numbers[alg]
			res, err := call(c, actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms"))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if sc := fmt.Sprint(res["statusCode"]); sc != "200" {
				t.Errorf("statusCode = %v", sc)
			}
			body := res["body"].(map[string]any)
			if body["Code"] != "OK" || body["RequestId"] == "" {
				t.Errorf("body = %v", body)
			}
			data, _ := body["Data"].(map[string]any)
			if data["PhoneNumber"] != number || data["Id"] == "" {
				t.Errorf("Data = %v", data)
			}
			headers, _ := res["headers"].(map[string]any)
			if rid := headers["x-acs-request-id"]; rid == nil || rid != body["RequestId"] {
				t.Errorf("x-acs-request-id = %v, RequestId %v", rid, body["RequestId"])
			}
			msgs := simMessages(t, m, number)
			if len(msgs) != 1 {
				t.Fatalf("outbox for %s has %d messages, want 1", number, len(msgs))
			}
			got := msgs[0]
			if !sixDigits.MatchString(got.Code) || !strings.Contains(got.Text, got.Code) {
				t.Errorf("message = %+v: want a 6-digit code inside the text", got)
			}
			if got.Method != "sms" || got.Locale != "en_US" || got.PhoneNumber != number {
				t.Errorf("message = %+v", got)
			}
		})
	}
	for _, method := range []string{"GET", "POST"} {
		t.Run("alibaba-cloud-sdk-go CommonRequest "+method, func(t *testing.T) {
			number := map[string]string{"GET": "8613800001236", "POST": "8613800001237"}[method]
			resp, err := oldSDKCall(t, m, method, acmeKey, acmeSecret, map[string]string{
				"CustSpaceId": acmeSpace, "PhoneNumber": number, "Locale": "zh_CN", "Method": "VOICE",
			}, "")
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if resp.GetHttpStatus() != 200 || !strings.Contains(resp.GetHttpContentString(), `"Code":"OK"`) {
				t.Fatalf("reply %d %s", resp.GetHttpStatus(), resp.GetHttpContentString())
			}
			msgs := simMessages(t, m, number)
			if len(msgs) != 1 || msgs[0].Method != "voice" || msgs[0].Locale != "zh_CN" {
				t.Fatalf("outbox = %+v", msgs)
			}
		})
	}
}

func oldSDKCall(t *testing.T, m *Main, method, key, secret string, params map[string]string, format string) (*responses.CommonResponse, error) {
	t.Helper()
	c, err := sdk.NewClientWithOptions("ap-southeast-1", sdk.NewConfig(), credentials.NewAccessKeyCredential(key, secret))
	if err != nil {
		t.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method = method
	req.Scheme = "http"
	req.Domain = hostOf(m)
	req.Version = apiVersion
	req.ApiName = actionGetVC
	if format != "" {
		req.AcceptFormat = format
	}
	for k, v := range params {
		if method == "POST" {
			req.FormParams[k] = v
		} else {
			req.QueryParams[k] = v
		}
	}
	return c.ProcessCommonRequest(req)
}

// TestGetMigrationVerifyCode_XML asks for XML with the old SDK's V2 request.
func TestGetMigrationVerifyCode_XML(t *testing.T) {
	m := start(t, testConfig(t))
	resp, err := oldSDKCall(t, m, "GET", acmeKey, acmeSecret, verifyCodeQuery(acmeSpace, migrating, "id", "sms"), "XML")
	if err != nil {
		t.Fatal(err)
	}
	body := resp.GetHttpContentString()
	for _, want := range []string{"<GetMigrationVerifyCodeResponse>", "<Code>OK</Code>", "<PhoneNumber>" + migrating + "</PhoneNumber>", "<Id>" + migratingID + "</Id>"} {
		if !strings.Contains(body, want) {
			t.Errorf("XML reply lacks %s:\n%s", want, body)
		}
	}
	if got := simMessages(t, m, migrating); len(got) != 1 || got[0].Locale != "id" {
		t.Errorf("outbox = %+v", got)
	}
}

// sdkError is what the darabonba client reports for an error reply (a *tea.SDKError, read
// through its own fields: StatusCode, Code, Message, Data with the body, AccessDeniedDetail).
type sdkError struct {
	Status             int
	Code, Message      string
	RequestID          string
	AccessDeniedDetail map[string]any
	Body               map[string]any // the error body as the SDK kept it
}

func asSDKError(t *testing.T, err error) sdkError {
	t.Helper()
	var e *tea.SDKError
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not the SDK's error", err, err)
	}
	out := sdkError{
		Status:             tea.IntValue(e.StatusCode),
		Code:               tea.StringValue(e.Code),
		Message:            tea.StringValue(e.Message),
		AccessDeniedDetail: e.AccessDeniedDetail,
	}
	if err := json.Unmarshal([]byte(tea.StringValue(e.Data)), &out.Body); err != nil {
		t.Fatalf("SDK error Data is not the JSON body: %v", err)
	}
	out.RequestID, _ = out.Body["RequestId"].(string)
	return out
}
