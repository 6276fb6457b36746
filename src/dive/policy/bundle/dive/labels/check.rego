# The label validation entrypoint data.dive.labels.check (spec/abac.md §3.12), for upload and seeding.
# Input: {"resource": {...}, "strict": bool}. Output: {"valid", "violations", "codes"}.
package dive.labels

import rego.v1

import data.dive.inputs
import data.dive.text

strict := object.get(inputs.document, "strict", false) == true

label_issues := array.concat(resource_problems, array.concat(label_consistency_issues, violations_for(strict)))

label_consistency_issues := text.in_key_order(consistency_issue)

consistency_issue["1"] := {"code": "original_unrecognized", "text": original_unrecognized_text} if original_unrecognized

consistency_issue["2"] := {"code": "original_mismatch", "text": original_mismatch_text} if {
	not original_unrecognized
	original_mismatch
}

consistency_issue["3"] := {"code": "creation_date_invalid", "text": creation_date_text} if not inputs.creation_date_valid

consistency_issue["4"] := {"code": "coi_operator_invalid", "text": operator_text} if operator_invalid

check := {
	"valid": count(label_issues) == 0,
	"violations": [issue.text | some issue in label_issues],
	"codes": [issue.code | some issue in label_issues],
}
