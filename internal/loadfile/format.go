package loadfile

import "gopkg.in/yaml.v3"

// The file format, as decoded. docs/load-format.md documents every field;
// keep the two in step. Ids, timestamps and metadata stay raw here so the
// builder can report problems with the path of the entry at fault.

type file struct {
	Deployments []deploymentIn `yaml:"deployments"`
}

// entity holds what every entry may carry.
type entity struct {
	ID        rawNode `yaml:"id"`
	CreatedAt string  `yaml:"created_at"`
	UpdatedAt string  `yaml:"updated_at"`
	DeletedAt string  `yaml:"deleted_at"`
}

type deploymentIn struct {
	entity                         `yaml:",inline"`
	Hosts                          []string         `yaml:"hosts"`
	AllowedOrigins                 []string         `yaml:"allowed_origins"`
	CookieDomain                   string           `yaml:"cookie_domain"`
	Mode                           string           `yaml:"mode"`
	IPAllowlistPerWorkspaceEnabled bool             `yaml:"ip_allowlist_per_workspace_enabled"`
	EnforceMFAPerWorkspaceEnabled  bool             `yaml:"enforce_mfa_per_workspace_enabled"`
	PrivateKey                     string           `yaml:"private_key"`
	Segments                       []segmentIn      `yaml:"segments"`
	Users                          []userIn         `yaml:"users"`
	Organizations                  []organizationIn `yaml:"organizations"`
}

type segmentIn struct {
	entity `yaml:",inline"`
	Name   string `yaml:"name"`
	Type   string `yaml:"type"`
}

type userIn struct {
	entity               `yaml:",inline"`
	Email                string            `yaml:"email"`
	FirstName            string            `yaml:"first_name"`
	LastName             string            `yaml:"last_name"`
	BackupCodesGenerated bool              `yaml:"backup_codes_generated"`
	Authenticators       []authenticatorIn `yaml:"authenticators"`
}

type authenticatorIn struct {
	entity `yaml:",inline"`
	Type   string `yaml:"type"`
}

// group is what organizations and workspaces share.
type group struct {
	entity              `yaml:",inline"`
	Name                string   `yaml:"name"`
	ImageURL            string   `yaml:"image_url"`
	Description         string   `yaml:"description"`
	PublicMetadata      rawNode  `yaml:"public_metadata"`
	PrivateMetadata     rawNode  `yaml:"private_metadata"`
	EnableIPRestriction bool     `yaml:"enable_ip_restriction"`
	WhitelistedIPs      []string `yaml:"whitelisted_ips"`
	Segments            []string `yaml:"segments"`
	Roles               []roleIn `yaml:"roles"`
}

type organizationIn struct {
	group                 `yaml:",inline"`
	EnforceMFA            bool          `yaml:"enforce_mfa"`
	AutoAssignedWorkspace string        `yaml:"auto_assigned_workspace"`
	Members               []memberIn    `yaml:"members"`
	Workspaces            []workspaceIn `yaml:"workspaces"`
}

type workspaceIn struct {
	group      `yaml:",inline"`
	Enforce2FA bool                `yaml:"enforce_2fa"`
	Members    []workspaceMemberIn `yaml:"members"`
}

type roleIn struct {
	entity      `yaml:",inline"`
	Name        string   `yaml:"name"`
	Permissions []string `yaml:"permissions"`
}

type memberIn struct {
	entity `yaml:",inline"`
	User   string   `yaml:"user"`
	Roles  []string `yaml:"roles"`
}

type workspaceMemberIn struct {
	memberIn       `yaml:",inline"`
	PublicMetadata rawNode `yaml:"public_metadata"`
}

// rawNode keeps a value's node for the builder to interpret (ids may be
// strings or integers, metadata is free-form).
type rawNode struct{ n *yaml.Node }

func (r *rawNode) UnmarshalYAML(n *yaml.Node) error {
	r.n = n
	return nil
}

// set reports whether the value is present and not null.
func (r rawNode) set() bool {
	return r.n != nil && !(r.n.Kind == yaml.ScalarNode && r.n.ShortTag() == "!!null")
}
