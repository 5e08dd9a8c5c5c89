package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/camsd/camsd/admin"
)

// roleCommand is `camsd admin role`: RAM roles that STS's AssumeRole issues temporary
// credentials for. The admin API lists roles and puts one whole, so there is no verb that
// changes a part of a role: put it again with every document.
func (a *adminCLI) roleCommand() *cobra.Command {
	cmd := group("role", "RAM roles (for STS AssumeRole): put, list, show")
	cmd.AddCommand(a.rolePut(), a.roleList(), a.roleShow())
	return cmd
}

func (a *adminCLI) rolePut() *cobra.Command {
	var c struct {
		uid, name, trust string
		maxSession       int
		policies         []string
	}
	var put *cobra.Command
	put = a.leaf("put --uid UID --name NAME [--max-session-duration SECONDS] --trust-policy FILE|- [--policy FILE|- ...]",
		"create a role or replace it whole (validated; errors name the place)",
		[]string{"uid", "name", "trust-policy"}, func(ctx context.Context) error {
			docs, err := readDocuments(a.stdin, append([]string{c.trust}, c.policies...)...)
			if err != nil {
				return err
			}
			role := admin.Role{UID: c.uid, Name: c.name, MaxSessionDuration: c.maxSession, TrustPolicy: docs[0], Policies: docs[1:]}
			return a.call(ctx, put, "PUT", "roles", nil, role)
		})
	f := put.Flags()
	f.StringVar(&c.uid, "uid", "", "the account's UID (required)")
	f.StringVar(&c.name, "name", "", "the role's name, as in its ARN acs:ram::<uid>:role/<name> (required)")
	f.IntVar(&c.maxSession, "max-session-duration", 0, "the longest session AssumeRole may grant, in seconds, 900 to 43200 (default: 3600)")
	f.StringVar(&c.trust, "trust-policy", "", "the trust policy, which names who may assume the role: a JSON file, or - for stdin (required)")
	f.StringArrayVar(&c.policies, "policy", nil, "a permission policy: a JSON file, or - for stdin; repeat for each (none: the role may do nothing)")
	_ = put.MarkFlagFilename("trust-policy", "json")
	_ = put.MarkFlagFilename("policy", "json")
	return put
}

// readDocuments reads the policy documents named (a file each, or - for stdin, which can
// give one of them only) and checks that each is JSON; the server says what else is wrong.
func readDocuments(stdin io.Reader, names ...string) ([]json.RawMessage, error) {
	docs := make([]json.RawMessage, len(names))
	stdinUsed := false
	for i, name := range names {
		if name == "-" {
			if stdinUsed {
				return nil, &usageError{msg: "only one document can be read from stdin (-)"}
			}
			stdinUsed = true
		}
		doc, err := readDocument(name, stdin)
		if err != nil {
			return nil, err
		}
		if !json.Valid(doc) {
			return nil, fmt.Errorf("policy document %s is not JSON", name)
		}
		docs[i] = doc
	}
	return docs, nil
}

func (a *adminCLI) roleList() *cobra.Command {
	var uid string
	var list *cobra.Command
	list = a.leaf("list [--uid UID]", "list roles (role show prints one's documents)", nil, func(ctx context.Context) error {
		return a.call(ctx, list, "GET", "roles", query("UID", uid), nil)
	})
	list.Flags().StringVar(&uid, "uid", "", "only this account's")
	return list
}

// roleShow is one role as role list gives it, with its documents printed in full. The admin
// API has no route for one role, so it lists the account's and picks the one named.
func (a *adminCLI) roleShow() *cobra.Command {
	var uid, name string
	var show *cobra.Command
	show = a.leaf("show --uid UID --name NAME", "print a role with its trust policy and permission policies", []string{"uid", "name"}, func(ctx context.Context) error {
		var reply struct{ Roles []json.RawMessage }
		if err := a.client.Do(ctx, "GET", "roles", query("UID", uid), nil, &reply); err != nil {
			return err
		}
		for _, raw := range reply.Roles {
			var r admin.Role
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("admin reply: %w", err)
			}
			if r.Name != name {
				continue
			}
			if a.json { // as role list --json prints it
				var b bytes.Buffer
				if err := json.Indent(&b, raw, "", "  "); err != nil {
					return err
				}
				b.WriteByte('\n')
				_, err := show.OutOrStdout().Write(b.Bytes())
				return err
			}
			return printRole(show.OutOrStdout(), r)
		}
		return fmt.Errorf("account %s has no role %q (role list --uid %s lists its roles)", uid, name, uid)
	})
	show.Flags().StringVar(&uid, "uid", "", "the account's UID (required)")
	show.Flags().StringVar(&name, "name", "", "the role's name (required)")
	return show
}

// printRole prints a role for people: "Field: value" lines, then each document indented.
func printRole(w io.Writer, r admin.Role) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "UID: %s\nName: %s\nArn: %s\nMaxSessionDuration: %d\nTrustPolicy:\n", r.UID, r.Name, r.Arn, r.MaxSessionDuration)
	indentDoc(&b, r.TrustPolicy)
	if len(r.Policies) == 0 {
		b.WriteString("Policies: (none)\n")
	}
	for i, p := range r.Policies {
		fmt.Fprintf(&b, "Policies[%d]:\n", i)
		indentDoc(&b, p)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func indentDoc(b *bytes.Buffer, doc json.RawMessage) {
	b.WriteString("  ")
	if err := json.Indent(b, doc, "  ", "  "); err != nil {
		b.Write(doc)
	}
	b.WriteByte('\n')
}
