package main

import (
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

// Keys and roles of testdata/sts-seed.yaml.
const (
	stsRootKey        = "LTAI5tStsAcmeRoot00001"
	stsRootSecret     = "stsAcmeRootSecret000000000001"
	stsAssumerKey     = "LTAI5tStsAssumer000001"
	stsAssumerSecret  = "stsAssumerSecret0000000000001"
	stsNoPermKey      = "LTAI5tStsNoPerm0000001"
	stsNoPermSecret   = "stsNoPermSecret00000000000001"
	stsStrangerKey    = "LTAI5tStsStranger00001"
	stsStrangerSecret = "stsStrangerSecret000000000001"
	stsOtherKey       = "LTAI5tStsOtherRoot0001"
	stsOtherSecret    = "stsOtherRootSecret00000000001"
	operatorARN       = "acs:ram::1000000000000001:role/cams-operator"
	forAssumerARN     = "acs:ram::1000000000000001:role/for-assumer"
	stsVersion        = "2015-04-01"
)

// stsConfig runs camsd on testdata/sts-seed.yaml. Flow control would refuse the tests' bursts
// of AssumeRole (one account, more than 10 a second); the skew allowed is an hour, so that
// the server's clock can pass a token's Expiration while the client signs with its own.
func stsConfig(t *testing.T) ServeConfig {
	return stsSeeded(testConfig(t))
}

func stsSeeded(cfg ServeConfig) ServeConfig {
	cfg.Seed = "testdata/sts-seed.yaml"
	cfg.QPS = 1000
	cfg.MaxSkew = time.Hour
	return cfg
}

// tempCreds is what AssumeRole returned.
type tempCreds struct{ id, secret, token, expiration string }

// stsClient is the darabonba client on temporary credentials, given as its Config documents
// them (SecurityToken); alg "" is V3, "v2" HMAC-SHA1.
func stsClient(t *testing.T, m *Main, c tempCreds, alg string) *openapi.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(c.id),
		AccessKeySecret: dara.String(c.secret),
		SecurityToken:   dara.String(c.token),
		Endpoint:        dara.String(hostOf(m)),
		Protocol:        dara.String("http"),
		HttpClient:      sdkHTTP{},
	}
	if alg != "" {
		cfg.SignatureAlgorithm = dara.String(alg)
	}
	cl, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// callSTS makes an RPC call to STS as its generated SDK does (sts-20150401: POST, formData,
// version 2015-04-01), through the generic client.
func callSTS(c *openapi.Client, action, version string, query map[string]string) (map[string]any, error) {
	q := map[string]*string{}
	for k, v := range query {
		q[k] = dara.String(v)
	}
	p := rpcParams(action)
	p.Version = dara.String(version)
	return c.CallApi(p, &openapi.OpenApiRequest{Query: q}, &dara.RuntimeOptions{})
}

func assumeRole(t *testing.T, c *openapi.Client, query map[string]string) tempCreds {
	t.Helper()
	res, err := callSTS(c, "AssumeRole", stsVersion, query)
	if err != nil {
		t.Fatalf("AssumeRole %v: %v", query, err)
	}
	body := res["body"].(map[string]any)
	cr, _ := body["Credentials"].(map[string]any)
	if cr == nil || body["RequestId"] == "" || body["AssumedRoleUser"] == nil {
		t.Fatalf("AssumeRole: body = %v", body)
	}
	return tempCreds{id: cr["AccessKeyId"].(string), secret: cr["AccessKeySecret"].(string),
		token: cr["SecurityToken"].(string), expiration: cr["Expiration"].(string)}
}

func stsCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return "OK"
	}
	return asSDKError(t, err).Code
}

