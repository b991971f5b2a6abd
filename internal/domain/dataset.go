package domain

import (
	"encoding/json"
	"time"
)

// Dataset is a whole data set to load, flattened: every id is assigned and
// every reference resolved by the loader, so a store only inserts rows in the
// order the fields are declared here. Path names the entry of the source file
// a record came from ("deployments[0].organizations[1]"), for error messages.
type Dataset struct {
	Deployments             []DeploymentRecord
	Users                   []UserRecord
	Authenticators          []AuthenticatorRecord
	Segments                []SegmentRecord
	Organizations           []OrganizationRecord
	Workspaces              []WorkspaceRecord
	OrganizationRoles       []RoleRecord
	WorkspaceRoles          []RoleRecord
	OrganizationMemberships []OrganizationMembershipRecord
	WorkspaceMemberships    []WorkspaceMembershipRecord
}

// Times are the timestamps every record carries; DeletedAt marks a soft delete
// where the table has one.
type Times struct {
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
}

type DeploymentRecord struct {
	Path                           string
	ID                             int64
	Hosts                          []string // lower-case, no port
	Mode                           Mode
	IPAllowlistPerWorkspaceEnabled bool
	EnforceMFAPerWorkspaceEnabled  bool
	AllowedOrigins                 []string // normalised scheme://host[:port]
	CookieDomain                   string   // lower-case; the primary host domain-matches it
	PrivateKeyPEM                  []byte   // PKCS#8
	PublicKeyPEM                   []byte   // PKIX
	Times
}

type UserRecord struct {
	Path                 string
	ID                   int64
	DeploymentID         int64
	Email                string
	FirstName            string
	LastName             string
	BackupCodesGenerated bool
	Times
}

type AuthenticatorRecord struct {
	Path   string
	ID     int64
	UserID int64
	Type   string // totp, webauthn, …
	Times
}

type SegmentRecord struct {
	Path         string
	ID           int64
	DeploymentID int64
	Name         string
	Type         SegmentType
	Times
}

type OrganizationRecord struct {
	Path                    string
	ID                      int64
	DeploymentID            int64
	Name                    string
	ImageURL                string
	Description             string
	PublicMetadata          json.RawMessage // JSON object
	PrivateMetadata         json.RawMessage // JSON object; never served
	EnforceMFA              bool
	EnableIPRestriction     bool
	WhitelistedIPs          []string
	AutoAssignedWorkspaceID *int64
	SegmentIDs              []int64
	Times
}

type WorkspaceRecord struct {
	Path                string
	ID                  int64
	DeploymentID        int64
	OrganizationID      int64
	Name                string
	ImageURL            string
	Description         string
	PublicMetadata      json.RawMessage
	PrivateMetadata     json.RawMessage
	Enforce2FA          bool
	EnableIPRestriction bool
	WhitelistedIPs      []string
	SegmentIDs          []int64
	Times
}

// RoleRecord is an organization role (ScopeID is the organization) or a
// workspace role (ScopeID is the workspace).
type RoleRecord struct {
	Path         string
	ID           int64
	DeploymentID int64
	ScopeID      int64
	Name         string
	Permissions  []string
	Times
}

type OrganizationMembershipRecord struct {
	Path           string
	ID             int64
	OrganizationID int64
	UserID         int64
	RoleIDs        []int64
	Times
}

type WorkspaceMembershipRecord struct {
	Path                     string
	ID                       int64
	WorkspaceID              int64
	OrganizationID           int64
	OrganizationMembershipID int64
	UserID                   int64
	PublicMetadata           json.RawMessage
	RoleIDs                  []int64
	Times
}
