// Package service answers "which workspaces may this caller use": it reads the
// caller's memberships from the store and decides each one's eligibility.
// It knows neither HTTP nor the generated API types.
//
// It imports domain and eligibility only.
package service

import (
	"context"
	"net/netip"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
)

// MembershipStore is the part of the store the service reads.
type MembershipStore interface {
	Memberships(ctx context.Context, q domain.MembershipQuery) ([]domain.Membership, error)
	Changes(ctx context.Context, since int64, limit int) ([]domain.Change, error)
}

// Service lists memberships with their eligibility.
type Service struct {
	store MembershipStore
}

// New returns a service reading from store.
func New(store MembershipStore) *Service { return &Service{store: store} }

// Entry is one membership (the store's, not a copy: a thousand memberships
// are a megabyte) and whether the caller may use it now.
type Entry struct {
	*domain.Membership
	Restriction eligibility.Restriction
}

// Request is one question: whose memberships, seen from where.
type Request struct {
	Deployment     domain.Deployment
	Caller         domain.Caller
	OrganizationID *int64 // only this organization's memberships, when set
	ClientIP       netip.Addr
}

// Memberships returns the caller's memberships, newest first, each with its
// eligibility restriction.
func (s *Service) Memberships(ctx context.Context, r Request) ([]Entry, error) {
	ms, err := s.store.Memberships(ctx, domain.MembershipQuery{
		DeploymentID:   r.Deployment.ID,
		UserID:         r.Caller.UserID,
		OrganizationID: r.OrganizationID,
	})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(ms))
	for i := range ms {
		out[i] = Entry{
			Membership:  &ms[i],
			Restriction: eligibility.Evaluate(r.Deployment, &ms[i], r.ClientIP, r.Caller.HasMFA),
		}
	}
	return out, nil
}

// Changes reads the change feed (domain.Store.Changes), for revalidation.
func (s *Service) Changes(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	return s.store.Changes(ctx, since, limit)
}
