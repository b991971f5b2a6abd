package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// TestOrganizationMembershipRace deletes an organization membership in one
// transaction while another inserts a workspace membership on it, in both
// orders: the insert's foreign key check (FOR KEY SHARE) and the update (FOR
// NO KEY UPDATE) do not wait for each other, so 0009's triggers missed each
// other's uncommitted row and the new workspace membership kept the deleted
// organization membership live once both committed (0010 locks it).
func TestOrganizationMembershipRace(t *testing.T) {
	id := storetest.ID
	deleteOM := fmt.Sprintf(`UPDATE organization_memberships SET deleted_at = created_at WHERE id = %d`, id(704))
	insertWM := fmt.Sprintf(`INSERT INTO workspace_memberships (id, workspace_id, organization_id, organization_membership_id, user_id, public_metadata, created_at, updated_at)
		SELECT %d, workspace_id, organization_id, %d, %d, public_metadata, created_at, updated_at FROM workspace_memberships WHERE id = %d`,
		id(899), id(704), id(102), id(808))
	for _, order := range []struct{ name, first, second string }{
		{"deletion first", deleteOM, insertWM},
		{"insert first", insertWM, deleteOM},
	} {
		t.Run(order.name, func(t *testing.T) {
			ctx := t.Context()
			url := pgtest.URL(t)
			s := openAt(t, url, Options{})
			if err := s.Load(ctx, storetest.Fixture()); err != nil {
				t.Fatal(err)
			}
			db := storetest.RawDB(t, url)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, order.first); err != nil {
				t.Fatal(err)
			}
			second := make(chan error, 1)
			go func() {
				_, err := db.ExecContext(ctx, order.second)
				second <- err
			}()
			select {
			case err := <-second: // it did not wait for the first
				second <- err
			case <-time.After(500 * time.Millisecond): // it waits for the first's lock
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-second; err != nil {
				t.Fatal(err)
			}
			var live bool
			if err := db.QueryRowContext(ctx, `SELECT organization_membership_live FROM workspace_memberships WHERE id = $1`, id(899)).Scan(&live); err != nil {
				t.Fatal(err)
			}
			if live {
				t.Error("the workspace membership keeps its deleted organization membership live")
			}
		})
	}
}
