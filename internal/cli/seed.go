package cli

import (
	"fmt"
	"strconv"
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
	// Numbers are read as strings so that a bad value from the environment
	// is reported like a bad flag, naming the setting.
	numbers := []struct {
		name, env, usage string
		p                *int
		min              int
		raw              string
	}{
		{name: "users", env: "MEMBERSHIPS_SEED_USERS", usage: "users to create", p: &d.Users},
		{name: "organizations", env: "MEMBERSHIPS_SEED_ORGANIZATIONS", usage: "organizations", p: &d.Organizations, min: 1},
		{name: "workspaces", env: "MEMBERSHIPS_SEED_WORKSPACES", usage: "workspaces per organization", p: &d.WorkspacesPerOrganization, min: 1},
		{name: "memberships", env: "MEMBERSHIPS_SEED_MEMBERSHIPS", usage: "workspace memberships per user", p: &d.MembershipsPerUser},
		{name: "roles", env: "MEMBERSHIPS_SEED_ROLES", usage: "workspace roles per workspace", p: &d.RolesPerWorkspace, min: 1},
		{name: "roles-per-membership", env: "MEMBERSHIPS_SEED_ROLES_PER_MEMBERSHIP", usage: "workspace roles per membership", p: &d.RolesPerMembership},
		{name: "segments", env: "MEMBERSHIPS_SEED_SEGMENTS", usage: "segments of the deployment", p: &d.Segments},
		{name: "chunk", env: "MEMBERSHIPS_SEED_CHUNK", usage: "users loaded per transaction", p: &d.ChunkUsers, min: 1},
	}
	var rawSeed string
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
				v, err := strconv.Atoi(n.raw)
				if err != nil || v < n.min {
					return usagef("--%s (env %s): %q is not a whole number of at least %d", n.name, n.env, n.raw, n.min)
				}
				*n.p = v
			}
			s, err := strconv.ParseUint(rawSeed, 10, 64)
			if err != nil {
				return usagef("--seed: %q is not a non-negative whole number", rawSeed)
			}
			c := d // the numbers above are parsed into d
			c.Host, c.Mode, c.Seed = strings.ToLower(host), domain.Mode(mode), s
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
	e.dbFlags(fs, &db)
	e.stringFlag(fs, &host, "host", "MEMBERSHIPS_SEED_HOST", d.Host, "host of the generated deployment")
	e.stringFlag(fs, &mode, "mode", "MEMBERSHIPS_SEED_MODE", string(d.Mode), "deployment mode: production or staging")
	for i := range numbers {
		n := &numbers[i]
		e.stringFlag(fs, &n.raw, n.name, n.env, strconv.Itoa(*n.p), n.usage)
	}
	e.stringFlag(fs, &rawSeed, "seed", "MEMBERSHIPS_SEED_SEED", strconv.FormatUint(d.Seed, 10), "random seed of the generator")
	return cmd
}
