package sts

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ram"
)

// Version is STS's API version, the one AssumeRole is served under.
const Version = "2015-04-01"

// Bounds of AssumeRole's parameters, as STS documents them.
const (
	MinDuration     = 900  // seconds
	DefaultDuration = 3600 // seconds, also the most a role allows unless it says more
	maxPolicyLen    = 2048 // bytes of a session policy
)

// RoleLookup is what the service needs of a store.
type RoleLookup interface {
	// Role returns the account's role and the account. Returns camsd.ErrNotFound.
	Role(ctx context.Context, uid, name string) (*camsd.Account, *camsd.Role, error)
}

// Service issues and verifies temporary credentials. Fields are set before use.
type Service struct {
	Roles RoleLookup
	Key   *Key

	trust sync.Map // trust policy text -> *ram.Policy
}

// Credentials is AssumeRole's reply, in the SDK's wire names.
type Credentials struct {
	Credentials struct {
		AccessKeyId     string //nolint:revive // wire name
		AccessKeySecret string
		SecurityToken   string
		Expiration      string
	}
	AssumedRoleUser struct {
		Arn           string
		AssumedRoleId string //nolint:revive // wire name
	}
}

// AssumeRole runs STS's AssumeRole for the caller p with the request's params; c is the RAM
// context of the call (source IP, time, transport), whose Action and Resource it sets. Errors
// are *camsd.Error with STS's codes, checked in this order:
//
//  1. RoleArn, then RoleSessionName, present: MissingRoleArn, MissingRoleSessionName.
//  2. RoleArn is acs:ram::<uid>:role/<name>: InvalidParameter.RoleArn.
//  3. RoleSessionName is 2 to 64 of letters, digits, '.', '@', '-' and '_':
//     InvalidParameter.RoleSessionName.
//  4. DurationSeconds, when sent, is a whole number of seconds: InvalidParameter.DurationSeconds.
//  5. Policy, when sent, is at most 2048 bytes and a valid policy: InvalidParameter.PolicyGrammar.
//  6. The caller is a long-term key (temporary credentials cannot assume a role again in
//     camsd): NoPermission.
//  7. The role exists: EntityNotExist.Role.
//  8. DurationSeconds is within 900 and the role's MaxSessionDuration:
//     InvalidParameter.DurationSeconds (default 3600, or the role's maximum if less).
//  9. A RAM user's own policies allow sts:AssumeRole on the role's ARN: NoPermission, with
//     the AccessDeniedDetail of the denial.
//  10. The role's trust policy names the caller (ram.EvaluateTrust): NoPermission.
func (s *Service) AssumeRole(ctx context.Context, p *camsd.Principal, params url.Values, c ram.Context, now time.Time) (*Credentials, error) {
	arn, sessionName := params.Get("RoleArn"), params.Get("RoleSessionName")
	switch {
	case arn == "":
		return nil, &camsd.Error{Code: camsd.MissingCode("RoleArn")}
	case sessionName == "":
		return nil, &camsd.Error{Code: camsd.MissingCode("RoleSessionName")}
	}
	uid, roleName, ok := ParseRoleARN(arn)
	if !ok {
		return nil, &camsd.Error{Code: camsd.CodeInvalidParameterRoleArn}
	}
	if !validSessionName(sessionName) {
		return nil, &camsd.Error{Code: camsd.CodeInvalidParameterRoleSessionName}
	}
	duration := 0
	if d := params.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return nil, &camsd.Error{Code: camsd.CodeInvalidParameterDurationSeconds}
		}
		duration = n
	}
	policy := params.Get("Policy")
	if policy != "" {
		if len(policy) > maxPolicyLen {
			return nil, camsd.Errorf(camsd.CodeInvalidParameterPolicyGrammar, "The parameter Policy is longer than %d bytes.", maxPolicyLen)
		}
		if _, err := ram.Parse([]byte(policy)); err != nil {
			return nil, camsd.Errorf(camsd.CodeInvalidParameterPolicyGrammar, "The parameter Policy has not passed grammar check: %v", err)
		}
	}
	if p.Session != nil {
		return nil, camsd.Errorf(camsd.CodeNoPermission, "Temporary credentials cannot assume a role in camsd; call AssumeRole with a long-term AccessKey.")
	}

	_, role, err := s.Roles.Role(ctx, uid, roleName)
	if errors.Is(err, camsd.ErrNotFound) {
		return nil, camsd.Errorf(camsd.CodeEntityNotExistRole, "The role not exists: %s", arn)
	}
	if err != nil {
		return nil, err
	}
	limit := role.MaxSessionDuration
	if duration == 0 {
		duration = min(DefaultDuration, limit)
	}
	if duration < MinDuration || duration > limit {
		return nil, camsd.Errorf(camsd.CodeInvalidParameterDurationSeconds,
			"The Min/Max value of DurationSeconds is %d/%d seconds for this role.", MinDuration, limit)
	}

	c.Action, c.Resource = "sts:AssumeRole", role.ARN()
	if p.User != nil {
		if err := s.userMay(p, c); err != nil {
			return nil, err
		}
	}
	trust, err := s.trustPolicy(role.TrustPolicy)
	if err != nil {
		return nil, err
	}
	caller := ram.Caller{UID: p.Account.UID}
	if p.User != nil {
		caller.UserName = p.User.Name
	}
	if !ram.EvaluateTrust(trust, caller, c).Allowed {
		return nil, camsd.Errorf(camsd.CodeNoPermission, "No permission perform sts:AssumeRole on this Role. Maybe you should check the role's trust policy.")
	}
	return s.issue(Claims{
		UID: role.UID, Role: role.Name, Session: sessionName, Policy: policy,
		Expires: now.Add(time.Duration(duration) * time.Second).Unix(),
	})
}

