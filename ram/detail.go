package ram

import (
	"encoding/base64"
	"encoding/json"

	"github.com/camsd/camsd"
)

// Values of AccessDeniedDetail's PolicyType and AuthPrincipalType. camsd evaluates a RAM
// user's own policies and a role's, all attached at account level, and a role session's
// policy (AssumeRole's Policy parameter).
const (
	PolicyIdentity   = "AccountLevelIdentityBasedPolicy"
	PolicySession    = "AssumeRolePolicy"
	PrincipalUser    = "SubUser"
	PrincipalSession = "AssumedRoleUser"
)

// diagnostic is what ram:DecodeDiagnosticMessage returns for an EncodedDiagnosticMessage.
// Alibaba Cloud's message is opaque; camsd's is this JSON in base64, so that a client can
// read it without a RAM endpoint.
type diagnostic struct {
	ExplicitDeny           bool
	NoPermissionPolicyType string
	AuthAction             string
	AuthResource           string
	AuthPrincipal          diagnosticPrincipal
}

type diagnosticPrincipal struct {
	AuthPrincipalType        string
	AuthPrincipalOwnerId     string
	AuthPrincipalDisplayName string
}

// Detail explains a denial of the request c to the RAM user userName of account ownerUID, as
// the AccessDeniedDetail of a Ram.PermissionDeny error. It returns nil when r allows. A
// Result that is neither allowed nor explicitly denied counts as an implicit deny.
func Detail(r Result, c Context, ownerUID, userName string) *camsd.AccessDeniedDetail {
	return detail(r, c, ownerUID, PrincipalUser, userName, PolicyIdentity)
}

// SessionDetail explains a denial of the request c to a role session of account ownerUID,
// named as RAM names it, <role name>:<session name>; policyType says which policies denied:
// the role's (PolicyIdentity) or the session's (PolicySession).
func SessionDetail(r Result, c Context, ownerUID, displayName, policyType string) *camsd.AccessDeniedDetail {
	return detail(r, c, ownerUID, PrincipalSession, displayName, policyType)
}

func detail(r Result, c Context, ownerUID, principalType, displayName, policyType string) *camsd.AccessDeniedDetail {
	if r.Allowed {
		return nil
	}
	denial := ImplicitDeny
	if r.NoPermissionType == ExplicitDeny {
		denial = ExplicitDeny
	}
	// Marshal cannot fail on strings and a bool (invalid UTF-8 becomes U+FFFD).
	msg, _ := json.Marshal(diagnostic{
		ExplicitDeny:           denial == ExplicitDeny,
		NoPermissionPolicyType: policyType,
		AuthAction:             c.Action,
		AuthResource:           c.Resource,
		AuthPrincipal: diagnosticPrincipal{
			AuthPrincipalType:        principalType,
			AuthPrincipalOwnerId:     ownerUID,
			AuthPrincipalDisplayName: displayName,
		},
	})
	return &camsd.AccessDeniedDetail{
		NoPermissionType:         denial,
		PolicyType:               policyType,
		AuthAction:               c.Action,
		AuthPrincipalType:        principalType,
		AuthPrincipalOwnerId:     ownerUID,
		AuthPrincipalDisplayName: displayName,
		EncodedDiagnosticMessage: base64.StdEncoding.EncodeToString(msg),
	}
}
