# The AuthZEN interop "Todo" scenario (../shared/interop/authzen/SCENARIOS.md §1), written for these tests from
# that plain-language description. Input: the raw AuthZEN evaluation request. Output: a boolean decision.
package authzen.todo

import rego.v1

# The PIP: PID -> email and roles.
users := {
	"CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs": {"email": "rick@the-citadel.com", "roles": ["admin", "evil_genius"]},
	"CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs": {"email": "morty@the-citadel.com", "roles": ["editor"]},
	"CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs": {"email": "summer@the-smiths.com", "roles": ["editor"]},
	"CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs": {"email": "beth@the-smiths.com", "roles": ["viewer"]},
	"CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs": {"email": "jerry@the-smiths.com", "roles": ["viewer"]},
}

default decision := false

user := users[input.subject.id]

has_role(role) if role in user.roles

owns_todo if user.email == object.get(object.get(input.resource, "properties", {}), "ownerID", "")

decision if input.action.name in {"can_read_user", "can_read_todos"}

decision if {
	input.action.name == "can_create_todo"
	some role in ["admin", "editor"]
	has_role(role)
}

decision if {
	input.action.name == "can_update_todo"
	has_role("evil_genius")
}

decision if {
	input.action.name in {"can_update_todo", "can_delete_todo"}
	has_role("editor")
	owns_todo
}

decision if {
	input.action.name == "can_delete_todo"
	has_role("admin")
}