// userMay checks that a RAM user's own policies allow c (sts:AssumeRole on the role).
func (s *Service) userMay(p *camsd.Principal, c ram.Context) error {
	policies := make([]*ram.Policy, 0, len(p.User.Policies))
	for _, doc := range p.User.Policies {
		pol, err := ram.Parse([]byte(doc))
		if err != nil {
			return fmt.Errorf("stored policy does not parse: %w", err)
		}
		policies = append(policies, pol)
	}
	res := ram.Evaluate(policies, c)
	if res.Allowed {
		return nil
	}
	return &camsd.Error{Code: camsd.CodeNoPermission, Denied: ram.Detail(res, c, p.Account.UID, p.User.Name)}
}

func (s *Service) trustPolicy(doc string) (*ram.Policy, error) {
	if v, ok := s.trust.Load(doc); ok {
		return v.(*ram.Policy), nil
	}
	pol, err := ram.ParseTrust([]byte(doc))
	if err != nil {
		// Stored trust policies were validated when they were written.
		return nil, fmt.Errorf("stored trust policy does not parse: %w", err)
	}
	s.trust.Store(doc, pol)
	return pol, nil
}

func (s *Service) issue(c Claims) (*Credentials, error) {
	id, err := newAccessKeyID()
	if err != nil {
		return nil, err
	}
	c.AccessKeyID = id
	token, err := s.Key.Sign(c)
	if err != nil {
		return nil, err
	}
	out := &Credentials{}
	out.Credentials.AccessKeyId = id
	out.Credentials.AccessKeySecret = s.Key.Secret(id)
	out.Credentials.SecurityToken = token
	out.Credentials.Expiration = c.Expiration().Format("2006-01-02T15:04:05Z")
	sess := camsd.Session{Role: camsd.Role{UID: c.UID, Name: c.Role}, Name: c.Session}
	out.AssumedRoleUser.Arn = sess.ARN()
	out.AssumedRoleUser.AssumedRoleId = sess.AssumedRoleID()
	return out, nil
}

// Session returns the principal of temporary credentials: the AccessKeyId accessKeyID that
// signed a call, with the security token it carried. The token says everything but the role's
// policies and the account, which come from the store (through its cache). Errors are
// *camsd.Error:
//
//   - no token: MissingSecurityToken (STS's answer to temporary credentials sent without it);
//   - a token this server did not sign, or not a token: InvalidSecurityToken.Malformed;
//   - a token of other credentials: InvalidSecurityToken.MismatchWithAccessKey;
//   - a token past its Expiration at now: InvalidSecurityToken.Expired;
//   - a role that no longer exists: EntityNotExist.Role.
func (s *Service) Session(ctx context.Context, accessKeyID, token string, now time.Time) (*camsd.Principal, error) {
	if token == "" {
		return nil, &camsd.Error{Code: camsd.CodeMissingSecurityToken}
	}
	c, err := s.Key.Verify(token)
	if err != nil {
		return nil, &camsd.Error{Code: camsd.CodeInvalidSecurityTokenMalformed}
	}
	if c.AccessKeyID != accessKeyID {
		return nil, &camsd.Error{Code: camsd.CodeInvalidSecurityTokenMismatch}
	}
	if !now.Before(c.Expiration()) {
		return nil, &camsd.Error{Code: camsd.CodeInvalidSecurityTokenExpired}
	}
	account, role, err := s.Roles.Role(ctx, c.UID, c.Role)
	if errors.Is(err, camsd.ErrNotFound) {
		return nil, camsd.Errorf(camsd.CodeEntityNotExistRole, "The role not exists: %s", camsd.RoleARN(c.UID, c.Role))
	}
	if err != nil {
		return nil, err
	}
	return &camsd.Principal{
		Key:     camsd.AccessKey{ID: c.AccessKeyID, Secret: s.Key.Secret(c.AccessKeyID), UID: c.UID, Status: camsd.KeyActive},
		Account: *account,
		Session: &camsd.Session{Role: *role, Name: c.Session, Policy: c.Policy, Expiration: c.Expiration()},
	}, nil
}

// ParseRoleARN reads acs:ram::<uid>:role/<name>, the uid digits and the name one RAM allows.
func ParseRoleARN(arn string) (uid, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return "", "", false
	}
	uid, name, ok = strings.Cut(rest, ":role/")
	if !ok || uid == "" || strings.Trim(uid, "0123456789") != "" || camsd.RoleNameProblem(name) != "" {
		return "", "", false
	}
	return uid, name, true
}

// validSessionName applies STS's rule: 2 to 64 letters, digits, '.', '@', '-' and '_'.
func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '@', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
