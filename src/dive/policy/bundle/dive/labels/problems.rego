# Problems of the resource label alone: P7-P12 of spec/abac.md §3.2 and the label checks of §3.12.
package dive.labels

import rego.v1

import data.dive.inputs
import data.dive.text

levels_text := "UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP_SECRET"

# Keyed by two-digit strings: regopy turns number keys into strings, so only these sort alike everywhere.
resource_problem["07"] := {"code": "P7", "text": "the resource has no classification"} if {
	not text.present(inputs.resource("classification"))
}

resource_problem["08"] := {"code": "P8", "text": concat("", [
	"the resource classification '", value, "' is not one of ", levels_text,
])} if {
	value := inputs.resource("classification")
	text.present(value)
	not inputs.is_level(value)
}

resource_problem["09"] := {"code": "P9", "text": "the resource has no releasability list"} if not inputs.rel_given

resource_problem["10"] := {"code": "P10", "text": concat("", [
	"the resource releasability list contains invalid country codes: ", text.list_text(invalid),
])} if {
	invalid := [code | some code in inputs.rel; not inputs.valid_country(code)]
	count(invalid) > 0
}

resource_problem["11"] := {"code": "P11", "text": "the resource COI field is not a list"} if {
	inputs.not_a_list(inputs.resource("COI"))
}

resource_problem["12"] := {"code": "P12", "text": "the resource caveats field is not a list"} if {
	inputs.not_a_list(inputs.resource("caveats"))
}

# The problems in order, as {code, text} objects.
resource_problems := text.in_key_order(resource_problem)

# §3.3: the original marking, when both original fields are present, must mean the classification.
original_unrecognized_text := concat("", [
	"the resource marking '", text.render_term(inputs.original_term),
	"' is not a recognized classification for ", text.render(inputs.original_country),
])

original_mismatch_text := concat("", [
	"the resource marking '", text.render_term(inputs.original_term), "' (", text.render(inputs.original_country),
	") means ", inputs.original_level, ", which contradicts its classification ", inputs.cls,
])

creation_date_text := concat("", [
	"the resource creation date '", text.render(inputs.creation_date), "' is not a valid RFC 3339 timestamp",
])

operator_text := concat("", ["the resource uses an unknown COI operator '", inputs.op, "' (expected ALL or ANY)"])

original_unrecognized if {
	inputs.equivalency_path
	not inputs.original_level
}

original_mismatch if {
	inputs.equivalency_path
	inputs.original_level != inputs.cls
}

operator_invalid if not inputs.op in {"ALL", "ANY"}
