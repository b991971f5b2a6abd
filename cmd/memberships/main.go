// Command memberships serves, migrates, loads, mints tokens for and calls the
// workspace-memberships API. See `memberships --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wachtbench/memberships/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
