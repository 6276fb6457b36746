# String helpers that behave identically on OPA and rego-cpp (spec/abac.md §1.6):
# ASCII-only case changes through explicit maps, lists rendered sorted, non-strings through json.marshal.
package dive.text

import rego.v1

blank := " \t\r\n"

ascii_upper_map := {
	"a": "A", "b": "B", "c": "C", "d": "D", "e": "E", "f": "F", "g": "G", "h": "H", "i": "I",
	"j": "J", "k": "K", "l": "L", "m": "M", "n": "N", "o": "O", "p": "P", "q": "Q", "r": "R",
	"s": "S", "t": "T", "u": "U", "v": "V", "w": "W", "x": "X", "y": "Y", "z": "Z",
}

ascii_lower_map := {upper: lower | some lower, upper in ascii_upper_map}

# §3: a string that is not empty after trimming space, tab, CR and LF.
present(value) if {
	is_string(value)
	trim(value, blank) != ""
}

ascii_upper(value) := strings.replace_n(ascii_upper_map, value)

ascii_lower(value) := strings.replace_n(ascii_lower_map, value)

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
} else := concat(", ", sort({render(value) | some value in values}))

# The distinct strings of an array, sorted; [] for anything that is not an array (SC and RC of §3).
string_set(value) := sort({item | some item in value; is_string(item)}) if {
	is_array(value)
} else := []

# The values of an object in ascending key order, on every engine (regopy iterates in insertion order).
in_key_order(entries) := [pair[1] | some pair in sort([[key, value] | value := entries[key]])]

string_or_null(value) := value if {
	is_string(value)
} else := null
