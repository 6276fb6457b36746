# Checks 3.6 embargo_passed (D8) and 3.7 ztdf_integrity_valid (spec/abac.md §3).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.text
import data.dive.timestamps

# The clock-skew allowance: a creation date up to 5 minutes ahead of the request time passes.
skew_ns := 300000000000

default embargo_passed := false

embargo_passed if inputs.creation_date == null

embargo_passed if {
	timestamps.parse_ns(inputs.creation_date) <= inputs.now_ns + skew_ns
}

message["embargo_passed"] := embargo_message if not embargo_passed

embargo_message := concat("", [
	"Access denied: the resource creation date '", text.render(inputs.creation_date),
	"' is not a valid RFC 3339 timestamp.",
]) if {
	not timestamps.parse_ns(inputs.creation_date)
} else := concat("", [
	"Access denied: the request time '", text.render(inputs.current_time), "' is not a valid RFC 3339 timestamp.",
]) if {
	not inputs.now_ns
} else := concat("", [
	"Access denied: the resource is embargoed until ", inputs.creation_date,
	" (its creation date is in the future beyond the 5-minute clock-skew allowance).",
])

ztdf := inputs.resource("ztdf")

integrity_validated if {
	is_object(ztdf)
	object.get(ztdf, "integrityValidated", null) == true
}

hash_present(name) if {
	is_object(ztdf)
	text.present(object.get(ztdf, name, null))
}

default ztdf_integrity_valid := false

ztdf_integrity_valid if ztdf == null

ztdf_integrity_valid if {
	integrity_validated
	hash_present("policyHash")
	hash_present("payloadHash")
}

message["ztdf_integrity_valid"] := integrity_message if not ztdf_integrity_valid

integrity_message := concat("", [
	"Access denied: the integrity of this ZTDF object could not be verified ",
	"(policy binding or payload hash mismatch).",
]) if {
	not integrity_validated
} else := "Access denied: the ZTDF object has no policy hash." if {
	not hash_present("policyHash")
} else := "Access denied: the ZTDF object has no payload hash."
