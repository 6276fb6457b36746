# Clearance and marking terms to canonical levels (spec/abac.md §2.4), driven by data.dive.clearance only.
package dive.normalization

import rego.v1

import data.dive.text

# §2.4 step 2: the country's own ladder, otherwise GENERIC.
ladder_for(country) := country if {
	is_string(country)
	country != "GENERIC"
	is_object(object.get(data.dive.clearance.exact, country, null))
} else := "GENERIC"

# §2.4 steps 3-6; undefined when the term is unrecognized.
normalize(term, country) := level if {
	is_string(term)
	upper := strings.replace_n(data.dive.clearance.case_map, trim(term, text.blank))
	level := _lookup(ladder_for(country), upper)
}

# rego-cpp scans a whole object for data.x[variable]; object.get is a direct lookup.
_lookup(ladder, upper) := level if {
	level := object.get(object.get(data.dive.clearance.exact, ladder, {}), upper, null)
	level != null
} else := level if {
	folded := strings.replace_n(data.dive.clearance.fold_map, upper)
	level := object.get(object.get(data.dive.clearance.folded, ladder, {}), folded, null)
	level != null
}
