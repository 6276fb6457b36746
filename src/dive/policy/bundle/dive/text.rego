# String helpers that behave identically on OPA and rego-cpp (spec/abac.md §1.6):
# ASCII-only case changes, lists rendered sorted, non-strings through json.marshal.
#
# Cost model of rego-cpp (regopy 1.5.2) that shapes this bundle: every builtin or function call copies the whole
# frame of locals of the compiled bundle, so calls are kept out of the hot path; a lookup in a data object scans it
# key by key; building a set or an object costs quadratic time in its size. Arrays, `sort` and plain references
# are cheap.
package dive.text

import rego.v1

blank := " \t\r\n"

# Only built for a value outside printable ASCII (rare); see ascii_upper.
ascii_upper_map := {substring(lower_letters, i, 1): substring(upper_letters, i, 1) | some i in numbers.range(0, 25)}

ascii_lower_map := {substring(upper_letters, i, 1): substring(lower_letters, i, 1) | some i in numbers.range(0, 25)}

lower_letters := "abcdefghijklmnopqrstuvwxyz"

upper_letters := "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# `upper` and `lower` agree with the ASCII maps on printable ASCII on every engine (OPA's also change other
# letters, regopy's only ASCII), so the maps are needed only for other values.
ascii_upper(value) := upper(value) if {
	regex.match(`^[ -~]*$`, value)
} else := strings.replace_n(ascii_upper_map, value)

ascii_lower(value) := lower(value) if {
	regex.match(`^[ -~]*$`, value)
} else := strings.replace_n(ascii_lower_map, value)

# §3: a string that is not empty after trimming space, tab, CR and LF.
present(value) if {
	is_string(value)
	not trim(value, blank) == ""
}

# A placeholder value: a string as given, anything else as JSON.
render(value) := value if {
	is_string(value)
} else := json.marshal(value)

# A term placeholder: a string trimmed, anything else as JSON.
render_term(value) := trim(value, blank) if {
	is_string(value)
} else := json.marshal(value)

# {list:X}: distinct rendered values sorted by code point, joined with ", "; "none" when empty.
list_text(values) := "none" if {
	count(values) == 0
} else := concat(", ", distinct_sorted([render(value) | some value in values]))

# The distinct items of an array, sorted: `sort` then drop each item equal to its predecessor, which is linear,
# where a set comprehension is quadratic. The leading null only ever hides a null, and no caller keeps nulls.
distinct_sorted(items) := [item | some i, item in sorted; not previous[i] == item] if {
	sorted := sort(items)
	previous := array.concat([null], sorted)
}

# The distinct strings of an array, sorted; [] for anything that is not an array (SC and RC of §3).
string_set(value) := [item | some item in distinct_sorted(value); is_string(item)] if {
	is_array(value)
} else := []

# The values of an object in ascending key order, on every engine (regopy iterates in insertion order).
in_key_order(entries) := [entries[key] | some key in sort(object.keys(entries))]

string_or_null(value) := value if {
	is_string(value)
} else := null
