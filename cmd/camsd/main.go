// Command camsd is a self-hosted, wire-compatible server for Alibaba Cloud's Chat App Message
// Service. This package only wires the others together.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: camsd <command> [flags]

commands:
  serve    run the server (camsd serve -h for flags)
  admin    manage tenants on a running server (camsd admin -h)
  call     call an API action, signed like the official SDK (camsd call -h)
  bench    measure the whole request path against a bare net/http handler (camsd bench -h)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		cfg, err := LoadServeConfig(args[1:], getenv, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "camsd serve:", err)
			return 2
		}
		m := NewMain(cfg, stdout, stderr)
		if err := m.Run(ctx); err != nil {
			fmt.Fprintln(stderr, "camsd serve:", err)
			return 1
		}
		return 0
	case "admin":
		return runAdmin(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "call":
		return runCall(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "camsd: unknown command %q\n%s", args[0], usage)
		return 2
	}
}
