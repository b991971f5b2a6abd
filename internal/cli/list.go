package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wachtbench/memberships/client"
)

// transport carries list's requests; tests wrap it to check every answer
// against the contract.
var transport http.RoundTripper = http.DefaultTransport

func listCmd() *cobra.Command {
	var url, session, org, output string
	cmd := &cobra.Command{
		Use:   "list --url URL --session TOKEN",
		Short: "Call the API through the generated client and print the memberships",
		Long: `Call GET /me/workspace-memberships on --url with the session token and print
each membership: workspace, organization, roles and eligibility. Restricted
rows are marked with their reason. An error answer is printed from the API's
error envelope and exits 6; exit 5 means --url did not answer, or answered
429 or 503 (retry later).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" || session == "" {
				return usagef("--url and --session are required")
			}
			if output != "table" && output != "json" {
				return usagef("--output: %q is not table or json", output)
			}
			c, err := client.NewClientWithResponses(url,
				client.WithSession(session),
				client.WithHTTPClient(&http.Client{Transport: transport, Timeout: 30 * time.Second}))
			if err != nil {
				return usagef("--url: %v", err)
			}
			var params client.GetUserWorkspaceMembershipsParams
			if org != "" {
				params.OrgId = &org
			}
			resp, err := c.GetUserWorkspaceMembershipsWithResponse(cmd.Context(), &params)
			if err != nil {
				return err
			}
			if err := resp.Err(); err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(resp.JSON200)
			}
			return printTable(cmd.OutOrStdout(), resp.JSON200.Data)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&url, "url", "", "base URL of the deployment, e.g. http://localhost:8080 (required)")
	fs.StringVar(&session, "session", "", "session token, from memberships token (required)")
	fs.StringVar(&org, "org", "", "only this organization's memberships (decimal id; empty: all)")
	fs.StringVar(&output, "output", "table", "output format: table or json")
	return cmd
}

func printTable(w io.Writer, data []client.WorkspaceMembership) error {
	if len(data) == 0 {
		_, err := fmt.Fprintln(w, "no workspace memberships")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKSPACE\tORGANIZATION\tROLES\tELIGIBILITY")
	for _, m := range data {
		roles := make([]string, len(m.Roles))
		for i, r := range m.Roles {
			roles[i] = r.Name
		}
		elig := "ok"
		if r := m.EligibilityRestriction; r.Type != client.None {
			elig = "RESTRICTED " + string(r.Type) + ": " + r.Message
		}
		fmt.Fprintf(tw, "%s (%s)\t%s (%s)\t%s\t%s\n",
			m.Workspace.Name, m.Workspace.Id, m.Organization.Name, m.Organization.Id,
			orDash(strings.Join(roles, ", ")), elig)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
