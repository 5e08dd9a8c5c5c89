package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/camsd/camsd/admin"
)

const adminUsage = `usage: camsd admin [--server URL] NOUN VERB [flags]

The admin API of a running camsd (serve --admin-listen, default 127.0.0.1:8081). The token
is read from CAMSD_ADMIN_TOKEN, as the server reads it.

  account create --uid UID --name NAME [--subscribed] [--qps N]
  account list | subscribe --uid UID | unsubscribe --uid UID
  key create --uid UID [--user NAME]        prints AccessKeyId and AccessKeySecret once
  key list [--uid UID] | disable --id AKID | enable --id AKID | delete --id AKID
  user create --uid UID --name NAME
  user list [--uid UID]
  policy attach --uid UID --user NAME --document FILE|-
  space create --uid UID --cust-space-id ID [--name NAME] [--waba-id ID] [--pin PIN]
  space whatsapp --cust-space-id ID [--waba-id ID] [--pin PIN]   (for --provider whatsapp)
  space list [--uid UID]
  number add --cust-space-id ID --phone-number N [--id ID] [--status MIGRATING|CONNECTED]
  number list [--uid UID] [--cust-space-id ID]
  audit list [--phone-number N] [--uid UID] [--limit N]
  rotate-master-key (or: master-key rotate)   seals every secret with the server's master key

Every command takes --json to print the reply as JSON.
`

// adminCmd is one parsed `camsd admin` command.
type adminCmd struct {
	noun, verb string
	fs         *flag.FlagSet
	json       bool
	v          map[string]*string
	subscribed bool
}

func (c *adminCmd) s(name string) string { return *c.v[name] }

// runAdmin runs `camsd admin`; exit 0 on success, 1 on an error reply or a failed call, 2 on
// a usage error.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	top := flag.NewFlagSet("admin", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(stderr, adminUsage) }
	server := top.String("server", envOr(getenv, "CAMSD_ADMIN_URL", "http://127.0.0.1:8081"), "admin API address")
	if err := top.Parse(args); err != nil {
		return 2
	}
	if top.Arg(0) == "rotate-master-key" { // the name: one word, not NOUN VERB
		if err := top.Parse(append([]string{"--server", *server, "master-key", "rotate"}, top.Args()[1:]...)); err != nil {
			return 2
		}
	}
	if top.NArg() < 2 {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	c := &adminCmd{noun: top.Arg(0), verb: top.Arg(1), v: map[string]*string{}}
	c.fs = flag.NewFlagSet("admin "+c.noun+" "+c.verb, flag.ContinueOnError)
	c.fs.SetOutput(stderr)
	c.fs.BoolVar(&c.json, "json", false, "print the reply as JSON")
	c.fs.BoolVar(&c.subscribed, "subscribed", false, "the account has activated CAMS")
	for _, name := range []string{"uid", "name", "qps", "user", "id", "document", "cust-space-id", "phone-number", "status", "limit", "waba-id", "pin"} {
		c.v[name] = c.fs.String(name, "", "")
	}
	if err := c.fs.Parse(top.Args()[2:]); err != nil {
		return 2
	}
	token := getenv("CAMSD_ADMIN_TOKEN")
	if token == "" {
		fmt.Fprintln(stderr, "camsd admin: CAMSD_ADMIN_TOKEN is not set (the token the server was started with)")
		return 2
	}
	client := &admin.Client{URL: *server, Token: token}
	err := c.run(ctx, client, stdin, stdout)
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "camsd admin: %v\n\n%s", err, adminUsage)
		return 2
	default:
		fmt.Fprintln(stderr, "camsd admin:", err)
		return 1
	}
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// need returns a usage error naming the first of the flags that is empty.
func (c *adminCmd) need(names ...string) error {
	for _, n := range names {
		if c.s(n) == "" {
			return &usageError{fmt.Sprintf("%s %s needs --%s", c.noun, c.verb, n)}
		}
	}
	return nil
}

