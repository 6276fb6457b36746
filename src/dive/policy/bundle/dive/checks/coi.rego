# Checks 3.5 coi_satisfied (D1, D2) and 3.12 coi_coherent (spec/abac.md §3).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.labels
import data.dive.text

us_only_resource if "US-ONLY" in inputs.RC

us_only_holder if {
	"US-ONLY" in inputs.SC
	inputs.country == "USA"
}

coi_operator_satisfied if {
	inputs.op == "ALL"
	every coi in inputs.RC {
		coi in inputs.SC
	}
}

coi_operator_satisfied if {
	inputs.op == "ANY"
	some coi in inputs.RC
	coi in inputs.SC
}

default coi_satisfied := false

coi_satisfied if count(inputs.RC) == 0

coi_satisfied if {
	count(inputs.RC) > 0
	coi_operator_satisfied
	not us_only_resource
}

coi_satisfied if {
	coi_operator_satisfied
	us_only_resource
	us_only_holder
}

message["coi_satisfied"] := coi_message if not coi_satisfied

coi_message := concat("", ["Access denied: ", labels.operator_text, "."]) if {
	labels.operator_invalid
} else := concat("", [
	"Access denied: this resource is US-ONLY; it requires a USA-affiliated user holding US-ONLY (you: ",
	text.render(inputs.country), ", communities ", text.list_text(inputs.SC), ").",
]) if {
	us_only_resource
	not us_only_holder
} else := concat("", [
	"Access denied: this resource is limited to the communities ", text.list_text(inputs.RC),
	" and your account holds no community memberships.",
]) if {
	count(inputs.SC) == 0
} else := concat("", [
	"Access denied: this resource requires membership in all of ", text.list_text(inputs.RC), "; you are missing ",
	text.list_text([coi | some coi in inputs.RC; not coi in inputs.SC]), ".",
]) if {
	inputs.op == "ALL"
} else := concat("", [
	"Access denied: this resource requires membership in at least one of ", text.list_text(inputs.RC),
	"; your communities are ", text.list_text(inputs.SC), ".",
])

strict_coherence := inputs.setting("strict_coi_coherence") == true

coherence_violations := [violation.text | some violation in labels.violations_for(strict_coherence)]

default coi_coherent := false

coi_coherent if count(coherence_violations) == 0

message["coi_coherent"] := concat("", [
	"Access denied: the resource's security label is inconsistent: ", concat("; ", coherence_violations), ".",
]) if not coi_coherent
