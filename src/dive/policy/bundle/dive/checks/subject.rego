# Checks 3.1 authenticated and 3.2 required_attributes (spec/abac.md §3).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.labels
import data.dive.text

default authenticated := false

authenticated if inputs.subject("authenticated") == true

message["authenticated"] := "Access denied: the request is not authenticated." if not authenticated

subject_problem["01"] := "your account has no unique identifier (uniqueID)" if {
	not text.present(inputs.subject("uniqueID"))
}

subject_problem["02"] := "your account has no clearance" if not text.present(inputs.subject("clearance"))

subject_problem["03"] := "your account has no country of affiliation" if not text.present(inputs.country)

subject_problem["04"] := concat("", [
	"your country of affiliation '", inputs.country, "' is not a valid ISO 3166-1 alpha-3 code",
]) if {
	text.present(inputs.country)
	not inputs.valid_country(inputs.country)
}

subject_problem["05"] := concat("", [
	"your organization type '", text.render(value), "' is not one of GOV, MIL, INDUSTRY",
]) if {
	value := inputs.subject("organizationType")
	not value in {null, ""}
	not organization_type_valid(value)
}

subject_problem["06"] := "your community memberships (acpCOI) are not a list" if {
	inputs.not_a_list(inputs.subject("acpCOI"))
}

organization_type_valid(value) if {
	is_string(value)
	text.ascii_upper(trim(value, text.blank)) in inputs.organization_types
}

attribute_problems := array.concat(
	text.in_key_order(subject_problem),
	[problem.text | some problem in labels.resource_problems],
)

default required_attributes := false

required_attributes if count(attribute_problems) == 0

message["required_attributes"] := concat("", [
	"Access denied: required attributes are missing or invalid: ", concat("; ", attribute_problems), ".",
]) if not required_attributes
