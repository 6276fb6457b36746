# Checks 3.4 country_releasable and 3.8 upload_releasability_valid (spec/abac.md §3).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.text

default country_releasable := false

country_releasable if {
	inputs.rel_given
	count(inputs.rel) > 0
	text.present(inputs.country)
	inputs.country in inputs.rel
}

message["country_releasable"] := releasability_message if not country_releasable

releasability_message := "Access denied: the resource has no releasability list." if {
	not inputs.rel_given
} else := "Access denied: the resource is not releasable to any country." if {
	count(inputs.rel) == 0
} else := "Access denied: your country of affiliation is missing." if {
	not text.present(inputs.country)
} else := concat("", [
	"Access denied: the resource is not releasable to ", inputs.country, "; it is releasable to ",
	text.list_text(inputs.rel), ".",
])

is_upload if {
	operation := object.get(inputs.A, "operation", null)
	is_string(operation)
	text.ascii_lower(trim(operation, text.blank)) == "upload"
}

default upload_releasability_valid := false

upload_releasability_valid if not is_upload

upload_releasability_valid if {
	is_upload
	text.present(inputs.country)
	inputs.country in inputs.rel
}

message["upload_releasability_valid"] := concat("", [
	"Upload denied: the releasability list must include your own country (", text.render(inputs.country), ").",
]) if not upload_releasability_valid