// TestSTS_EndToEnd: the account's own key assumes a role with the generic client (STS version
// 2015-04-01 on camsd's endpoint); the temporary credentials then call cams with both
// signatures, carrying the token as the client's Config sends it; the reply has the SDK's
// fields, the session's ARN and the expiry the server's clock says; and each store keeps the
// role and the signing key alike.
func TestSTS_EndToEnd(t *testing.T) {
	for _, mode := range storeModes() {
		t.Run(mode.name, func(t *testing.T) {
			cfg := stsSeeded(mode.config(t))
			clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
			expiration := clk.Now().Add(1800 * time.Second).Format("2006-01-02T15:04:05Z")
			m := startAt(t, cfg, clk.Now)
			root := newClient(t, m, stsRootKey, stsRootSecret, "")

			res, err := callSTS(root, "AssumeRole", stsVersion, map[string]string{
				"RoleArn": operatorARN, "RoleSessionName": "alice", "DurationSeconds": "1800",
			})
			if err != nil {
				t.Fatal(err)
			}
			body := res["body"].(map[string]any)
			cr := body["Credentials"].(map[string]any)
			user := body["AssumedRoleUser"].(map[string]any)
			if id, _ := cr["AccessKeyId"].(string); !strings.HasPrefix(id, "STS.") || cr["AccessKeySecret"] == "" || cr["SecurityToken"] == "" {
				t.Errorf("Credentials = %v", cr)
			}
			if cr["Expiration"] != expiration {
				t.Errorf("Expiration = %v; want %s (the server's clock + 1800 s)", cr["Expiration"], expiration)
			}
			if user["Arn"] != "acs:ram::1000000000000001:assumed-role/cams-operator/alice" || user["AssumedRoleId"] != "cams-operator:alice" {
				t.Errorf("AssumedRoleUser = %v", user)
			}
			if _, ok := body["Code"]; ok {
				t.Errorf("AssumeRole's body has Code, which STS's has not: %v", body)
			}
			creds := tempCreds{id: cr["AccessKeyId"].(string), secret: cr["AccessKeySecret"].(string), token: cr["SecurityToken"].(string)}
			for _, alg := range []string{"", "v2"} {
				c := stsClient(t, m, creds, alg)
				okBody(t, c, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace})
			}
			okBody(t, stsClient(t, m, creds, ""), actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))

			clk.Add(1800 * time.Second)
			_, err = call(stsClient(t, m, creds, "v2"), "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace})
			if got := stsCode(t, err); got != "InvalidSecurityToken.Expired" {
				t.Errorf("at Expiration: %s; want InvalidSecurityToken.Expired", got)
			}
		})
	}
}

// TestSTS_TokenChecks: every way a call's token can be wrong answers its code, with either
// signature, before the action runs; a token on a long-term key is refused, not ignored.
func TestSTS_TokenChecks(t *testing.T) {
	clk := &clock{now: time.Now()}
	m := startAt(t, stsConfig(t), clk.Now)
	root := newClient(t, m, stsRootKey, stsRootSecret, "")
	a := assumeRole(t, root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "a-session"})
	b := assumeRole(t, root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "b-session"})
	short := assumeRole(t, root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "short", "DurationSeconds": "900"})
	elsewhere := assumeRole(t, newClient(t, start(t, stsConfig(t)), stsRootKey, stsRootSecret, ""),
		map[string]string{"RoleArn": operatorARN, "RoleSessionName": "elsewhere"})
	clk.Add(901 * time.Second)

	query := map[string]string{"CustSpaceId": acmeSpace}
	tests := []struct {
		name  string
		creds tempCreds
		want  string
	}{
		{"the token", a, "OK"},
		{"no token", tempCreds{id: a.id, secret: a.secret}, "MissingSecurityToken"},
		{"not a token", tempCreds{id: a.id, secret: a.secret, token: "not-a-token"}, "InvalidSecurityToken.Malformed"},
		{"a token cut short", tempCreds{id: a.id, secret: a.secret, token: a.token[:len(a.token)-2]}, "InvalidSecurityToken.Malformed"},
		{"another session's token", tempCreds{id: a.id, secret: a.secret, token: b.token}, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"another server's token", elsewhere, "InvalidSecurityToken.Malformed"},
		{"an expired token", short, "InvalidSecurityToken.Expired"},
		{"a wrong secret", tempCreds{id: a.id, secret: b.secret, token: a.token}, "SignatureDoesNotMatch"},
		{"a token on a long-term key", tempCreds{id: stsRootKey, secret: stsRootSecret, token: a.token}, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"an unknown STS key without a token", tempCreds{id: "STS.unknown", secret: "x"}, "MissingSecurityToken"},
	}
	for _, tt := range tests {
		for _, alg := range []string{"", "v2"} {
			t.Run(tt.name+"/"+map[string]string{"": "v3", "v2": "v2"}[alg], func(t *testing.T) {
				c := newClient(t, m, tt.creds.id, tt.creds.secret, alg)
				if tt.creds.token != "" {
					c = stsClient(t, m, tt.creds, alg)
				}
				_, err := call(c, "QueryChatappPhoneNumbers", query)
				if got := stsCode(t, err); got != tt.want {
					t.Errorf("code = %s; want %s", got, tt.want)
				}
				if err != nil && asSDKError(t, err).Status != 400 {
					t.Errorf("status = %d; want 400", asSDKError(t, err).Status)
				}
			})
		}
	}
}

