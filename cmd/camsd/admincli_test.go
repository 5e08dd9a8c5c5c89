package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAdminCLI_Flags: each admin command takes its own flags and no other: a flag it does not
// take, or an argument, is a usage error (exit 2) naming it, with that command's usage, before
// any call to the server.
func TestAdminCLI_Flags(t *testing.T) {
	env := map[string]string{"CAMSD_ADMIN_TOKEN": testAdminToken}
	for _, tc := range []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"another command's flag", []string{"account", "list", "--uid", "1"}, []string{"unknown flag: --uid", "camsd admin account list"}},
		{"another verb's flag", []string{"key", "create", "--uid", "1", "--name", "x"}, []string{"unknown flag: --name", "--user string"}},
		{"a flag of no command", []string{"audit", "list", "--subscribed"}, []string{"unknown flag: --subscribed", "--phone-number"}},
		{"an argument", []string{"account", "list", "shop"}, []string{`account list takes no argument "shop"`}},
		{"a number that is not", []string{"audit", "list", "--limit", "ten"}, []string{`invalid argument "ten" for "--limit"`}},
		{"unknown noun", []string{"tenant", "list"}, []string{`unknown command "tenant"`}},
		{"a noun alone", []string{"key"}, []string{"camsd admin key [command]", "disable"}},
		{"nothing", nil, []string{"camsd admin [command]", "account", "rotate-master-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No server listens at this address: a usage error must not need one.
			code, out, errOut := cli(t, env, "", append([]string{"admin", "--server", "http://127.0.0.1:1"}, tc.args...)...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want exit 2 and nothing on stdout", code, out)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
}

// TestAdminCLI_Help: each command's help lists its own flags, those every admin command
// takes, and no other.
func TestAdminCLI_Help(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		want, not_ []string
	}{
		{[]string{"key", "create", "--help"}, []string{"create --uid UID [--user NAME]", "--uid", "--user", "--json", "--server"}, []string{"--name", "--document", "--limit"}},
		{[]string{"policy", "attach", "-h"}, []string{"--document", "--uid", "--user"}, []string{"--subscribed", "--qps"}},
		{[]string{"account", "--help"}, []string{"create", "list", "subscribe", "unsubscribe"}, []string{"--uid"}},
		{[]string{"--help"}, []string{"account", "audit", "key", "master-key", "number", "policy", "rotate-master-key", "space", "user", "CAMSD_ADMIN_TOKEN"}, nil},
	} {
		code, out, errOut := cli(t, nil, "", append([]string{"admin"}, tc.args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d\n%s", tc.args, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, w := range tc.not_ {
			if strings.Contains(out, w) {
				t.Errorf("%v: help has %q, a flag of another command:\n%s", tc.args, w, out)
			}
		}
	}
}

// TestCompletion: camsd completion writes each shell's script, and the shells' completion
// offers a command's own flags and no other, and the values a flag takes.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := cli(t, nil, "", "completion", shell)
		if code != 0 || !strings.Contains(out, "camsd") || len(out) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes\n%s", shell, code, len(out), errOut)
		}
	}
	complete := func(args ...string) []string {
		t.Helper()
		code, out, errOut := cli(t, nil, "", append([]string{"__complete"}, args...)...)
		if code != 0 {
			t.Fatalf("__complete %v: exit %d\n%s", args, code, errOut)
		}
		var words []string
		for _, l := range strings.Split(out, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "Completion ended") {
				w, _, _ := strings.Cut(l, "\t")
				words = append(words, w)
			}
		}
		return words
	}
	has := func(words []string, w string) bool {
		for _, x := range words {
			if x == w {
				return true
			}
		}
		return false
	}
	top := complete("")
	for _, w := range []string{"serve", "admin", "call", "bench", "completion"} {
		if !has(top, w) {
			t.Errorf("camsd <TAB>: %v lacks %s", top, w)
		}
	}
	nouns := complete("admin", "")
	for _, w := range []string{"account", "key", "user", "policy", "space", "number", "audit", "rotate-master-key"} {
		if !has(nouns, w) {
			t.Errorf("camsd admin <TAB>: %v lacks %s", nouns, w)
		}
	}
	flags := complete("admin", "key", "create", "--")
	for _, w := range []string{"--uid", "--user", "--json", "--server"} {
		if !has(flags, w) {
			t.Errorf("camsd admin key create --<TAB>: %v lacks %s", flags, w)
		}
	}
	for _, w := range []string{"--name", "--document", "--qps", "--cust-space-id"} {
		if has(flags, w) {
			t.Errorf("camsd admin key create --<TAB>: %v offers %s, another command's flag", flags, w)
		}
	}
	if got := complete("admin", "number", "add", "--status", ""); !has(got, "MIGRATING") || !has(got, "CONNECTED") {
		t.Errorf("--status <TAB>: %v", got)
	}
}

// TestCLI_Commands: camsd alone or with an unknown command is a usage error; the commands
// that keep their own parsers still get their arguments as typed.
func TestCLI_Commands(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "Available Commands"},
		{[]string{"nope"}, 2, `camsd: unknown command "nope"`},
		{[]string{"--nope"}, 2, "unknown flag: --nope"},
		{[]string{"serve", "--qsp", "3"}, 2, "-qsp"},
		{[]string{"call"}, 2, "usage: camsd call ACTION"},
		{[]string{"call", "GetMigrationVerifyCode", "--signature", "v4"}, 2, "--signature is v2 or v3"},
		{[]string{"bench", "--concurrency", "32,x"}, 2, "concurrency"},
	} {
		code, _, errOut := cli(t, nil, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("camsd %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.stderr)
		}
	}
	if code, out, _ := cli(t, nil, "", "--help"); code != 0 || !strings.Contains(out, "admin") {
		t.Errorf("camsd --help: exit %d\n%s", code, out)
	}
}

// TestAdminCLI_SharedFlagsAnywhere: --server and --json may come before the command too.
func TestAdminCLI_SharedFlagsAnywhere(t *testing.T) {
	cfg := testConfig(t)
	cfg.AdminToken = testAdminToken
	m := start(t, cfg)
	env := map[string]string{"CAMSD_ADMIN_TOKEN": testAdminToken}
	for _, args := range [][]string{
		{"admin", "--server", m.AdminURL, "--json", "account", "list"},
		{"admin", "account", "list", "--json", "--server", m.AdminURL},
		{"admin", "account", "--server", m.AdminURL, "list", "--json"},
	} {
		code, out, errOut := cli(t, env, "", args...)
		if code != 0 || !json.Valid([]byte(out)) || !strings.Contains(out, `"Accounts"`) || !strings.Contains(out, acmeUID) {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// CAMSD_ADMIN_URL is the default of --server.
	env["CAMSD_ADMIN_URL"] = m.AdminURL
	if code, out, errOut := cli(t, env, "", "admin", "key", "list", "--uid", acmeUID); code != 0 || !strings.Contains(out, acmeKey) {
		t.Errorf("with CAMSD_ADMIN_URL: exit %d\n%s%s", code, out, errOut)
	}
}
