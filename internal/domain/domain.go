// Package domain holds the types the memberships service is about and the Store
// interface every database implements. It knows neither HTTP nor SQL.
//
// It imports only ids.
package domain

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/wachtbench/memberships/internal/ids"
)

// Mode is a deployment's environment. Staging deployments also accept the
// session token in the __dev_session__ query parameter.
type Mode string

const (
	ModeProduction Mode = "production"
	ModeStaging    Mode = "staging"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeProduction || m == ModeStaging }

// Deployment is one tenant, chosen by the request's Host.
type Deployment struct {
	ID int64
	// Host is the deployment's primary host (the first it was given); session
	// tokens carry https://<Host> as their issuer, whichever alias is asked.
	Host                           string
	Mode                           Mode
	IPAllowlistPerWorkspaceEnabled bool
	EnforceMFAPerWorkspaceEnabled  bool
	// AllowedOrigins are the browser origins ("https://app.example.com")
	// granted credentialed cross-origin access; never nil.
	AllowedOrigins []string
	// CookieDomain is the Domain of the session cookie the server sets
	// (load format: cookie_domain).
	CookieDomain string
	// PublicKeyPEM is the PKIX ("PUBLIC KEY") PEM of the deployment's ES256 key.
	PublicKeyPEM []byte
}

// SessionState is what the store knows about a session and its active sign-in;
// the auth package decides whether it authenticates anybody.
type SessionState struct {
	ID           int64
	DeploymentID int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Deleted      bool
	// PendingTokenID is the rotating token the last refresh handed out and
	// no request has presented since (0: none): until it is seen, the
	// client may never have received it (see auth.RefreshGrace).
	PendingTokenID int64
	// SignIn is the session's active sign-in, nil when it has none (or the
	// referenced row does not exist).
	SignIn *SignIn
}

// SignIn is one sign-in of a user into a session.
type SignIn struct {
	ID          int64
	SessionID   int64
	UserID      int64
	ExpiresAt   time.Time
	SignedOut   bool
	UserHasMFA  bool // the user has an authenticator or generated backup codes
	UserDeleted bool
}

// Caller is the authenticated user of a request.
type Caller struct {
	DeploymentID int64
	UserID       int64
	HasMFA       bool
	Session      SessionSummary
}