// TestSTS_SessionPolicy: a session is allowed what both its role's policies and its session
// policy allow; a denial names the AssumedRoleUser and which policies denied.
func TestSTS_SessionPolicy(t *testing.T) {
	m := start(t, stsConfig(t))
	root := newClient(t, m, stsRootKey, stsRootSecret, "")
	assumer := newClient(t, m, stsAssumerKey, stsAssumerSecret, "v2")
	narrow := assumeRole(t, root, map[string]string{
		"RoleArn": operatorARN, "RoleSessionName": "narrow",
		"Policy": `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:QueryChatappPhoneNumbers","Resource":"*"}]}`,
	})
	widened := assumeRole(t, assumer, map[string]string{
		"RoleArn": forAssumerARN, "RoleSessionName": "widened",
		"Policy": `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*"}]}`,
	})
	query := map[string]string{"CustSpaceId": acmeSpace}
	okBody(t, stsClient(t, m, narrow, ""), "QueryChatappPhoneNumbers", query)
	okBody(t, stsClient(t, m, widened, "v2"), actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))

	tests := []struct {
		name, display, policyType string
		creds                     tempCreds
		action                    string
		query                     map[string]string
	}{
		{"the session policy narrows the role's", "cams-operator:narrow", "AssumeRolePolicy", narrow, actionGetVC, verifyCodeQuery(acmeSpace, connected, "en_US", "sms")},
		{"the session policy cannot widen the role's", "for-assumer:widened", "AccountLevelIdentityBasedPolicy", widened, "QueryChatappPhoneNumbers", query},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(stsClient(t, m, tt.creds, ""), tt.action, tt.query)
			e := asSDKError(t, err)
			d := e.AccessDeniedDetail
			if e.Code != "Ram.PermissionDeny" || d["AuthPrincipalType"] != "AssumedRoleUser" ||
				d["AuthPrincipalDisplayName"] != tt.display || d["PolicyType"] != tt.policyType ||
				d["AuthPrincipalOwnerId"] != acmeUID || d["AuthAction"] != "cams:"+tt.action {
				t.Errorf("%s: %s, AccessDeniedDetail %v", tt.action, e.Code, d)
			}
		})
	}
}

