# Check 3.13 federation_trusted (D9): trusted issuers and the directed federation matrix (spec/abac.md §3.13).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.text

issuer := inputs.subject("issuer")

subject_instance := instance if {
	text.present(issuer)
	entry := object.get(data.dive.federation.trusted_issuers, issuer, null)
	is_object(entry)
	instance := object.get(entry, "instance", null)
	text.present(instance)
}

federation_agreement if subject_instance == inputs.di

federation_agreement if {
	partners := object.get(data.dive.federation.matrix, subject_instance, [])
	is_array(partners)
	inputs.di in partners
}

default federation_trusted := false

federation_trusted if federation_agreement

message["federation_trusted"] := federation_message if not federation_trusted

federation_message := "Access denied: the request carries no token issuer." if {
	not text.present(issuer)
} else := concat("", [
	"Access denied: your identity provider (", issuer, ") is not a trusted issuer of this federation.",
]) if {
	not subject_instance
} else := "Access denied: the deciding instance is not configured." if {
	not inputs.di
} else := concat("", [
	"Access denied: ", subject_instance, " has no federation agreement giving its users access to ", inputs.di,
	" resources.",
])
