package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/camsd/camsd/admin"
)

const adminLong = `The admin API of a running camsd (serve --admin-listen, default 127.0.0.1:8081). The token
is read from CAMSD_ADMIN_TOKEN, as the server reads it; the address from --server, else
CAMSD_ADMIN_URL. Every command takes --json to print the reply as JSON, and only the flags
its help lists.`

// adminCLI is what `camsd admin`'s commands share: the two flags every one of them takes,
// the client made from them and the token, and stdin (policy attach --document -, role put's
// documents). Each command declares its own flags besides, so that one it does not take is an
// error.
type adminCLI struct {
	getenv func(string) string
	stdin  io.Reader
	server string
	json   bool
	client *admin.Client
}

// newAdminCommand returns `camsd admin` and its commands, NOUN VERB as the admin API names
// its resources. Exit codes: 0 on success, 1 on an error reply or a failed call, 2 on a
// usage error.
func newAdminCommand(getenv func(string) string, stdin io.Reader) *cobra.Command {
	a := &adminCLI{getenv: getenv, stdin: stdin}
	cmd := group("admin", "manage tenants on a running server")
	cmd.Long = adminLong
	f := cmd.PersistentFlags()
	f.StringVar(&a.server, "server", envOr(getenv, "CAMSD_ADMIN_URL", "http://127.0.0.1:8081"), "admin API address (CAMSD_ADMIN_URL)")
	f.BoolVar(&a.json, "json", false, "print the reply as JSON")
	cmd.AddCommand(a.accountCommand(), a.keyCommand(), a.userCommand(), a.policyCommand(),
		a.roleCommand(), a.spaceCommand(), a.numberCommand(), a.auditCommand(), a.masterKeyCommand(), a.rotateMasterKey("rotate-master-key"))
	noFileCompletion(cmd)
	return cmd
}

// group is a command that only holds others: run alone it is a usage error that prints its
// usage, and a word that names none of them is an unknown command (cobra would print the
// help and exit 0).
func group(name, short string) *cobra.Command {
	return &cobra.Command{
		Use:                   name,
		Short:                 short,
		Args:                  cobra.ArbitraryArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{}
			}
			return &usageError{msg: fmt.Sprintf("unknown command %q", strings.TrimPrefix(cmd.CommandPath()+" "+args[0], "camsd admin "))}
		},
	}
}

// leaf is an admin command that takes flags only. Before run, it checks that the token is
// set and that the flags named in need are not empty.
func (a *adminCLI) leaf(use, short string, need []string, run func(ctx context.Context) error) *cobra.Command {
	return &cobra.Command{
		Use:                   use,
		Short:                 short,
		DisableFlagsInUseLine: true, // use names them
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &usageError{msg: fmt.Sprintf("%s takes no argument %q (its values are flags)", nounVerb(cmd), args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.connect(); err != nil {
				return err
			}
			for _, n := range need {
				if cmd.Flags().Lookup(n).Value.String() == "" {
					return &usageError{msg: fmt.Sprintf("%s needs --%s", nounVerb(cmd), n)}
				}
			}
			return run(cmd.Context())
		},
	}
}

// nounVerb names an admin command as its usage does: "key create".
func nounVerb(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), "camsd admin ")
}

// connect makes the client: the token is read as the server reads it.
func (a *adminCLI) connect() error {
	token := a.getenv("CAMSD_ADMIN_TOKEN")
	if token == "" {
		return &exitError{code: 2, err: fmt.Errorf("CAMSD_ADMIN_TOKEN is not set (the token the server was started with)")}
	}
	a.client = &admin.Client{URL: a.server, Token: token}
	return nil
}

// call makes one admin API request and prints its reply: a table (or "Field: value" lines)
// for people, the reply as it came with --json.
func (a *adminCLI) call(ctx context.Context, cmd *cobra.Command, method, path string, q url.Values, in any) error {
	var reply json.RawMessage
	if err := a.client.Do(ctx, method, path, q, in, &reply); err != nil {
		return err
	}
	if a.json {
		_, err := cmd.OutOrStdout().Write(append(reply, '\n'))
		return err
	}
	return printTable(cmd.OutOrStdout(), reply)
}

// query is the filters of a list command: each non-empty value under its API name.
func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

