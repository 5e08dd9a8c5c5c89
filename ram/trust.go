package ram

import (
	"encoding/json"
	"slices"
)

// ParseTrust parses and validates a RAM role's trust policy: statements as in an identity
// policy, but with a Principal instead of a Resource. Principal is an object whose RAM member
// names who may assume the role, an ARN or a list of them: "acs:ram::<uid>:root" (the
// account: its own AccessKeys and, given sts:AssumeRole in their own policies, its RAM users),
// "acs:ram::<uid>:user/<name>" (one RAM user), or an account uid alone (as root). Service and
// Federated members are accepted, as RAM writes them, and never match: camsd has no cloud
// services nor identity providers to assume roles.
func ParseTrust(doc []byte) (*Policy, error) { return parse(doc, true) }

func (s *statement) parseTrust(principal, resource json.RawMessage, path string) error {
	if resource != nil {
		return errorAt(child(path, "Resource"), "not allowed in a trust policy (its Principal says who)")
	}
	if principal == nil {
		return errorAt(child(path, "Principal"), "missing (a trust policy names who may assume the role)")
	}
	ppath := child(path, "Principal")
	if kind(principal) != "an object" {
		return errorAt(ppath, "want an object such as {\"RAM\": [\"acs:ram::<uid>:root\"]}, got "+kind(principal))
	}
	ms, err := members(principal, ppath)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return errorAt(ppath, "empty object")
	}
	s.principals = []string{}
	for _, m := range ms {
		values, _, err := stringList(m.value, child(ppath, m.name))
		if err != nil {
			return err
		}
		switch m.name {
		case "RAM":
			s.principals = append(s.principals, values...)
		case "Service", "Federated":
		default:
			return errorAt(child(ppath, m.name), `unknown element (want "RAM", "Service" or "Federated")`)
		}
	}
	return nil
}

// Caller is who asks to assume a role.
type Caller struct {
	UID      string // the caller's account
	UserName string // "" for the account's own AccessKey
}

// identities are the principals a trust policy may name to mean c: a user is named by its own
// ARN or by its account's; the account's own key by the account's ARN or its uid.
func (c Caller) identities() []string {
	ids := []string{"acs:ram::" + c.UID + ":root", c.UID}
	if c.UserName != "" {
		ids = append(ids, "acs:ram::"+c.UID+":user/"+c.UserName)
	}
	return ids
}

// EvaluateTrust decides whether the trust policy lets caller make the request c (Action
// sts:AssumeRole, Resource the role's ARN): a statement that names the caller allows it and
// none denies it. A policy that is not a trust policy allows nothing.
func EvaluateTrust(p *Policy, caller Caller, c Context) Result {
	if p == nil || !p.trust {
		return Result{NoPermissionType: ImplicitDeny}
	}
	ids := caller.identities()
	return decide([]*Policy{p}, func(s *statement) bool {
		named := slices.ContainsFunc(s.principals, func(pat string) bool {
			return slices.ContainsFunc(ids, func(id string) bool { return wildcard(pat, id, true) })
		})
		return named && s.appliesToAction(&c)
	})
}
