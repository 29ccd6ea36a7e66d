package store

import "github.com/d365s2s/d365/emulator/internal/schema"

// TablePrivilege is one privilege of a table, as EntityMetadata.Privileges
// lists it (SecurityPrivilegeMetadata).
type TablePrivilege struct {
	// Verb is the PrivilegeType ("Create", "AppendTo"…).
	Verb Verb
	// Name is prv<Verb><Name> ("prvCreateContact").
	Name string
	// ID is the privilege's id in this organization ("" when unknown).
	ID string
}

// TablePrivileges lists the privileges that guard t, with their ids.
func (s *Store) TablePrivileges(t *schema.Table) []TablePrivilege {
	if t.Intersect != nil {
		return nil
	}
	verbs := tableVerbs(t)
	out := make([]TablePrivilege, 0, len(verbs))
	for _, v := range verbs {
		name := PrivilegeName(v, t)
		out = append(out, TablePrivilege{Verb: v, Name: name, ID: s.privileges[name]})
	}
	return out
}
