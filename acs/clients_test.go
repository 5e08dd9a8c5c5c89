package acs

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	aliyun "github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	aliyunerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/camsd/camsd"
)

// The unmodified official clients call a server made of this package: a request they sign is
// accepted, a wrong secret is told apart from a signer bug, and they parse its error bodies.

const denyAction = "DenyMe" // authenticates, then answers Ram.PermissionDeny

type okBody struct {
	RequestID          string `json:"RequestId" xml:"RequestId"`
	Code               string `json:"Code" xml:"Code"`
	Message            string `json:"Message" xml:"Message"`
	AccessDeniedDetail string `json:"AccessDeniedDetail" xml:"AccessDeniedDetail"`
	Params             string `json:"Params" xml:"Params"`
}

func newTestServer(t *testing.T) string {
	a := &Authenticator{
		Versions: map[string]bool{testVersion: true},
		Actions:  func(_, s string) bool { return s == testAction || s == denyAction },
		Keys:     keys{testKeyID: camsd.KeyActive},
		Nonces:   &nonces{},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := NewRequestID()
		body, _ := io.ReadAll(r.Body)
		req, err := ParseRequest(r, body)
		if err != nil {
			WriteError(w, FormatJSON, id, r.Host, err)
			return
		}
		if _, err := a.Authenticate(r.Context(), nil, req); err != nil {
			WriteError(w, req.Format, id, req.Host, err)
			return
		}
		if req.Action == denyAction {
			WriteError(w, req.Format, id, req.Host, &camsd.Error{Code: camsd.CodeRAMPermissionDeny,
				Denied: &camsd.AccessDeniedDetail{NoPermissionType: "ImplicitDeny", AuthAction: "cams:" + denyAction}})
			return
		}
		WriteResult(w, req.Format, req.Action, id, okBody{RequestID: id, Code: "OK", Message: "OK", AccessDeniedDetail: "None",
			Params: req.Params.Get("Remark")})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestOfficialClients_darabonba(t *testing.T) {
	endpoint := newTestServer(t)
	for _, alg := range []string{"", "v2"} { // "": ACS3-HMAC-SHA256
		call := func(t *testing.T, secret, action, method string) (map[string]any, error) {
			cfg := &openapiutil.Config{
				AccessKeyId: dara.String(testKeyID), AccessKeySecret: dara.String(secret),
				Endpoint: dara.String(endpoint), Protocol: dara.String("HTTP"),
			}
			if alg != "" {
				cfg.SignatureAlgorithm = dara.String(alg)
			}
			c, err := openapi.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c.DisableSDKError = dara.Bool(true)
			params := &openapiutil.Params{
				Action: dara.String(action), Version: dara.String(testVersion), Protocol: dara.String("HTTP"),
				Pathname: dara.String("/"), Method: dara.String(method), AuthType: dara.String("AK"),
				Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
			}
			req := &openapiutil.OpenApiRequest{
				Query: map[string]*string{"CustSpaceId": dara.String("cams-abc"), "Note": dara.String("a b*c~d+e/f=g&h%i中文"), "Empty": dara.String("")},
			}
			if method == "POST" {
				req.Body = map[string]any{"Remark": "x y+z*", "PhoneNumber": "8613800001234"}
			}
			return c.CallApi(params, req, &dara.RuntimeOptions{})
		}
		name := map[string]string{"": "V3", "v2": "V2"}[alg]
		t.Run(name+" accepted", func(t *testing.T) {
			for _, method := range []string{"POST", "GET"} {
				res, err := call(t, testSecret, testAction, method)
				if err != nil {
					t.Fatalf("%s: %v", method, err)
				}
				body := res["body"].(map[string]any)
				headers := res["headers"].(map[string]any)
				if body["RequestId"] != headers["x-acs-request-id"] || body["Code"] != "OK" {
					t.Errorf("%s: body %v headers %v", method, body, headers)
				}
				if want := map[string]any{"POST": "x y+z*", "GET": ""}[method]; body["Params"] != want {
					t.Errorf("%s: Remark %q, want %q", method, body["Params"], want)
				}
			}
		})
		t.Run(name+" wrong secret", func(t *testing.T) {
			_, err := call(t, "wrong", testAction, "POST")
			var ce *openapi.ClientError
			if !errors.As(err, &ce) || dara.StringValue(ce.Code) != "SignatureDoesNotMatch" || dara.IntValue(ce.StatusCode) != 400 ||
				!strings.Contains(dara.StringValue(ce.Message), "server string to sign is:") {
				t.Errorf("got %#v", err)
			}
		})
		t.Run(name+" access denied detail", func(t *testing.T) {
			_, err := call(t, testSecret, denyAction, "POST")
			var ce *openapi.ClientError
			if !errors.As(err, &ce) || dara.StringValue(ce.Code) != "Ram.PermissionDeny" || ce.AccessDeniedDetail["AuthAction"] != "cams:"+denyAction {
				t.Errorf("got %#v", err)
			}
		})
	}
}

func TestOfficialClients_oldSDK(t *testing.T) {
	endpoint := newTestServer(t)
	call := func(t *testing.T, secret, action, format string) (int, error) {
		c, err := aliyun.NewClientWithOptions("ap-southeast-1", aliyun.NewConfig(), credentials.NewAccessKeyCredential(testKeyID, secret))
		if err != nil {
			t.Fatal(err)
		}
		req := requests.NewCommonRequest()
		req.Method = "POST"
		req.Scheme = "http"
		req.Domain = endpoint
		req.Version = testVersion
		req.ApiName = action
		req.SetConnectTimeout(5 * time.Second)
		req.SetReadTimeout(5 * time.Second)
		if format != "" {
			req.AcceptFormat = format
		}
		req.QueryParams["CustSpaceId"] = "cams-abc"
		req.QueryParams["Note"] = "x y*z~"
		req.FormParams["Remark"] = "中文 +1"
		res, err := c.ProcessCommonRequest(req)
		if err != nil {
			return 0, err
		}
		return res.GetHttpStatus(), nil
	}
	t.Run("accepted", func(t *testing.T) {
		for _, format := range []string{"", "XML"} {
			if status, err := call(t, testSecret, testAction, format); err != nil || status != 200 {
				t.Errorf("format %q: %d %v", format, status, err)
			}
		}
	})
	t.Run("wrong secret is told apart from a signer bug", func(t *testing.T) {
		_, err := call(t, "wrong", testAction, "")
		var se *aliyunerrors.ServerError
		// The SDK compares the server's string to sign with its own: equal means a wrong secret.
		if !errors.As(err, &se) || se.ErrorCode() != "SignatureDoesNotMatch" || se.HttpStatus() != 400 ||
			se.Recommend() != "InvalidAccessKeySecret: Please check you AccessKeySecret" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("access denied detail does not panic the SDK", func(t *testing.T) {
		_, err := call(t, testSecret, denyAction, "")
		var se *aliyunerrors.ServerError
		if !errors.As(err, &se) || se.ErrorCode() != "Ram.PermissionDeny" || se.RequestId() == "" {
			t.Errorf("got %v", err)
		}
	})
}
