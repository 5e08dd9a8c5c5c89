package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	cliRoleTrust  = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1000000000000001:root"]}}]}`
	cliRoleQuery  = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:QueryChatappPhoneNumbers","Resource":"*"}]}`
	cliRoleAll    = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*"}]}`
	cliRoleARN    = "acs:ram::1000000000000001:role/cli-operator"
	cliRoleNoJSON = `{"Version":"1",`
)

// docFiles writes each document to a file of its own in a temporary directory and returns
// their paths, in order.
func docFiles(t *testing.T, docs ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, d := range docs {
		p := filepath.Join(dir, fmt.Sprintf("doc%d.json", i))
		if err := os.WriteFile(p, []byte(d), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// adminCLIServer starts camsd with the admin API and returns a function that runs
// `camsd admin` against it with stdin.
func adminCLIServer(t *testing.T) (*Main, func(stdin string, args ...string) (int, string, string)) {
	t.Helper()
	cfg := testConfig(t)
	cfg.AdminToken = testAdminToken
	cfg.QPS = 1000
	m := start(t, cfg)
	env := map[string]string{"CAMSD_ADMIN_TOKEN": testAdminToken}
	return m, func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		return cli(t, env, stdin, append([]string{"admin", "--server", m.AdminURL}, args...)...)
	}
}

// TestAdminCLI_Roles: role put makes a role from documents in files (or stdin) and replaces it
// whole when put again; role list and role show print it; a document the server refuses is
// its error reply (exit 1), a command line role put does not take a usage error (exit 2).
func TestAdminCLI_Roles(t *testing.T) {
	_, admin := adminCLIServer(t)
	files := docFiles(t, cliRoleTrust, cliRoleQuery, cliRoleAll, cliRoleAll+"\n" /* a policy as trust policy */, cliRoleNoJSON)
	trust, query, all, notTrust, notJSON := files[0], files[1], files[2], files[3], files[4]
	ok := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := admin(stdin, args...)
		if code != 0 {
			t.Fatalf("camsd admin %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}

	out := ok("", "role", "put", "--uid", acmeUID, "--name", "cli-operator", "--max-session-duration", "7200",
		"--trust-policy", trust, "--policy", query, "--policy", all)
	for _, w := range []string{cliRoleARN, "7200", "Policies"} {
		if !strings.Contains(out, w) {
			t.Errorf("role put prints no %q:\n%s", w, out)
		}
	}
	out = ok("", "role", "list", "--uid", acmeUID)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 ||
		strings.Join(strings.Fields(lines[0]), " ") != "UID Name Arn MaxSessionDuration Policies" ||
		strings.Join(strings.Fields(lines[1]), " ") != acmeUID+" cli-operator "+cliRoleARN+" 7200 2" {
		t.Errorf("role list:\n%s", out)
	}
	var list struct {
		Roles []struct {
			Name        string
			TrustPolicy json.RawMessage
			Policies    []json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(ok("", "role", "list", "--json")), &list); err != nil || len(list.Roles) != 1 ||
		compactJSON(t, list.Roles[0].TrustPolicy) != cliRoleTrust || len(list.Roles[0].Policies) != 2 ||
		compactJSON(t, list.Roles[0].Policies[1]) != cliRoleAll {
		t.Errorf("role list --json: %+v, %v", list, err)
	}
	out = ok("", "role", "show", "--uid", acmeUID, "--name", "cli-operator")
	for _, w := range []string{"Arn: " + cliRoleARN, "MaxSessionDuration: 7200", "TrustPolicy:\n  {", `"acs:ram::1000000000000001:root"`, "Policies[0]:", `"cams:QueryChatappPhoneNumbers"`, "Policies[1]:"} {
		if !strings.Contains(out, w) {
			t.Errorf("role show lacks %q:\n%s", w, out)
		}
	}
	var shown struct{ Name, Arn string }
	if err := json.Unmarshal([]byte(ok("", "role", "show", "--uid", acmeUID, "--name", "cli-operator", "--json")), &shown); err != nil || shown.Arn != cliRoleARN {
		t.Errorf("role show --json: %+v, %v", shown, err)
	}

	// Put again, the trust policy from stdin and no policy: the role is replaced whole.
	ok(cliRoleTrust, "role", "put", "--uid", acmeUID, "--name", "cli-operator", "--trust-policy", "-")
	out = ok("", "role", "show", "--uid", acmeUID, "--name", "cli-operator")
	if !strings.Contains(out, "MaxSessionDuration: 3600") || !strings.Contains(out, "Policies: (none)") {
		t.Errorf("role show after a put without --max-session-duration and --policy:\n%s", out)
	}

	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr []string
	}{
		{"a trust policy the server refuses", "", []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", notTrust}, 1,
			[]string{"InvalidParameter", "The trust policy is not valid", "Statement[0].Resource"}},
		{"a permission policy the server refuses", "", []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", trust, "--policy", query, "--policy", trust}, 1,
			[]string{"Policies[1] is not valid"}},
		{"a session too long", "", []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", trust, "--max-session-duration", "43201"}, 1,
			[]string{"MaxSessionDuration 43201"}},
		{"an unknown account", "", []string{"put", "--uid", "42", "--name", "r", "--trust-policy", trust}, 1, []string{"NotFound"}},
		{"a document that is not JSON", "", []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", notJSON}, 1, []string{notJSON + " is not JSON"}},
		{"a file that is not there", "", []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", trust + ".gone"}, 1, []string{"no such file"}},
		{"a role that is not there", "", []string{"show", "--uid", acmeUID, "--name", "nobody"}, 1, []string{`has no role "nobody"`}},
		{"no trust policy", "", []string{"put", "--uid", acmeUID, "--name", "r", "--policy", query}, 2, []string{"role put needs --trust-policy"}},
		{"a flag role put does not take", "", []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", trust, "--document", query}, 2,
			[]string{"unknown flag: --document", "--trust-policy", "--max-session-duration"}},
		{"a flag role list does not take", "", []string{"list", "--name", "r"}, 2, []string{"unknown flag: --name", "camsd admin role list"}},
		{"seconds that are not a number", "", []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", trust, "--max-session-duration", "1h"}, 2,
			[]string{`invalid argument "1h" for "--max-session-duration"`}},
		{"stdin twice", cliRoleTrust, []string{"put", "--uid", acmeUID, "--name", "r", "--trust-policy", "-", "--policy", "-"}, 2, []string{"only one document can be read from stdin"}},
		{"an unknown verb", "", []string{"delete"}, 2, []string{`unknown command "role delete"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := admin(tc.stdin, append([]string{"role"}, tc.args...)...)
			if code != tc.code || out != "" {
				t.Errorf("exit %d, stdout %q; want exit %d and nothing on stdout", code, out, tc.code)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	if out := ok("", "role", "list", "--uid", acmeUID); strings.Contains(out, " r ") {
		t.Errorf("a refused put made a role:\n%s", out)
	}
}

// TestAdminCLI_RoleAssumed: a role put with the CLI is one AssumeRole grants, for as long as
// its --max-session-duration allows, and its temporary credentials are allowed what its
// --policy documents allow; put again, the role's new policies apply to the session's next call.
func TestAdminCLI_RoleAssumed(t *testing.T) {
	m, admin := adminCLIServer(t)
	files := docFiles(t, cliRoleTrust, cliRoleQuery, cliRoleAll)
	put := func(args ...string) {
		t.Helper()
		args = append([]string{"role", "put", "--uid", acmeUID, "--name", "cli-operator", "--trust-policy", files[0]}, args...)
		if code, out, errOut := admin("", args...); code != 0 {
			t.Fatalf("camsd admin %v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	put("--max-session-duration", "7200", "--policy", files[1])

	root := newClient(t, m, acmeKey, acmeSecret, "")
	creds := assumeRole(t, root, map[string]string{"RoleArn": cliRoleARN, "RoleSessionName": "cli", "DurationSeconds": "7200"})
	if !strings.HasPrefix(creds.id, "STS.") {
		t.Errorf("AccessKeyId = %q", creds.id)
	}
	for _, alg := range []string{"", "v2"} {
		okBody(t, stsClient(t, m, creds, alg), "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace})
	}
	getVC := verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")
	_, err := call(stsClient(t, m, creds, ""), actionGetVC, getVC)
	if e := asSDKError(t, err); e.Code != "Ram.PermissionDeny" || e.AccessDeniedDetail["AuthPrincipalType"] != "AssumedRoleUser" {
		t.Errorf("%s outside the role's policy: %s %v", actionGetVC, e.Code, e.AccessDeniedDetail)
	}

	put("--policy", files[2])
	okBody(t, stsClient(t, m, creds, ""), actionGetVC, getVC)
	if _, err := callSTS(root, "AssumeRole", stsVersion, map[string]string{"RoleArn": cliRoleARN, "RoleSessionName": "cli", "DurationSeconds": "7200"}); stsCode(t, err) != "InvalidParameter.DurationSeconds" {
		t.Errorf("7200 s once the role is put again without --max-session-duration: %v; want InvalidParameter.DurationSeconds", err)
	}
}

// TestAdminCLI_RoleHelp: role's commands list their own flags, and the shells complete
// role put's documents with JSON files and its other values with nothing.
func TestAdminCLI_RoleHelp(t *testing.T) {
	code, out, errOut := cli(t, nil, "", "admin", "role", "put", "--help")
	if code != 0 {
		t.Fatalf("role put --help: exit %d\n%s", code, errOut)
	}
	for _, w := range []string{"put --uid UID --name NAME [--max-session-duration SECONDS] --trust-policy FILE|- [--policy FILE|- ...]", "--trust-policy", "--policy", "--max-session-duration", "--json"} {
		if !strings.Contains(out, w) {
			t.Errorf("role put --help lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "--document") || strings.Contains(out, "--user") {
		t.Errorf("role put --help lists another command's flag:\n%s", out)
	}
	if _, out, _ := cli(t, nil, "", "admin", "--help"); !strings.Contains(out, "role ") {
		t.Errorf("admin --help lacks role:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"admin", ""}, []string{"role"}},
		{[]string{"admin", "role", ""}, []string{"put", "list", "show"}},
		{[]string{"admin", "role", "put", "--"}, []string{"--uid", "--name", "--max-session-duration", "--trust-policy", "--policy", "--json"}},
		{[]string{"admin", "role", "put", "--trust-policy", ""}, []string{"json", ":8"}}, // ShellCompDirectiveFilterFileExt
		{[]string{"admin", "role", "put", "--policy", ""}, []string{"json", ":8"}},
		{[]string{"admin", "role", "put", "--name", ""}, []string{":4"}}, // ShellCompDirectiveNoFileComp
	} {
		code, out, errOut := cli(t, nil, "", append([]string{"__complete"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("__complete %v: exit %d\n%s", tc.args, code, errOut)
		}
		lines := strings.Split(out, "\n")
		for _, w := range tc.want {
			found := false
			for _, l := range lines {
				if word, _, _ := strings.Cut(l, "\t"); word == w {
					found = true
				}
			}
			if !found {
				t.Errorf("__complete %v: %q lacks %s", tc.args, out, w)
			}
		}
	}
}

func compactJSON(t *testing.T, doc json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
