package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/spf13/cobra"

	memberships "github.com/wachtbench/memberships"
	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/loadfile"
)

func migrateCmd(e env) *cobra.Command {
	var db dbConfig
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := db.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "%s: schema up to date\n", db.name())
			return nil
		},
	}
	e.dbFlags(cmd.Flags(), &db)
	return cmd
}

func loadCmd(e env) *cobra.Command {
	var db dbConfig
	cmd := &cobra.Command{
		Use:   "load FILE",
		Short: "Load a YAML or JSON data set, all or nothing (format: docs/load-format.md)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := loadfile.ReadFile(args[0])
			var unreadable *fs.PathError
			switch {
			case errors.As(err, &unreadable):
				return err
			case err != nil: // too large
				return invalidData(err)
			}
			ds, err := loadfile.Parse(args[0], data, time.Now())
			if err != nil {
				return invalidData(err)
			}
			st, err := db.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Load(cmd.Context(), ds); err != nil {
				return fmt.Errorf("%s: nothing loaded: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: loaded %d deployments, %d users, %d organizations, %d workspaces, %d workspace memberships\n",
				args[0], len(ds.Deployments), len(ds.Users), len(ds.Organizations), len(ds.Workspaces), len(ds.WorkspaceMemberships))
			return nil
		},
	}
	e.dbFlags(cmd.Flags(), &db)
	return cmd
}

func tokenCmd(e env) *cobra.Command {
	var db dbConfig
	var user, host string
	var lifetime time.Duration
	cmd := &cobra.Command{
		Use:   "token --user ID|EMAIL",
		Short: "Create a session for a user and print its signed session token",
		Long: `Create a session, sign-in and rotating token for a user of the deployment on
--host, and print the session JWT (ES256, signed with the deployment's key).
Send it as the __session cookie (or, on staging deployments, the
__dev_session__ query parameter).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if lifetime <= 0 {
				return badValue(cmd.Flags(), "expires-in", "%s is not a positive duration", lifetime)
			}
			if user == "" {
				return usagef("--user is required")
			}
			ctx := cmd.Context()
			st, err := db.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, err := auth.Mint(ctx, st, host, user, lifetime)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	fs := cmd.Flags()
	e.dbFlags(fs, &db)
	fs.StringVar(&user, "user", "", "the user, by id or e-mail (required)")
	fs.StringVar(&host, "host", "localhost", "a host of the user's deployment")
	fs.DurationVar(&lifetime, "expires-in", auth.TokenLifetime, "how long the token is valid (the session lives at least as long)")
	return cmd
}

// version and commit are set by the linker (make build passes -X, since
// builds here use -buildvcs=false); otherwise build info says what it can.
var version, commit = "", ""

// appVersion is the linker's version, else the module's from build info.
func appVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return ""
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and contract version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, rev := appVersion(), commit
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && rev == "" {
						rev = s.Value
					}
				}
			}
			if rev == "" {
				rev = "unknown"
			}
			contract := "unknown"
			if spec, err := openapi3.NewLoader().LoadFromData(memberships.OpenAPI); err == nil {
				contract = spec.Info.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "memberships %s (commit %s, contract %s)\n", v, rev, contract)
			return nil
		},
	}
}
