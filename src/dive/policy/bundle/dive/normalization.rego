# Clearance and marking terms to canonical levels (spec/abac.md §2.4), driven by data.dive.clearance only.
package dive.normalization

import rego.v1

import data.dive.text

# §2.4 step 2: the country's own ladder, otherwise GENERIC.
ladder_for(country) := country if {
	is_string(country)
	not country == "GENERIC"
	is_object(data.dive.clearance.exact[country])
} else := "GENERIC"

# §2.4 steps 3-6; undefined when the term is unrecognized.
normalize(term, country) := level_on(term, ladder_for(country))

level_on(term, ladder) := level if {
	is_string(term)
	level := _lookup(ladder, trim(term, text.blank))
}

# The first branch is a fast path for a term written as in the table: no table term contains a case_map key
# (tested), so case-mapping such a term leaves it unchanged and the second branch would find the same level.
_lookup(ladder, trimmed) := level if {
	level := data.dive.clearance.exact[ladder][trimmed]
	not level == null
} else := level if {
	level := data.dive.clearance.exact[ladder][strings.replace_n(data.dive.clearance.case_map, trimmed)]
	not level == null
} else := level if {
	upper := strings.replace_n(data.dive.clearance.case_map, trimmed)
	folded := strings.replace_n(data.dive.clearance.fold_map, upper)
	level := data.dive.clearance.folded[ladder][folded]
	not level == null
}
