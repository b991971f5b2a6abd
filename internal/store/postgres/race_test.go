package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// TestOrganizationMembershipRace deletes an organization membership in one
// transaction while another inserts a workspace membership on it: the
// insert's foreign key check (FOR KEY SHARE) does not wait for the update
// (FOR NO KEY UPDATE), so 0009's BEFORE trigger must lock the organization
// membership itself, or the new row keeps it live once both commit.
func TestOrganizationMembershipRace(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s := openAt(t, url, Options{})
	if err := s.Load(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	db := storetest.RawDB(t, url)
	id := storetest.ID
	update, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer update.Rollback()
	if _, err := update.ExecContext(ctx, `UPDATE organization_memberships SET deleted_at = created_at WHERE id = $1`, id(704)); err != nil {
		t.Fatal(err)
	}
	inserted := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO workspace_memberships (id, workspace_id, organization_id, organization_membership_id, user_id, public_metadata, created_at, updated_at)
			SELECT %d, workspace_id, organization_id, %d, %d, public_metadata, created_at, updated_at FROM workspace_memberships WHERE id = %d`,
			id(899), id(704), id(102), id(808)))
		inserted <- err
	}()
	select {
	case err := <-inserted: // not waiting for the update: it saw the old row
		if err != nil {
			t.Fatal(err)
		}
		inserted <- nil
	case <-time.After(500 * time.Millisecond): // waiting for the update's lock
	}
	if err := update.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-inserted; err != nil {
		t.Fatal(err)
	}
	var live bool
	if err := db.QueryRowContext(ctx, `SELECT organization_membership_live FROM workspace_memberships WHERE id = $1`, id(899)).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live {
		t.Error("a workspace membership inserted beside its organization membership's deletion keeps it live")
	}
}
