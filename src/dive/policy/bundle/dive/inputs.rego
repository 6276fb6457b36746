# The decision input read as spec/abac.md §1.2 and the definitions of §3 describe it. A section that is not an
# object reads as {}; a missing field reads as null and every use type-tests it, so a missing or mistyped field is
# "absent" on every engine. Each field is a rule, read once per query by a plain reference (see text.rego for why
# calls are avoided).
package dive.inputs

import rego.v1

import data.dive.normalization
import data.dive.text
import data.dive.timestamps

default document := {}

document := input if is_object(input)

default S := {}

S := document.subject if is_object(document.subject)

default A := {}

A := document.action if is_object(document.action)

default R := {}

R := document.resource if is_object(document.resource)

default C := {}

C := document.context if is_object(document.context)

# subject
default authenticated := null

authenticated := S.authenticated

default unique_id := null

unique_id := S.uniqueID

default clearance := null

clearance := S.clearance

default clearance_country := null

clearance_country := S.clearanceCountry

default country := null

country := S.countryOfAffiliation

default acp_coi := null

acp_coi := S.acpCOI

default organization_type := null

organization_type := S.organizationType

default issuer := null

issuer := S.issuer

# action
default operation := null

operation := A.operation

# resource
default resource_id := null

resource_id := R.resourceId

default classification := null

classification := R.classification

default releasability := null

releasability := R.releasabilityTo

default coi := null

coi := R.COI

default coi_operator := null

coi_operator := R.coiOperator

default caveats := null

caveats := R.caveats

default original_term := null

original_term := R.originalClassification

default original_country := null

original_country := R.originalCountry

default creation_date := null

creation_date := R.creationDate

default encrypted := null

encrypted := R.encrypted

default releasable_to_industry := null

releasable_to_industry := R.releasableToIndustry

default kas_urls := null

kas_urls := R.kasUrls

default kas_url := null

kas_url := R.kasUrl

default ztdf := null

ztdf := R.ztdf

# context
default tenant := null

tenant := C.tenant

default current_time := null

current_time := C.currentTime

default acr := null

acr := C.acr

default amr := null

amr := C.amr

# valid(code): exact, case-sensitive membership of the keys of data.dive.countries.valid. A lookup scans that
# object key by key (USA is the 236th), so the code is searched as ",CODE," in the comma-joined keys instead; that
# is exact as long as neither the code nor any key contains a comma, and the lookup decides otherwise.
valid_codes := object.keys(data.dive.countries.valid)

wrapped_codes := concat("", [",", concat(",", valid_codes), ","])

comma_free_codes if count(indexof_n(wrapped_codes, ",")) == count(valid_codes) + 1

valid_country(code) := found if {
	is_string(code)
	comma_free_codes
	not contains(code, ",")
	found := contains(wrapped_codes, concat("", [",", code, ","]))
} else := found if {
	is_string(code)
	found := object.get(data.dive.countries.valid, code, null) != null
}

is_level(value) if {
	is_string(value)
	is_number(data.dive.levels[value])
}

rank(level) := value if {
	value := data.dive.levels[level]
	is_number(value)
}

# A field that must be a list when it is given at all (P6, P11, P12).
not_a_list(value) if {
	not value == null
	not is_array(value)
}

SC := text.string_set(acp_coi)

RC := text.string_set(coi)

default op := "ALL"

op := text.ascii_upper(trim(coi_operator, text.blank)) if text.present(coi_operator)

rel_given if is_array(releasability)

default rel := []

rel := releasability if rel_given

default org := "GOV"

org := text.ascii_upper(trim(organization_type, text.blank)) if text.present(organization_type)

organization_types := {"GOV": true, "MIL": true, "INDUSTRY": true}

# Checks 10 and 11 treat an unknown organization type as INDUSTRY (fail closed).
industry_org := org if {
	organization_types[org]
} else := "INDUSTRY"

cls := classification if is_level(classification)

# The equivalency path of §3.3: both original fields present.
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

creation_date_valid if creation_date == null

creation_date_valid if timestamps.parse_ns(creation_date)

# The deciding instance: context.tenant when present, otherwise data.dive.tenant.id (maybe undefined).
di := tenant if {
	text.present(tenant)
} else := value if {
	value := data.dive.tenant.id
	is_string(value)
}

T := settings if {
	settings := data.dive.tenants[di]
	is_object(settings)
} else := {}

# A tenant setting (§5.4), falling back to the shipped defaults.
setting(name) := object.get(T, name, object.get(data.dive.tenant_defaults, name, null))

now_ns := time.now_ns() if {
	current_time == null
} else := ns if {
	ns := timestamps.parse_ns(current_time)
}
