package ram

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

func TestDetail(t *testing.T) {
	c := request()
	tests := []struct {
		name         string
		result       Result
		wantType     string
		wantExplicit bool
	}{
		{"explicit", Result{NoPermissionType: ExplicitDeny}, ExplicitDeny, true},
		{"implicit", Result{NoPermissionType: ImplicitDeny}, ImplicitDeny, false},
		{"zero result", Result{}, ImplicitDeny, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Detail(tt.result, c, "1000000000000001", "ops")
			if got == nil {
				t.Fatal("Detail = nil")
			}
			want := &camsd.AccessDeniedDetail{
				NoPermissionType:         tt.wantType,
				PolicyType:               "AccountLevelIdentityBasedPolicy",
				AuthAction:               "cams:GetMigrationVerifyCode",
				AuthPrincipalType:        "SubUser",
				AuthPrincipalOwnerId:     "1000000000000001",
				AuthPrincipalDisplayName: "ops",
				EncodedDiagnosticMessage: got.EncodedDiagnosticMessage, // checked below
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Detail (-want +got):\n%s", diff)
			}

			raw, err := base64.StdEncoding.DecodeString(got.EncodedDiagnosticMessage)
			if err != nil {
				t.Fatalf("EncodedDiagnosticMessage is not base64: %v", err)
			}
			var msg map[string]any
			if err := json.Unmarshal(raw, &msg); err != nil {
				t.Fatalf("EncodedDiagnosticMessage is not JSON: %v: %s", err, raw)
			}
			wantMsg := map[string]any{
				"ExplicitDeny":           tt.wantExplicit,
				"NoPermissionPolicyType": "AccountLevelIdentityBasedPolicy",
				"AuthAction":             "cams:GetMigrationVerifyCode",
				"AuthResource":           "acs:cams:*:1000000000000001:*",
				"AuthPrincipal": map[string]any{
					"AuthPrincipalType":        "SubUser",
					"AuthPrincipalOwnerId":     "1000000000000001",
					"AuthPrincipalDisplayName": "ops",
				},
			}
			if diff := cmp.Diff(wantMsg, msg); diff != "" {
				t.Errorf("decoded diagnostic message (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("allowed", func(t *testing.T) {
		if got := Detail(Result{Allowed: true}, c, "1000000000000001", "ops"); got != nil {
			t.Errorf("Detail of an allowed request = %+v, want nil", got)
		}
	})
}