func (c *adminCmd) run(ctx context.Context, cl *admin.Client, stdin io.Reader, stdout io.Writer) error {
	var reply json.RawMessage
	do := func(method, path string, q url.Values, in any) error {
		return cl.Do(ctx, method, path, q, in, &reply)
	}
	byUID := func() url.Values {
		q := url.Values{}
		if c.s("uid") != "" {
			q.Set("UID", c.s("uid"))
		}
		return q
	}
	var err error
	switch c.noun + " " + c.verb {
	case "account create":
		if err = c.need("uid", "name"); err != nil {
			return err
		}
		qps := 0
		if c.s("qps") != "" {
			if qps, err = strconv.Atoi(c.s("qps")); err != nil {
				return &usageError{"--qps is a number"}
			}
		}
		err = do("POST", "accounts", nil, admin.Account{UID: c.s("uid"), Name: c.s("name"), Subscribed: c.subscribed, QPS: qps})
	case "account list":
		err = do("GET", "accounts", nil, nil)
	case "account subscribe", "account unsubscribe":
		if err = c.need("uid"); err != nil {
			return err
		}
		err = do("POST", "accounts/"+url.PathEscape(c.s("uid"))+"/"+c.verb, nil, nil)
	case "key create":
		if err = c.need("uid"); err != nil {
			return err
		}
		if err = do("POST", "keys", nil, map[string]string{"UID": c.s("uid"), "UserName": c.s("user")}); err != nil {
			return err
		}
		var k admin.Key
		if err := json.Unmarshal(reply, &k); err != nil {
			return err
		}
		if c.json {
			return printJSON(stdout, map[string]string{"AccessKeyId": k.AccessKeyId, "AccessKeySecret": k.AccessKeySecret})
		}
		fmt.Fprintf(stdout, "AccessKeyId: %s\nAccessKeySecret: %s\n# the secret is shown once; keep it now\n", k.AccessKeyId, k.AccessKeySecret)
		return nil
	case "key list":
		err = do("GET", "keys", byUID(), nil)
	case "key disable", "key enable":
		if err = c.need("id"); err != nil {
			return err
		}
		err = do("POST", "keys/"+url.PathEscape(c.s("id"))+"/"+c.verb, nil, nil)
	case "key delete":
		if err = c.need("id"); err != nil {
			return err
		}
		err = do("DELETE", "keys/"+url.PathEscape(c.s("id")), nil, nil)
	case "user create":
		if err = c.need("uid", "name"); err != nil {
			return err
		}
		err = do("POST", "users", nil, map[string]string{"UID": c.s("uid"), "Name": c.s("name")})
	case "user list":
		err = do("GET", "users", byUID(), nil)
	case "policy attach":
		if err = c.need("uid", "user", "document"); err != nil {
			return err
		}
		doc, rerr := readDocument(c.s("document"), stdin)
		if rerr != nil {
			return rerr
		}
		if !json.Valid(doc) {
			return fmt.Errorf("policy document %s is not JSON", c.s("document"))
		}
		err = do("POST", "policies", nil, admin.Policy{UID: c.s("uid"), UserName: c.s("user"), Document: doc})
	case "space create":
		if err = c.need("uid", "cust-space-id"); err != nil {
			return err
		}
		err = do("POST", "spaces", nil, admin.Space{UID: c.s("uid"), CustSpaceId: c.s("cust-space-id"), Name: c.s("name"), WabaId: c.s("waba-id"), Pin: c.s("pin")})
	case "space whatsapp":
		if err = c.need("cust-space-id"); err != nil {
			return err
		}
		err = do("POST", "spaces/"+url.PathEscape(c.s("cust-space-id"))+"/whatsapp", nil, map[string]string{"WabaId": c.s("waba-id"), "Pin": c.s("pin")})
	case "space list":
		err = do("GET", "spaces", byUID(), nil)
	case "number add":
		if err = c.need("cust-space-id", "phone-number"); err != nil {
			return err
		}
		err = do("POST", "numbers", nil, admin.Number{CustSpaceId: c.s("cust-space-id"), PhoneNumber: c.s("phone-number"), Id: c.s("id"), Status: c.s("status")})
	case "number list":
		q := byUID()
		if c.s("cust-space-id") != "" {
			q.Set("CustSpaceId", c.s("cust-space-id"))
		}
		err = do("GET", "numbers", q, nil)
	case "master-key rotate":
		return rotateMasterKey(ctx, cl, stdout, c.json)
	case "audit list":
		q := byUID()
		if c.s("phone-number") != "" {
			q.Set("PhoneNumber", c.s("phone-number"))
		}
		if c.s("limit") != "" {
			q.Set("Limit", c.s("limit"))
		}
		err = do("GET", "audit", q, nil)
	default:
		return &usageError{fmt.Sprintf("unknown command %q", c.noun+" "+c.verb)}
	}
	if err != nil {
		return err
	}
	if c.json {
		_, err := stdout.Write(append(reply, '\n'))
		return err
	}
	return printTable(stdout, reply)
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
var columns = []string{"At", "Action", "UID", "Name", "AccessKeyId", "UserName", "CustSpaceId", "WabaId", "PhoneNumber", "Id", "Status", "Subscribed", "QPS", "Outcome", "AccessKeyID", "RequestID", "Detail", "Policies", "Deleted"}

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
