# The AuthZEN 1.0 certification fixture (../shared/interop/authzen/SCENARIOS.md §5), one consistent policy for
# its eight checked decisions. Input: the raw AuthZEN evaluation request. Output: a boolean decision.
package authzen.certification

import rego.v1

fixture_roles := {"bob": "admin"}

fixture_status := {"record-1": "active", "record-2": "archived"}

props(entity) := object.get(entity, "properties", {})

role := props(input.subject).role if props(input.subject).role
else := fixture_roles[input.subject.id]

status := props(input.resource).status if props(input.resource).status
else := fixture_status[input.resource.id]

default decision := false

decision if {
	input.action.name == "read"
	input.subject.id in {"alice", "bob"}
}

decision if {
	input.action.name == "write"
	status == "archived"
	role == "admin"
}

decision if {
	input.action.name == "write"
	status == "active"
	input.subject.id == "alice"
}

decision if {
	input.action.name == "delete"
	props(input.action).soft == true
}
