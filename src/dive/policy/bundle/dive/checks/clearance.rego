# Check 3.3 clearance_sufficient, on normalized levels (spec/abac.md §2.4, §3.3).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.labels
import data.dive.normalization
import data.dive.text

subject_term := inputs.subject("clearance")

# L_s: clearanceCountry when present, otherwise countryOfAffiliation.
subject_ladder := value if {
	value := inputs.subject("clearanceCountry")
	text.present(value)
} else := inputs.country

slevel := normalization.normalize(subject_term, subject_ladder)

default clearance_sufficient := false

clearance_sufficient if {
	inputs.equivalency_consistent
	inputs.rank(slevel) >= inputs.rank(inputs.cls)
}

no_valid_classification := "Access denied: the resource has no valid classification."

ladder_text := subject_ladder if {
	is_string(subject_ladder)
} else := "unknown"

message["clearance_sufficient"] := clearance_message if not clearance_sufficient

clearance_message := "Access denied: no clearance was supplied for your account." if {
	not text.present(subject_term)
} else := concat("", [
	"Access denied: your clearance '", text.render_term(subject_term), "' is not a recognized clearance for ",
	ladder_text, "; ask your administrator to correct it.",
]) if {
	not slevel
} else := no_valid_classification if {
	not inputs.cls
} else := concat("", ["Access denied: ", labels.original_unrecognized_text, "; contact the resource owner."]) if {
	labels.original_unrecognized
} else := concat("", ["Access denied: ", labels.original_mismatch_text, "; contact the resource owner."]) if {
	labels.original_mismatch
} else := concat("", [
	"Access denied: your clearance '", text.render_term(subject_term), "' (", slevel, ") is below the ", inputs.cls,
	" required for this resource", marking_suffix, ".",
])

marking_suffix := concat("", [
	" (marked '", text.render_term(inputs.original_term), "' by ", inputs.original_country, ")",
]) if {
	inputs.equivalency_path
} else := ""
