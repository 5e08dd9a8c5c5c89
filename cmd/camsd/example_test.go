package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestExample_GetVerifyCode runs README's first call, examples/getverifycode, against camsd
// with the demo tenant's variables, in both signature versions, and finds each code in the
// simulator's outbox.
func TestExample_GetVerifyCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go is not on PATH (%v): cannot build the example", err)
	}
	cfg := testConfig(t)
	cfg.ResendInterval = 0
	m := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := t.TempDir() + "/getverifycode"
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "../../examples/getverifycode").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
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
		if msgs := simMessages(t, m, migrating); len(msgs) != i+1 {
			t.Errorf("after call %d the outbox holds %d messages", i+1, len(msgs))
		}
	}
}