// SessionSummary is the session part of the answer.
type SessionSummary struct {
	ID        int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MembershipQuery selects a caller's workspace memberships.
type MembershipQuery struct {
	DeploymentID int64
	UserID       int64
	// OrganizationID, when set, keeps only that organization's memberships.
	OrganizationID *int64
}

// Membership is one workspace membership with everything the answer shows.
// Stores return them newest first (CreatedAt desc, then ID desc), leaving out
// anything soft-deleted.
type Membership struct {
	ID             int64
	UserID         int64
	OrganizationID int64
	PublicMetadata json.RawMessage // a JSON object, "{}" when empty
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Workspace and Organization are shared with every membership showing
	// the same version of them (the fragment cache): never modify them.
	Workspace    *Workspace
	Organization *Organization
	Roles        []*Role // workspace roles, ordered by ID; shared likewise
	// OrganizationPermissions are the permissions of the roles of the
	// organization membership behind this workspace membership.
	OrganizationPermissions []string
	// Stamp is the change feed's newest stamp in the snapshot the row was
	// read in, when the whole answer came from that snapshot (no fragment
	// was read by a later statement); else 0.
	Stamp int64 `json:"-"`
}

// Change is a row of the change feed: a write at Seq that may have changed
// the answers showing what Kind and ID name.
type Change struct {
	Seq  int64
	Kind ChangeKind
	ID   int64
}

// ChangeKind says what a Change names (the feed's kind column).
type ChangeKind int8

const (
	ChangedAll          ChangeKind = 0 // every answer
	ChangedUser         ChangeKind = 1 // the answers of user ID
	ChangedWorkspace    ChangeKind = 2 // answers showing workspace ID
	ChangedOrganization ChangeKind = 3 // answers showing organization ID
	ChangedDeployment   ChangeKind = 4 // the answers of deployment ID's users
)

// Workspace belongs to one organization.
type Workspace struct {
	ID                  int64
	OrganizationID      int64
	Name                string
	ImageURL            string
	Description         string
	MemberCount         int64
	PublicMetadata      json.RawMessage
	Enforce2FA          bool
	EnableIPRestriction bool
	WhitelistedIPs      []string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Segments            []Segment // ordered by ID
	Fragment
}

// Fragment is what a workspace, an organization or a role carries as a
// fragment of answers: read once per version of the row and shared by every
// answer that shows it (internal/store/fragment), so never modified.
type Fragment struct {
	// Version changes, through triggers, on every write to anything the
	// fragment shows.
	Version int64 `json:"-"`
	// encoding is what the answer encoder made of the value
	// (internal/answer), so that a fragment is encoded once however many
	// answers show it, and its encoding goes when it does.
	encoding *encoding
}

// encoding is one fragment's encoding, stored by whoever makes it first (two
// at once make the same bytes). It belongs to the fragment it was made for:
// a copy of the value, which may then be changed, does not see it.
type encoding struct {
	owner *Fragment
	b     atomic.Pointer[[]byte]
}

// KeepEncoding makes f keep its encoding: the store calls it on every value
// it reads, before sharing it (calling it on a shared value is a race).
// Until then, and in copies, Encoding is nil and SetEncoding does nothing.
// A copy changed and written back over the original (*p = x) would keep
// the old encoding: build a new value instead, as the store does.
func (f *Fragment) KeepEncoding() { f.encoding = &encoding{owner: f} }

// Encoding returns the encoding kept, or nil.
func (f *Fragment) Encoding() []byte {
	if e := f.encoding; e != nil && e.owner == f {
		if p := e.b.Load(); p != nil {
			return *p
		}
	}
	return nil
}

// SetEncoding keeps b, which must never be modified, as f's encoding.
func (f *Fragment) SetEncoding(b []byte) {
	if e := f.encoding; e != nil && e.owner == f {
		e.b.Store(&b)
	}
}

// Organization groups workspaces.
type Organization struct {
	ID                      int64
	Name                    string
	ImageURL                string
	Description             string
	MemberCount             int64
	PublicMetadata          json.RawMessage
	EnforceMFA              bool
	EnableIPRestriction     bool
	WhitelistedIPs          []string
	AutoAssignedWorkspaceID *int64
	CreatedAt               time.Time
	UpdatedAt               time.Time
	Segments                []Segment // ordered by ID
	Fragment
}

// Role is a workspace or organization role.
type Role struct {
	ID          int64
	Name        string
	Permissions []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Fragment
}

// SegmentType is what a segment groups.
type SegmentType string

const (
	SegmentUser         SegmentType = "user"
	SegmentOrganization SegmentType = "organization"
	SegmentWorkspace    SegmentType = "workspace"
)

// Valid reports whether t is a known segment type.
func (t SegmentType) Valid() bool {
	return t == SegmentUser || t == SegmentOrganization || t == SegmentWorkspace
}

// Segment is a named group linked to workspaces and organizations.
type Segment struct {
	ID           int64
	DeploymentID int64
	Name         string
	Type         SegmentType
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// User is the part of a user the command line needs.
type User struct {
	ID           int64
	DeploymentID int64
	Email        string
}

// NewSession is a session with its first sign-in and rotating token, as the
// token command creates it.
type NewSession struct {
	DeploymentID    int64
	UserID          int64
	SessionID       int64
	SignInID        int64
	RotatingTokenID int64
	CreatedAt       time.Time
	SignInExpiresAt time.Time
	TokenValidUntil time.Time
}

// RefreshRequest asks to rotate a session's rotating token, the step that
// lets a session outlive its short-lived JWTs.
type RefreshRequest struct {
	DeploymentID int64
	SessionID    int64
	TokenID      int64 // the rotating token the expired JWT names
	SuccessorID  int64 // the id to give a new successor
	Now          time.Time
	// Grace is how long after a rotation the old token still joins its
	// successor (concurrent tabs refreshing at once) instead of counting as
	// reuse.
	Grace time.Duration
	// PendingWindow is how long after a rotation the old token still joins
	// a successor never presented since (an answer the client may not have
	// received); past it, as past Grace, presenting the old token is reuse.
	PendingWindow time.Duration
	// Skew is the clock difference tolerated between the instance that
	// rotated a token and this one: a rotation stamped further in this
	// clock's future is not joined (see Decide).
	Skew time.Duration
}

// RefreshOutcome is what a refresh did.
type RefreshOutcome int

const (
	// RefreshRotated: a successor was made and linked.
	RefreshRotated RefreshOutcome = iota + 1
	// RefreshJoined: already rotated, within the grace window or to a
	// successor no request has presented yet; the existing successor is
	// returned.
	RefreshJoined
	// RefreshReused: rotated longer ago than the grace window to a successor
	// that has been presented since, so the token was stolen or replayed;
	// the session is now revoked.
	RefreshReused
	// RefreshRejected: not a live token of a live session of the deployment
	// (checked in the transaction: session, active sign-in, user), or past
	// its valid_until.
	RefreshRejected
)

// RefreshResult is the outcome and, when rotated or joined, the successor
// and how long it can keep the session going (the earlier of the rotating
// token's valid_until and the sign-in's expiry).
type RefreshResult struct {
	Outcome     RefreshOutcome
	SuccessorID int64
	ValidUntil  time.Time
}

// Errors stores return; callers compare with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Store is the persistence every database implements. Reads used on the
// request path cost a constant number of statements.
type Store interface {
	// Migrate brings the schema up to date; it is safe to call on every start.
	Migrate(ctx context.Context) error
	// Empty reports whether the database holds no deployment.
	Empty(ctx context.Context) (bool, error)
	// Load inserts a whole data set in one transaction: all or nothing.
	// A failure names the record (its Path) at fault.
	Load(ctx context.Context, ds *Dataset) error

	// DeploymentByHost finds the deployment answering on host (lower-case,
	// without port); ErrNotFound when none does.
	DeploymentByHost(ctx context.Context, host string) (Deployment, error)
	// SigningKey returns the PKCS#8 PEM private key of a deployment (as
	// stored: a store decorator may have sealed it).
	SigningKey(ctx context.Context, deploymentID int64) ([]byte, error)
	// RewriteSigningKeys passes every deployment's stored private key through
	// rewrite and stores what changed, in one transaction: all or nothing.
	// It returns how many keys changed.
	RewriteSigningKeys(ctx context.Context, rewrite func(deploymentID int64, stored []byte) ([]byte, error)) (int, error)
	// Session returns a session of a deployment with its active sign-in;
	// ErrNotFound when the deployment has no such session.
	Session(ctx context.Context, deploymentID, sessionID int64) (SessionState, error)
	// Memberships returns the query's memberships, newest first. The
	// workspaces, organizations and roles they point at may be shared
	// with other answers and are never modified; each has had
	// KeepEncoding called before it was shared, so internal/answer
	// encodes it once.
	Memberships(ctx context.Context, q MembershipQuery) ([]Membership, error)
	// Changes returns up to limit rows of the change feed from since on
	// (since included), oldest first; since 0 asks for the newest row only.
	// Read where Memberships reads.
	Changes(ctx context.Context, since int64, limit int) ([]Change, error)

	// FindUser finds a user of a deployment by id or e-mail; ErrNotFound.
	FindUser(ctx context.Context, deploymentID int64, idOrEmail string) (User, error)
	// CreateSession writes a session, its sign-in and rotating token.
	CreateSession(ctx context.Context, s NewSession) error
	// Refresh rotates a rotating token in one transaction. A successor keeps
	// its predecessor's valid_until: refreshing never extends a session.
	Refresh(ctx context.Context, r RefreshRequest) (RefreshResult, error)
	// TokenSeen records that the session's pending rotating token was
	// presented (a no-op when tokenID is not the pending one).
	TokenSeen(ctx context.Context, deploymentID, sessionID, tokenID int64) error
	// LeaseNode grants id nodes (ids.Grant) so that instances sharing the
	// database mint distinct ids.
	ids.Leaser

	// Ping checks the database answers.
	Ping(ctx context.Context) error
	// Replica reports where the request path's reads go now; the zero
	// value for a store without a read replica.
	Replica() ReplicaState
	Close() error
}

// ReplicaState is a read replica's state as its store last checked it.
type ReplicaState struct {
	Configured bool // the store has a read replica
	InUse      bool // reads go to it now: it answers and is within MaxLag
	Answers    bool // its last probe succeeded
	// LagKnown says Lag was measured; when not, the replica is not used
	// (MaxLag > 0).
	LagKnown bool
	// Lag bounds how stale its reads are: every change committed on the
	// primary longer ago than Lag is visible on it.
	Lag time.Duration
	// MaxLag is the staleness past which reads go to the primary; 0: none.
	MaxLag time.Duration
}