func (a *adminCLI) accountCommand() *cobra.Command {
	cmd := group("account", "accounts (tenants): create, list, subscribe, unsubscribe")
	var c struct {
		uid, name  string
		subscribed bool
		qps        int
	}
	var create *cobra.Command
	create = a.leaf("create --uid UID --name NAME [--subscribed] [--qps N]", "create an account", []string{"uid", "name"}, func(ctx context.Context) error {
		return a.call(ctx, create, "POST", "accounts", nil, admin.Account{UID: c.uid, Name: c.name, Subscribed: c.subscribed, QPS: c.qps})
	})
	create.Flags().StringVar(&c.uid, "uid", "", "the account's UID (required)")
	create.Flags().StringVar(&c.name, "name", "", "its name (required)")
	create.Flags().BoolVar(&c.subscribed, "subscribed", false, "the account has activated CAMS")
	create.Flags().IntVar(&c.qps, "qps", 0, "its calls per second per action (0: the server's --qps)")

	var list *cobra.Command
	list = a.leaf("list", "list the accounts", nil, func(ctx context.Context) error {
		return a.call(ctx, list, "GET", "accounts", nil, nil)
	})
	cmd.AddCommand(create, list, a.subscribe("subscribe", "the account activates CAMS"), a.subscribe("unsubscribe", "the account's calls are refused as not subscribed"))
	return cmd
}

func (a *adminCLI) subscribe(verb, short string) *cobra.Command {
	var uid string
	var cmd *cobra.Command
	cmd = a.leaf(verb+" --uid UID", short, []string{"uid"}, func(ctx context.Context) error {
		return a.call(ctx, cmd, "POST", "accounts/"+url.PathEscape(uid)+"/"+verb, nil, nil)
	})
	cmd.Flags().StringVar(&uid, "uid", "", "the account's UID (required)")
	return cmd
}

func (a *adminCLI) keyCommand() *cobra.Command {
	cmd := group("key", "AccessKeys: create, list, disable, enable, delete")
	var uid, user string
	var create *cobra.Command
	create = a.leaf("create --uid UID [--user NAME]", "make an AccessKey; prints its secret, once", []string{"uid"}, func(ctx context.Context) error {
		var k admin.Key
		if err := a.client.Do(ctx, "POST", "keys", nil, map[string]string{"UID": uid, "UserName": user}, &k); err != nil {
			return err
		}
		out := create.OutOrStdout()
		if a.json {
			return printJSON(out, map[string]string{"AccessKeyId": k.AccessKeyId, "AccessKeySecret": k.AccessKeySecret})
		}
		_, err := fmt.Fprintf(out, "AccessKeyId: %s\nAccessKeySecret: %s\n# the secret is shown once; keep it now\n", k.AccessKeyId, k.AccessKeySecret)
		return err
	})
	create.Flags().StringVar(&uid, "uid", "", "the account's UID (required)")
	create.Flags().StringVar(&user, "user", "", "the RAM user the key signs as (default: the account's own key)")

	var listUID string
	var list *cobra.Command
	list = a.leaf("list [--uid UID]", "list AccessKeys, never their secrets", nil, func(ctx context.Context) error {
		return a.call(ctx, list, "GET", "keys", query("UID", listUID), nil)
	})
	list.Flags().StringVar(&listUID, "uid", "", "only this account's")

	cmd.AddCommand(create, list,
		a.keyChange("disable", "POST", "calls signed with the key are refused (InvalidAccessKeyId.Inactive)"),
		a.keyChange("enable", "POST", "the key signs again"),
		a.keyChange("delete", "DELETE", "delete the key"))
	return cmd
}

// keyChange is key disable, enable or delete: one key by its id.
func (a *adminCLI) keyChange(verb, method, short string) *cobra.Command {
	var id string
	var cmd *cobra.Command
	cmd = a.leaf(verb+" --id AKID", short, []string{"id"}, func(ctx context.Context) error {
		path := "keys/" + url.PathEscape(id)
		if verb != "delete" {
			path += "/" + verb
		}
		return a.call(ctx, cmd, method, path, nil, nil)
	})
	cmd.Flags().StringVar(&id, "id", "", "the AccessKeyId (required)")
	return cmd
}

func (a *adminCLI) userCommand() *cobra.Command {
	cmd := group("user", "RAM users: create, list")
	var uid, name string
	var create *cobra.Command
	create = a.leaf("create --uid UID --name NAME", "create a RAM user", []string{"uid", "name"}, func(ctx context.Context) error {
		return a.call(ctx, create, "POST", "users", nil, map[string]string{"UID": uid, "Name": name})
	})
	create.Flags().StringVar(&uid, "uid", "", "the account's UID (required)")
	create.Flags().StringVar(&name, "name", "", "the user's name (required)")

	var listUID string
	var list *cobra.Command
	list = a.leaf("list [--uid UID]", "list RAM users", nil, func(ctx context.Context) error {
		return a.call(ctx, list, "GET", "users", query("UID", listUID), nil)
	})
	list.Flags().StringVar(&listUID, "uid", "", "only this account's")
	cmd.AddCommand(create, list)
	return cmd
}

