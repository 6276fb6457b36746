# COI coherence of a label: V1-V7 of spec/abac.md §3.12. V6 and V7 apply only in strict mode.
package dive.labels

import rego.v1

import data.dive.inputs
import data.dive.text

caveats := text.string_set(inputs.resource("caveats"))

coi_members(coi) := members if {
	members := object.get(data.dive.coi.members, coi, null)
	is_array(members)
} else := []

base_violation["10"] := {"code": "V1", "text": concat("", [
	"US-ONLY cannot be combined with other communities (",
	text.list_text([coi | some coi in inputs.RC; coi != "US-ONLY"]), ")",
])} if {
	"US-ONLY" in inputs.RC
	count(inputs.RC) > 1
}

base_violation["20"] := {"code": "V2", "text": "EU-RESTRICTED cannot be combined with NATO-COSMIC"} if {
	"EU-RESTRICTED" in inputs.RC
	"NATO-COSMIC" in inputs.RC
}

base_violation["30"] := {"code": "V3", "text": "the NOFORN caveat requires the COI list to be exactly US-ONLY"} if {
	"NOFORN" in caveats
	not us_only_exactly
}

# Compared by count and membership: regopy does not equate a sorted set with an array literal.
us_only_exactly if {
	count(inputs.RC) == 1
	"US-ONLY" in inputs.RC
}

base_violation["40"] := {"code": "V4", "text": "the NOFORN caveat requires releasability to be exactly USA"} if {
	"NOFORN" in caveats
	{code | some code in inputs.rel} != {"USA"}
}

base_violation[key] := {"code": "V5", "text": concat("", [
	"with operator ANY, ", pair[0], " must not be combined with ", pair[1], ", which contains it",
])} if {
	inputs.op == "ANY"
	some index, pair in data.dive.coherence.any_pairs
	pair[0] in inputs.RC
	pair[1] in inputs.RC
	key := format_int(50 + index, 10)
}

coi_known(coi) if {
	object.get(data.dive.coi.members, coi, null) != null
}

member_countries := {code | some coi in inputs.RC; some code in coi_members(coi)}

strict_violation["60"] := {"code": "V6", "text": concat("", [
	"releasable countries ", text.list_text(outside), " are not members of any of the resource's communities",
])} if {
	some coi in inputs.RC
	count(coi_members(coi)) > 0
	outside := [code | some code in inputs.rel; not code in member_countries]
	count(outside) > 0
}

strict_violation["70"] := {"code": "V7", "text": concat("", ["unknown communities ", text.list_text(unknown)])} if {
	unknown := [coi | some coi in inputs.RC; not coi_known(coi)]
	count(unknown) > 0
}

base_violations := text.in_key_order(base_violation)

strict_violations := text.in_key_order(strict_violation)

# The violations, in order, as {code, text} objects.
violations_for(strict) := array.concat(base_violations, strict_violations) if {
	strict == true
} else := base_violations
