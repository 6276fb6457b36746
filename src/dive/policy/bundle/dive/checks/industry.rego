# Checks 3.10 industry_access_allowed and 3.11 industry_clearance_cap_ok (spec/abac.md §3).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.text

default industry_access_allowed := false

industry_access_allowed if inputs.industry_org != "INDUSTRY"

industry_access_allowed if inputs.resource("releasableToIndustry") == true

message["industry_access_allowed"] := concat("", [
	"Access denied: this resource is not released to industry partners (your organization type: ", inputs.org, ").",
]) if not industry_access_allowed

# cap(country): the tenant's table, the built-in table, the tenant's default, CONFIDENTIAL.
industry_cap := cap if {
	caps := object.get(inputs.T, "industry_caps", {})
	is_object(caps)
	cap := object.get(caps, inputs.country, null)
	cap != null
} else := cap if {
	cap := object.get(data.dive.industry_caps_builtin, inputs.country, null)
	cap != null
} else := cap if {
	cap := object.get(inputs.T, "industry_cap_default", null)
	cap != null
} else := "CONFIDENTIAL"

# A cap that is not a canonical name ranks as UNCLASSIFIED (fail closed).
industry_cap_rank := inputs.rank(industry_cap) if {
	inputs.is_level(industry_cap)
} else := 0

default industry_clearance_cap_ok := false

industry_clearance_cap_ok if inputs.industry_org != "INDUSTRY"

industry_clearance_cap_ok if {
	inputs.industry_org == "INDUSTRY"
	inputs.rank(inputs.cls) <= industry_cap_rank
}

message["industry_clearance_cap_ok"] := industry_cap_message if not industry_clearance_cap_ok

industry_cap_message := no_valid_classification if {
	not inputs.cls
} else := concat("", [
	"Access denied: industry partners from ", text.render(inputs.country), " may access at most ",
	text.render(industry_cap), "; this resource is ", inputs.cls, ".",
])
