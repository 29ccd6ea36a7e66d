package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// teamMembership is the N:N relationship between users and teams.
const teamMembership = "teammembership_association"

// AddTeamMembers adds users to a team, as the AddMembersTeam action does.
// p needs prvWriteTeam at a depth that reaches the team; the team and
// every user must exist (else KindNotFound naming the first missing one).
// A user who is a member already stays one [unverified: Dataverse may
// refuse the duplicate]. Membership changes the privileges of the users,
// so cached principals are reloaded after the transaction commits.
func (tx *Tx) AddTeamMembers(ctx context.Context, p *Principal, teamID uuid.UUID, userIDs []uuid.UUID) error {
	m, err := tx.teamMembership(ctx, p, teamID, userIDs)
	if err != nil {
		return err
	}
	for _, user := range userIDs {
		version, err := tx.nextVersion(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, "INSERT INTO "+quoteIdent(m.table)+" ("+quoteIdent(m.table+"id")+", "+quoteIdent(m.team)+", "+quoteIdent(m.user)+
			`, "versionnumber") VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, uuid.NewString(), teamID.String(), user.String(), version); err != nil {
			return fmt.Errorf("store: add team member: %w", err)
		}
	}
	return nil
}

// RemoveTeamMembers removes users from a team, as the RemoveMembersTeam
// action does, with AddTeamMembers' checks. Removing a user who is not a
// member does nothing.
func (tx *Tx) RemoveTeamMembers(ctx context.Context, p *Principal, teamID uuid.UUID, userIDs []uuid.UUID) error {
	m, err := tx.teamMembership(ctx, p, teamID, userIDs)
	if err != nil {
		return err
	}
	for _, user := range userIDs {
		if _, err := tx.tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(m.table)+" WHERE "+quoteIdent(m.team)+" = ? AND "+quoteIdent(m.user)+" = ?",
			teamID.String(), user.String()); err != nil {
			return fmt.Errorf("store: remove team member: %w", err)
		}
	}
	return nil
}

// membershipTable names the intersect table of team membership and its
// columns holding the team and the user.
type membershipTable struct{ table, team, user string }

// teamMembership checks a membership change and returns where
// memberships are kept.
func (tx *Tx) teamMembership(ctx context.Context, p *Principal, teamID uuid.UUID, userIDs []uuid.UUID) (membershipTable, error) {
	var m membershipTable
	r, ok := tx.s.schema.Relationship(teamMembership)
	if !ok {
		return m, fmt.Errorf("store: the schema lacks the %s relationship", teamMembership)
	}
	team, _ := tx.s.schema.Table("team")
	users, _ := tx.s.schema.Table("systemuser")
	cur, err := tx.load(ctx, team, teamID)
	if err != nil {
		return m, err
	}
	depth, err := tx.s.Require(p, VerbWrite, team)
	if err != nil {
		return m, err
	}
	if ok, err := tx.s.reaches(ctx, tx.tx, p, depth, cur.own); err != nil {
		return m, err
	} else if !ok {
		return m, recordAccessError(p, VerbWrite, team, teamID.String())
	}
	for _, u := range userIDs {
		if err := tx.requireRow(ctx, users, u); err != nil {
			return m, err
		}
	}
	tx.touch(r.IntersectEntity)
	m = membershipTable{table: r.IntersectEntity, team: r.Entity2IntersectAttribute, user: r.Entity1IntersectAttribute}
	if r.Entity1 == "team" {
		m.team, m.user = m.user, m.team
	}
	return m, nil
}