func (a *adminCLI) policyCommand() *cobra.Command {
	cmd := group("policy", "RAM policies: attach")
	var uid, user, document string
	var attach *cobra.Command
	attach = a.leaf("attach --uid UID --user NAME --document FILE|-", "attach a RAM policy to a user (validated; errors name the place)", []string{"uid", "user", "document"}, func(ctx context.Context) error {
		doc, err := readDocument(document, a.stdin)
		if err != nil {
			return err
		}
		if !json.Valid(doc) {
			return fmt.Errorf("policy document %s is not JSON", document)
		}
		return a.call(ctx, attach, "POST", "policies", nil, admin.Policy{UID: uid, UserName: user, Document: doc})
	})
	attach.Flags().StringVar(&uid, "uid", "", "the account's UID (required)")
	attach.Flags().StringVar(&user, "user", "", "the RAM user's name (required)")
	attach.Flags().StringVar(&document, "document", "", "the policy document: a JSON file, or - for stdin (required)")
	_ = attach.MarkFlagFilename("document", "json")
	cmd.AddCommand(attach)
	return cmd
}

func (a *adminCLI) spaceCommand() *cobra.Command {
	cmd := group("space", "spaces (CustSpaceId): create, whatsapp, list")
	var c struct{ uid, space, name, waba, pin string }
	var create *cobra.Command
	create = a.leaf("create --uid UID --cust-space-id ID [--name NAME] [--waba-id ID] [--pin PIN]", "create a space", []string{"uid", "cust-space-id"}, func(ctx context.Context) error {
		return a.call(ctx, create, "POST", "spaces", nil, admin.Space{UID: c.uid, CustSpaceId: c.space, Name: c.name, WabaId: c.waba, Pin: c.pin})
	})
	create.Flags().StringVar(&c.uid, "uid", "", "the account's UID (required)")
	create.Flags().StringVar(&c.space, "cust-space-id", "", "the space's CustSpaceId (required)")
	create.Flags().StringVar(&c.name, "name", "", "its name")
	create.Flags().StringVar(&c.waba, "waba-id", "", "its WhatsApp Business Account id (--provider whatsapp)")
	create.Flags().StringVar(&c.pin, "pin", "", "its numbers' two-step verification PIN (--provider whatsapp)")

	var w struct{ space, waba, pin string }
	var whatsapp *cobra.Command
	whatsapp = a.leaf("whatsapp --cust-space-id ID [--waba-id ID] [--pin PIN]", "set a space's WhatsApp account and PIN (for --provider whatsapp)", []string{"cust-space-id"}, func(ctx context.Context) error {
		return a.call(ctx, whatsapp, "POST", "spaces/"+url.PathEscape(w.space)+"/whatsapp", nil, map[string]string{"WabaId": w.waba, "Pin": w.pin})
	})
	whatsapp.Flags().StringVar(&w.space, "cust-space-id", "", "the space's CustSpaceId (required)")
	whatsapp.Flags().StringVar(&w.waba, "waba-id", "", "its WhatsApp Business Account id")
	whatsapp.Flags().StringVar(&w.pin, "pin", "", "its numbers' two-step verification PIN")

	var listUID string
	var list *cobra.Command
	list = a.leaf("list [--uid UID]", "list spaces", nil, func(ctx context.Context) error {
		return a.call(ctx, list, "GET", "spaces", query("UID", listUID), nil)
	})
	list.Flags().StringVar(&listUID, "uid", "", "only this account's")
	cmd.AddCommand(create, whatsapp, list)
	return cmd
}

func (a *adminCLI) numberCommand() *cobra.Command {
	cmd := group("number", "phone numbers: add, list")
	var c struct{ space, phone, id, status string }
	var add *cobra.Command
	add = a.leaf("add --cust-space-id ID --phone-number N [--id ID] [--status MIGRATING|CONNECTED]", "add a number to a space, under the flow's rules", []string{"cust-space-id", "phone-number"}, func(ctx context.Context) error {
		return a.call(ctx, add, "POST", "numbers", nil, admin.Number{CustSpaceId: c.space, PhoneNumber: c.phone, Id: c.id, Status: c.status})
	})
	add.Flags().StringVar(&c.space, "cust-space-id", "", "the space's CustSpaceId (required)")
	add.Flags().StringVar(&c.phone, "phone-number", "", "the number, country code first, digits only (required)")
	add.Flags().StringVar(&c.id, "id", "", "its phone-number id (default: a new one)")
	add.Flags().StringVar(&c.status, "status", "", "MIGRATING (default) or CONNECTED")
	_ = add.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"MIGRATING", "CONNECTED"}, cobra.ShellCompDirectiveNoFileComp))

	var l struct{ uid, space string }
	var list *cobra.Command
	list = a.leaf("list [--uid UID] [--cust-space-id ID]", "list numbers", nil, func(ctx context.Context) error {
		return a.call(ctx, list, "GET", "numbers", query("UID", l.uid, "CustSpaceId", l.space), nil)
	})
	list.Flags().StringVar(&l.uid, "uid", "", "only this account's")
	list.Flags().StringVar(&l.space, "cust-space-id", "", "only this space's")
	cmd.AddCommand(add, list)
	return cmd
}