// TestSTS_AssumeRoleRefusals: who may assume which role (the trust policy, and a RAM user's
// own sts:AssumeRole), and AssumeRole's parameters, each with STS's code and status.
func TestSTS_AssumeRoleRefusals(t *testing.T) {
	m := start(t, stsConfig(t))
	root := newClient(t, m, stsRootKey, stsRootSecret, "")
	assumer := newClient(t, m, stsAssumerKey, stsAssumerSecret, "")
	t.Run("a RAM user with sts:AssumeRole whom the trust policy names", func(t *testing.T) {
		for _, arn := range []string{operatorARN, forAssumerARN} {
			assumeRole(t, assumer, map[string]string{"RoleArn": arn, "RoleSessionName": "by-assumer"})
		}
	})
	temp := assumeRole(t, root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "chain"})
	tests := []struct {
		name   string
		c      *openapi.Client
		query  map[string]string
		code   string
		status int
	}{
		{"no RoleArn", root, map[string]string{"RoleSessionName": "s1"}, "MissingRoleArn", 400},
		{"no RoleSessionName", root, map[string]string{"RoleArn": operatorARN}, "MissingRoleSessionName", 400},
		{"RoleArn not an ARN", root, map[string]string{"RoleArn": "cams-operator", "RoleSessionName": "s1"}, "InvalidParameter.RoleArn", 400},
		{"RoleSessionName of one character", root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "a"}, "InvalidParameter.RoleSessionName", 400},
		{"RoleSessionName with a space", root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "a b"}, "InvalidParameter.RoleSessionName", 400},
		{"DurationSeconds under 900", root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1", "DurationSeconds": "899"}, "InvalidParameter.DurationSeconds", 400},
		{"DurationSeconds over the role's maximum", root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1", "DurationSeconds": "7201"}, "InvalidParameter.DurationSeconds", 400},
		{"DurationSeconds over 3600 on a role that says nothing", assumer, map[string]string{"RoleArn": forAssumerARN, "RoleSessionName": "s1", "DurationSeconds": "3601"}, "InvalidParameter.DurationSeconds", 400},
		{"a Policy that does not parse", root, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1", "Policy": "{"}, "InvalidParameter.PolicyGrammar", 400},
		{"a role that does not exist", root, map[string]string{"RoleArn": "acs:ram::1000000000000001:role/nobody", "RoleSessionName": "s1"}, "EntityNotExist.Role", 404},
		{"a RAM user without sts:AssumeRole", newClient(t, m, stsNoPermKey, stsNoPermSecret, ""), map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1"}, "NoPermission", 403},
		{"a RAM user the trust policy does not name", newClient(t, m, stsStrangerKey, stsStrangerSecret, "v2"), map[string]string{"RoleArn": forAssumerARN, "RoleSessionName": "s1"}, "NoPermission", 403},
		{"the account's key where the trust policy names a user", root, map[string]string{"RoleArn": forAssumerARN, "RoleSessionName": "s1"}, "NoPermission", 403},
		{"another account", newClient(t, m, stsOtherKey, stsOtherSecret, ""), map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1"}, "NoPermission", 403},
		{"temporary credentials", stsClient(t, m, temp, ""), map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1"}, "NoPermission", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := callSTS(tt.c, "AssumeRole", stsVersion, tt.query)
			if err == nil {
				t.Fatalf("AssumeRole %v succeeded; want %s", tt.query, tt.code)
			}
			if e := asSDKError(t, err); e.Code != tt.code || e.Status != tt.status {
				t.Errorf("AssumeRole %v: %s %d; want %s %d (%s)", tt.query, e.Code, e.Status, tt.code, tt.status, e.Message)
			}
		})
	}
	t.Run("a RAM user's denial says why", func(t *testing.T) {
		_, err := callSTS(newClient(t, m, stsNoPermKey, stsNoPermSecret, ""), "AssumeRole", stsVersion,
			map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1"})
		d := asSDKError(t, err).AccessDeniedDetail
		if d["AuthAction"] != "sts:AssumeRole" || d["AuthPrincipalType"] != "SubUser" || d["AuthPrincipalDisplayName"] != "noperm" {
			t.Errorf("AccessDeniedDetail = %v", d)
		}
	})
}

// TestSTS_VersionDispatch: AssumeRole is served in STS's version only, cams actions in cams's.
func TestSTS_VersionDispatch(t *testing.T) {
	m := start(t, stsConfig(t))
	root := newClient(t, m, stsRootKey, stsRootSecret, "")
	for _, tt := range []struct{ action, version, want string }{
		{"AssumeRole", apiVersion, "InvalidAction.NotFound"},
		{"QueryChatappPhoneNumbers", stsVersion, "InvalidAction.NotFound"},
		{"AssumeRole", "2015-04-02", "InvalidVersion"},
	} {
		_, err := callSTS(root, tt.action, tt.version, map[string]string{"RoleArn": operatorARN, "RoleSessionName": "s1", "CustSpaceId": acmeSpace})
		if got := stsCode(t, err); got != tt.want {
			t.Errorf("%s in %s: %s; want %s", tt.action, tt.version, got, tt.want)
		}
	}
}
