package seed

import (
	"fmt"
	"strings"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ram"
)

// builder turns the decoded file into a Seed, checking what the decoder cannot: required
// values, formats, and uniqueness across the whole file. Each map remembers the path of the
// first occurrence, to point at both places of a duplicate.
type builder struct {
	uids   map[string]string // account uid
	keys   map[string]string // AccessKey id, accounts' and users' alike: a key signs for one principal
	spaces map[string]string // cust_space_id
	active map[string]activeNumber

	preNumbers map[string]string // pre-validated number
	preIDs     map[string]string // pre-validated number's id
}

func build(doc *fileDoc) (*camsd.Seed, error) {
	b := &builder{
		uids:   make(map[string]string),
		keys:   make(map[string]string),
		spaces: make(map[string]string),
		active: make(map[string]activeNumber),

		preNumbers: make(map[string]string),
		preIDs:     make(map[string]string),
	}
	s := &camsd.Seed{}
	for i := range doc.Accounts {
		a, err := b.account(&doc.Accounts[i], index("accounts", i))
		if err != nil {
			return nil, err
		}
		s.Accounts = append(s.Accounts, a)
	}
	return s, nil
}

func (b *builder) account(r *rawAccount, path string) (camsd.SeedAccount, error) {
	a := camsd.SeedAccount{Account: camsd.Account{
		UID:  string(r.UID),
		Name: string(r.Name),
		// A declared tenant uses the product; an unsubscribed one is the exception that a
		// seed sets on purpose, to see Product.Unsubscript.
		Subscribed: r.Subscribed == nil || *r.Subscribed,
	}}
	if p := claim(b.uids, path+".uid", a.UID, digits, "account uid", "an account uid is digits"); p != nil {
		return a, p
	}

	if r.QPS != nil {
		if *r.QPS < 1 {
			return a, &problem{path: path + ".qps", msg: fmt.Sprintf("%d: want at least 1 (omit qps for the server's default)", *r.QPS)}
		}
		a.QPS = int(*r.QPS)
	}

	var err error
	if a.AccessKeys, err = b.accessKeys(r.AccessKeys, path+".access_keys", a.UID, ""); err != nil {
		return a, err
	}

	names := make(map[string]string)
	for i := range r.Users {
		userPath := index(path+".ram_users", i)
		name := string(r.Users[i].Name)
		if msg := checkUserName(name); msg != "" {
			return a, &problem{path: userPath + ".name", msg: msg}
		}
		if first, dup := names[name]; dup {
			return a, &problem{path: userPath + ".name", msg: fmt.Sprintf("duplicate RAM user %q in this account", name), first: first}
		}
		names[name] = userPath + ".name"
		u, err := b.user(&r.Users[i], userPath, a.UID)
		if err != nil {
			return a, err
		}
		a.Users = append(a.Users, u)
	}

	for i := range r.Spaces {
		sp, err := b.space(&r.Spaces[i], index(path+".spaces", i), a.UID)
		if err != nil {
			return a, err
		}
		a.Spaces = append(a.Spaces, sp)
	}

	if a.PreValidated, err = b.preValidated(r.PreValidated, path+".prevalidated_numbers", a.UID); err != nil {
		return a, err
	}
	if a.Roles, err = roles(r.Roles, path+".ram_roles", a.UID); err != nil {
		return a, err
	}
	return a, nil
}

func (b *builder) user(r *rawUser, path, uid string) (camsd.SeedUser, error) {
	u := camsd.SeedUser{Name: string(r.Name)} // checked by the caller, with its uniqueness
	var err error
	if u.AccessKeys, err = b.accessKeys(r.AccessKeys, path+".access_keys", uid, u.Name); err != nil {
		return u, err
	}
	for i, doc := range r.Policies {
		policyPath := index(path+".policies", i)
		if doc == "" {
			return u, &problem{path: policyPath, msg: "missing policy document"}
		}
		// The server parses policies again when it evaluates them; parsing here turns a bad
		// one into a start-up error instead of a user who is denied everything.
		if _, err := ram.Parse([]byte(doc)); err != nil {
			return u, &problem{path: policyPath, msg: err.Error()}
		}
		u.Policies = append(u.Policies, string(doc))
	}
	return u, nil
}

// accessKeys checks the keys of the account uid, or of its RAM user userName.
func (b *builder) accessKeys(rs []rawKey, path, uid, userName string) ([]camsd.AccessKey, error) {
	var keys []camsd.AccessKey
	for i, r := range rs {
		keyPath := index(path, i)
		k := camsd.AccessKey{
			ID:       string(r.ID),
			Secret:   string(r.Secret),
			UID:      uid,
			UserName: userName,
			Status:   camsd.KeyStatus(r.Status),
		}
		if p := claim(b.keys, keyPath+".id", k.ID, identifier, "AccessKey id", "an AccessKey id is letters, digits, '.', '_' and '-'"); p != nil {
			return nil, p
		}
		if strings.HasPrefix(k.ID, camsd.STSKeyPrefix) {
			return nil, &problem{path: keyPath + ".id", msg: fmt.Sprintf("%q: ids that start with %q are STS temporary credentials, which AssumeRole issues", k.ID, camsd.STSKeyPrefix)}
		}
		if k.Secret == "" {
			return nil, &problem{path: keyPath + ".secret", msg: "missing"}
		}
		switch k.Status {
		case "":
			k.Status = camsd.KeyActive
		case camsd.KeyActive, camsd.KeyInactive:
		default:
			return nil, &problem{path: keyPath + ".status", msg: fmt.Sprintf("%q: want Active or Inactive", k.Status)}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// claim checks that an identifier is given, well formed and not used before in the file
// (seen maps each one to where it first stood), and records it.
func claim(seen map[string]string, path, v string, valid func(string) bool, name, form string) *problem {
	switch {
	case v == "":
		return &problem{path: path, msg: "missing"}
	case !valid(v):
		return &problem{path: path, msg: fmt.Sprintf("%q: %s", v, form)}
	}
	if first, dup := seen[v]; dup {
		return &problem{path: path, msg: fmt.Sprintf("duplicate %s %q", name, v), first: first}
	}
	seen[v] = path
	return nil
}
