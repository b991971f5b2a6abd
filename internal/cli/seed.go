package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/progress"
	"github.com/wachtbench/memberships/internal/seed"
)

func seedCmd(e env) *cobra.Command {
	var db dbConfig
	var host, mode string
	d := seed.Default()
	numbers := []struct {
		name, usage string
		p           *int
		min         int
	}{
		{name: "users", usage: "users to create", p: &d.Users},
		{name: "organizations", usage: "organizations", p: &d.Organizations, min: 1},
		{name: "workspaces", usage: "workspaces per organization", p: &d.WorkspacesPerOrganization, min: 1},
		{name: "memberships", usage: "workspace memberships per user", p: &d.MembershipsPerUser},
		{name: "roles", usage: "workspace roles per workspace", p: &d.RolesPerWorkspace, min: 1},
		{name: "roles-per-membership", usage: "workspace roles per membership", p: &d.RolesPerMembership},
		{name: "segments", usage: "segments of the deployment", p: &d.Segments},
		{name: "chunk", usage: "users loaded per transaction", p: &d.ChunkUsers, min: 1},
	}
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill the database with a synthetic data set of a chosen size",
		Long: `Create one deployment on --host with organizations, workspaces, roles and
segments, then users with their organization and workspace memberships,
loaded in chunks of --chunk users (each chunk all or nothing). Users are
user0@HOST, user1@HOST, …: mint a token with
  memberships token --host HOST --user user0@HOST
The random choices follow --seed; ids are fresh, so seeding again (with
another --host) adds a second deployment.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range numbers {
				if *n.p < n.min {
					return badValue(cmd.Flags(), n.name, "%d is less than %d", *n.p, n.min)
				}
			}
			c := d // the flags are parsed into d
			c.Host, c.Mode = strings.ToLower(host), domain.Mode(mode)
			if err := c.Validate(); err != nil {
				return usagef("%v", err)
			}

			ctx := cmd.Context()
			st, err := db.open(ctx) // seals the new key like load does
			if err != nil {
				return err
			}
			defer st.Close()
			bar := progress.Bar(cmd.ErrOrStderr(), c.Users, "seeding users",
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
			start, memberships := time.Now(), 0
			err = seed.Generate(ctx, c, func(ds *domain.Dataset, users int) error {
				if err := st.Load(ctx, ds); err != nil {
					return err
				}
				memberships += len(ds.WorkspaceMemberships)
				return bar.Set(users)
			})
			if err != nil {
				return fmt.Errorf("seeding %s: %w (chunks loaded before this one stay)", db.name(), err)
			}
			_ = bar.Finish()
			fmt.Fprintf(cmd.OutOrStdout(), "%s: deployment %s: %d users, %d organizations, %d workspaces, %d workspace memberships in %s\n",
				db.name(), c.Host, c.Users, c.Organizations, c.Organizations*c.WorkspacesPerOrganization, memberships, time.Since(start).Round(time.Millisecond))
			fmt.Fprintf(cmd.OutOrStdout(), "token: memberships token --db %s --host %s --user %s\n", db.name(), c.Host, seed.Email(c, 0))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&host, "host", d.Host, "host of the generated deployment")
	fs.StringVar(&mode, "mode", string(d.Mode), "deployment mode: production or staging")
	for _, n := range numbers {
		usage := n.usage
		if n.min > 0 {
			usage = fmt.Sprintf("%s, at least %d", usage, n.min)
		}
		fs.IntVar(n.p, n.name, *n.p, usage)
	}
	fs.Uint64Var(&d.Seed, "seed", d.Seed, "random seed of the generator")
	envPrefix(fs, "MEMBERSHIPS_SEED_") // seed's own settings; the database's below are everyone's
	e.dbFlags(fs, &db)
	return cmd
}