func (a *adminCLI) auditCommand() *cobra.Command {
	cmd := group("audit", "the audit trail: list")
	var c struct {
		phone, uid string
		limit      int
	}
	var list *cobra.Command
	list = a.leaf("list [--phone-number N] [--uid UID] [--limit N]", "who did what to a number, when", nil, func(ctx context.Context) error {
		q := query("UID", c.uid, "PhoneNumber", c.phone)
		if list.Flags().Changed("limit") {
			q.Set("Limit", strconv.Itoa(c.limit))
		}
		return a.call(ctx, list, "GET", "audit", q, nil)
	})
	list.Flags().StringVar(&c.phone, "phone-number", "", "only this number's")
	list.Flags().StringVar(&c.uid, "uid", "", "only this account's")
	list.Flags().IntVar(&c.limit, "limit", 0, "at most this many records, newest first (default: the server's)")
	cmd.AddCommand(list)
	return cmd
}

func (a *adminCLI) masterKeyCommand() *cobra.Command {
	cmd := group("master-key", "the master key that seals secrets at rest: rotate")
	cmd.AddCommand(a.rotateMasterKey("rotate"))
	return cmd
}

// rotateMasterKey is `rotate-master-key`, the name, and `master-key rotate`, its
// NOUN VERB form.
func (a *adminCLI) rotateMasterKey(use string) *cobra.Command {
	var cmd *cobra.Command
	cmd = a.leaf(use, "seal every secret with the server's master key (its first); run it once every replica has the new key", nil, func(ctx context.Context) error {
		return rotateMasterKey(ctx, a.client, cmd.OutOrStdout(), a.json)
	})
	return cmd
}

// noFileCompletion makes the shells offer no file names for the values of cmd's flags and its
// commands' flags, but for those that complete otherwise (policy attach --document, role put's
// documents).
func noFileCompletion(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		noFileCompletion(c)
	}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[cobra.BashCompFilenameExt]; ok {
			return
		}
		if _, ok := cmd.GetFlagCompletionFunc(f.Name); ok {
			return
		}
		_ = cmd.RegisterFlagCompletionFunc(f.Name, cobra.NoFileCompletions)
	})
}

func readDocument(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, 1<<20))
	}
	return os.ReadFile(name)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

// printTable prints a reply for people: a list as a table with a header, an object as
// "Field: value" lines.
func printTable(w io.Writer, reply json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(reply, &obj); err != nil {
		_, err := fmt.Fprintf(w, "%s\n", reply)
		return err
	}
	if len(obj) == 1 {
		for _, v := range obj {
			var rows []map[string]any
			if json.Unmarshal(v, &rows) == nil {
				return printRows(w, rows)
			}
		}
	}
	var fields map[string]any
	_ = json.Unmarshal(reply, &fields)
	return printRows(w, []map[string]any{fields})
}

// columns orders a table's columns: the names people look for first, the rest after.
var columns = []string{"At", "Action", "UID", "Name", "Arn", "MaxSessionDuration", "AccessKeyId", "UserName", "CustSpaceId", "WabaId", "PhoneNumber", "Id", "Status", "Subscribed", "QPS", "Outcome", "AccessKeyID", "RequestID", "Detail", "Policies", "Deleted"}

func printRows(w io.Writer, rows []map[string]any) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "(none)")
		return err
	}
	var cols []string
	for _, c := range columns {
		for _, r := range rows {
			if _, ok := r[c]; ok {
				cols = append(cols, c)
				break
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		var cells []string
		for _, c := range cols {
			cells = append(cells, cell(r[c]))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && strings.Contains(v, "T") {
			return t.UTC().Format(time.RFC3339)
		}
		if v == "" {
			return "-"
		}
		return v
	case []any:
		return strconv.Itoa(len(v))
	default:
		return fmt.Sprint(v)
	}
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
