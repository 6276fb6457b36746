# The decision input read as spec/abac.md §1.2 and the definitions of §3 describe it. Every field is read
# through object.get and type-tested, so a missing or mistyped field is "absent" on every engine.
package dive.inputs

import rego.v1

import data.dive.normalization
import data.dive.text
import data.dive.timestamps

default document := {}

document := input if is_object(input)

section(name) := value if {
	value := object.get(document, name, null)
	is_object(value)
} else := {}

S := section("subject")

A := section("action")

R := section("resource")

C := section("context")

subject(name) := object.get(S, name, null)

resource(name) := object.get(R, name, null)

context(name) := object.get(C, name, null)

# valid(code): exact, case-sensitive membership of data.dive.countries.valid.
valid_country(code) if {
	is_string(code)
	object.get(data.dive.countries.valid, code, null) != null
}

is_level(value) if {
	is_string(value)
	is_number(object.get(data.dive.levels, value, null))
}

rank(level) := value if {
	value := object.get(data.dive.levels, level, null)
	is_number(value)
}

# A field that must be a list when it is given at all (P6, P11, P12).
not_a_list(value) if {
	value != null
	not is_array(value)
}

SC := text.string_set(subject("acpCOI"))

RC := text.string_set(resource("COI"))

country := subject("countryOfAffiliation")

default op := "ALL"

op := text.ascii_upper(trim(value, text.blank)) if {
	value := resource("coiOperator")
	text.present(value)
}

rel_given if is_array(resource("releasabilityTo"))

default rel := []

rel := resource("releasabilityTo") if rel_given

default org := "GOV"

org := text.ascii_upper(trim(value, text.blank)) if {
	value := subject("organizationType")
	text.present(value)
}

organization_types := {"GOV", "MIL", "INDUSTRY"}

# Checks 10 and 11 treat an unknown organization type as INDUSTRY (fail closed).
industry_org := org if {
	org in organization_types
} else := "INDUSTRY"

cls := value if {
	value := resource("classification")
	is_level(value)
}

# The equivalency path of §3.3: both original fields present.
original_term := resource("originalClassification")

original_country := resource("originalCountry")

equivalency_path if {
	text.present(original_term)
	text.present(original_country)
}

original_level := normalization.normalize(original_term, original_country)

equivalency_consistent if not equivalency_path

equivalency_consistent if {
	equivalency_path
	original_level == cls
}

creation_date := resource("creationDate")

creation_date_valid if creation_date == null

creation_date_valid if timestamps.parse_ns(creation_date)

# The deciding instance: context.tenant when present, otherwise data.dive.tenant.id (maybe undefined).
di := value if {
	value := context("tenant")
	text.present(value)
} else := value if {
	value := data.dive.tenant.id
	is_string(value)
}

T := settings if {
	settings := object.get(data.dive.tenants, di, null)
	is_object(settings)
} else := {}

# A tenant setting (§5.4), falling back to the shipped defaults.
setting(name) := object.get(T, name, object.get(data.dive.tenant_defaults, name, null))

current_time := context("currentTime")

now_ns := time.now_ns() if {
	current_time == null
} else := ns if {
	ns := timestamps.parse_ns(current_time)
}
