package loadfile

// Segments and users of a deployment.

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/wachtbench/memberships/internal/domain"
)

func (b *builder) segment(path string, d *deploymentScope, in *segmentIn) {
	rec := domain.SegmentRecord{
		Path:         path,
		ID:           b.id(path, in.ID),
		DeploymentID: d.id,
		Name:         b.required(path+".name", in.Name),
		Type:         domain.SegmentType(in.Type),
		Times:        b.times(path, in.entity),
	}
	if !rec.Type.Valid() {
		b.errs.add(path+".type", "expected user, organization or workspace, got %q", in.Type)
	}
	b.addName(path+".name", d.segments, rec.ID, rec.Name, "segment")
	b.ds.Segments = append(b.ds.Segments, rec)
}

func (b *builder) user(path string, d *deploymentScope, in *userIn) {
	rec := domain.UserRecord{
		Path:                 path,
		ID:                   b.id(path, in.ID),
		DeploymentID:         d.id,
		Email:                strings.TrimSpace(in.Email),
		FirstName:            in.FirstName,
		LastName:             in.LastName,
		BackupCodesGenerated: in.BackupCodesGenerated,
		Times:                b.times(path, in.entity),
	}
	if rec.Email == "" {
		b.errs.add(path+".email", "required")
	} else if a, err := mail.ParseAddress(rec.Email); err != nil || a.Name != "" || a.Address != rec.Email {
		b.errs.add(path+".email", "%q is not an e-mail address", in.Email)
	} else {
		// E-mails are unique per deployment regardless of case.
		b.addName(path+".email", d.users, rec.ID, strings.ToLower(rec.Email), "user")
	}
	b.ds.Users = append(b.ds.Users, rec)
	for i, a := range in.Authenticators {
		p := fmt.Sprintf("%s.authenticators[%d]", path, i)
		b.ds.Authenticators = append(b.ds.Authenticators, domain.AuthenticatorRecord{
			Path:   p,
			ID:     b.id(p, a.ID),
			UserID: rec.ID,
			Type:   b.required(p+".type", strings.TrimSpace(a.Type)),
			Times:  b.times(p, a.entity),
		})
	}
}
