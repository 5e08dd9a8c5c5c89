package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/camsd/camsd/listen/listentest"
)

// TestExample_GetVerifyCode runs README's first call, examples/getverifycode, against camsd
// with the demo tenant's variables, in both signature versions, over http and over https
// (CAMSD_CA_FILE naming a CA the test made), and finds each code in the simulator's outbox.
func TestExample_GetVerifyCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go is not on PATH (%v): cannot build the example", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := t.TempDir() + "/getverifycode"
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "../../examples/getverifycode").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) { runExample(ctx, t, bin, scheme) })
	}
}

func runExample(ctx context.Context, t *testing.T, bin, scheme string) {
	cfg := testConfig(t)
	cfg.ResendInterval = 0
	var env []string
	var m *Main
	if scheme == "https" {
		ca := listentest.NewCA(t)
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, "CAMSD_CA_FILE="+caFile)
		m = startTLS(t, cfg, ca)
	} else {
		m = start(t, cfg)
	}
	for i, sig := range []string{"", "v2"} {
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(),
			"ALIBABA_CLOUD_ACCESS_KEY_ID="+acmeKey,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET="+acmeSecret,
			"CustSpaceId="+acmeSpace,
			"PhoneNumber="+migrating,
			"CAMSD_ENDPOINT="+m.URL,
			"CAMS_SIGNATURE="+sig,
		)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("signature %q: %v\n%s", sig, err, out)
		}
		var body struct {
			Code, RequestId string
			Data            struct{ PhoneNumber, Id string }
		}
		if err := json.Unmarshal(out, &body); err != nil {
			t.Fatalf("example printed %q: %v", out, err)
		}
		if body.Code != "OK" || body.Data.PhoneNumber != migrating || body.Data.Id != migratingID {
			t.Errorf("signature %q: %+v", sig, body)
		}
		if msgs, err := m.DB.Messages(ctx, migrating, 0); err != nil || len(msgs) != i+1 {
			t.Errorf("after call %d the outbox holds %d messages (%v)", i+1, len(msgs), err)
		}
	}
}
