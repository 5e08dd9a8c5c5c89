package camsd

import (
	"fmt"
	"slices"
	"time"
)

// Role is a RAM role of an account: who may assume it (its trust policy, a JSON document with
// Principal) and what a session of it may do (its permission policies).
type Role struct {
	UID                string
	Name               string
	MaxSessionDuration int // seconds, 900 to 43200: the longest DurationSeconds AssumeRole grants
	TrustPolicy        string
	Policies           []string
}

// ARN is the role's ARN as RAM writes it, acs:ram::<uid>:role/<name>: what AssumeRole's
// RoleArn names and what a RAM user's policy grants sts:AssumeRole on.
func (r *Role) ARN() string { return RoleARN(r.UID, r.Name) }

// RoleARN is the ARN of the role name of account uid.
func RoleARN(uid, name string) string { return "acs:ram::" + uid + ":role/" + name }

// Clone returns a copy of r that shares nothing mutable with it.
func (r *Role) Clone() *Role {
	c := *r
	c.Policies = slices.Clone(r.Policies)
	return &c
}

// Session is a role session: what STS temporary credentials (AccessKeyId "STS.…") stand for.
// Its fields come from the security token that the caller sent, which the server signed when
// AssumeRole issued it, except Role, which is the role as the store holds it now (its policies
// at the time of the call, as RAM evaluates them).
type Session struct {
	Role       Role
	Name       string    // RoleSessionName
	Policy     string    // the session policy given to AssumeRole; "" when none
	Expiration time.Time // after it the token answers InvalidSecurityToken.Expired
}

// AssumedRoleID is the AssumedRoleUser.AssumedRoleId of the session, <role id>:<session name>;
// camsd's role id is the role's name, as it keeps no other.
func (s *Session) AssumedRoleID() string { return s.Role.Name + ":" + s.Name }

// ARN is the AssumedRoleUser.Arn of the session, acs:ram::<uid>:assumed-role/<role>/<session>.
func (s *Session) ARN() string {
	return "acs:ram::" + s.Role.UID + ":assumed-role/" + s.Role.Name + "/" + s.Name
}

// STSKeyPrefix begins the AccessKeyId of every set of STS temporary credentials, and of no
// long-term key.
const STSKeyPrefix = "STS."

// RAM's bounds of a role's MaxSessionDuration, in seconds, and its default.
const (
	MinMaxSessionDuration     = 900
	MaxMaxSessionDuration     = 43200
	DefaultMaxSessionDuration = 3600
)

// MaxSessionDurationProblem says what is wrong with a role's MaxSessionDuration, or "".
func MaxSessionDurationProblem(seconds int) string {
	if seconds < MinMaxSessionDuration || seconds > MaxMaxSessionDuration {
		return fmt.Sprintf("%d: want %d to %d seconds", seconds, MinMaxSessionDuration, MaxMaxSessionDuration)
	}
	return ""
}

// RoleNameProblem applies RAM's rule for role names, 1 to 64 letters, digits, '.' and '-',
// and says what is wrong, or "". The name is part of the role's ARN and of every session's.
func RoleNameProblem(name string) string {
	if name == "" {
		return "missing"
	}
	ok := len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-':
		default:
			ok = false
		}
	}
	if !ok {
		return fmt.Sprintf("%q: a RAM role name is 1 to 64 letters, digits, '.' and '-'", name)
	}
	return ""
}
