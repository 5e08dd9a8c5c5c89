// Command camsd is a self-hosted, wire-compatible server for Alibaba Cloud's Chat App Message
// Service. This package only wires the others together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it. Exit codes: 0 on success, 1 when the
// command failed, 2 on a usage error.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(getenv, stdin, stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	var usage *usageError
	var exit *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		if usage.msg != "" {
			fmt.Fprintf(stderr, "%s: %s\n\n", errorPrefix(cmd), usage.msg)
		}
		fmt.Fprint(stderr, cmd.UsageString())
		return 2
	case errors.As(err, &exit):
		if exit.err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", errorPrefix(cmd), exit.err)
		}
		return exit.code
	default:
		fmt.Fprintf(stderr, "%s: %v\n", errorPrefix(cmd), err)
		return 1
	}
}

// newRootCommand is camsd's command tree. `camsd admin` is cobra's through and through: each
// of its commands has its own flags, help and completion. serve, call and bench keep their own
// parsers (cobra hands them their arguments as they are): serve's flags are also read from
// CAMSD_* variables by walking a flag.FlagSet, call's --Name flags are the API's parameters,
// whatever they are, and bench is a developer's tool.
func newRootCommand(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "camsd",
		Short:         "a self-hosted, wire-compatible Chat App Message Service (cams)",
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true, // run prints them, and chooses the exit code
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{}
			}
			return &usageError{msg: fmt.Sprintf("unknown command %q", args[0])}
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	root.AddCommand(
		ownFlags("serve", "run the server (camsd serve -h for flags)", func(ctx context.Context, args []string) int {
			cfg, err := LoadServeConfig(args, getenv, stderr)
			if err != nil {
				fmt.Fprintln(stderr, "camsd serve:", err)
				return 2
			}
			if err := NewMain(cfg, stdout, stderr).Run(ctx); err != nil {
				fmt.Fprintln(stderr, "camsd serve:", err)
				return 1
			}
			return 0
		}),
		newAdminCommand(getenv, stdin),
		ownFlags("call", "call an API action, signed like the official SDK (camsd call -h)", func(ctx context.Context, args []string) int {
			return runCall(ctx, args, getenv, stdout, stderr)
		}),
		ownFlags("bench", "measure the whole request path against a bare net/http handler (camsd bench -h)", func(ctx context.Context, args []string) int {
			return runBench(ctx, args, stdout, stderr)
		}),
	)
	return root
}

// ownFlags is a command that parses its arguments itself and prints its own errors; run
// returns its exit code.
func ownFlags(name, short string, run func(ctx context.Context, args []string) int) *cobra.Command {
	return &cobra.Command{
		Use:                name + " [flags]",
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := run(cmd.Context(), args); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}

// usageError is a command line camsd does not take: exit 2, with the command's usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitError ends a command with its exit code; err, if any, is printed first.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// errorPrefix names the command an error comes from as people typed it: "camsd admin" for
// all of admin's commands, whose messages name the command themselves.
func errorPrefix(cmd *cobra.Command) string {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	return cmd.CommandPath()
}

// runAdmin runs `camsd admin` with args, as run does.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, append([]string{"admin"}, args...), getenv, stdin, stdout, stderr)
}
