# Alias package for clients written against upstream DIVE: identical values to data.dive.authz (§1.4).
package dive.authorization

import rego.v1

decision := data.dive.authz.decision

default allow := false

allow := data.dive.authz.allow

reason := data.dive.authz.reason

obligations := data.dive.authz.obligations

evaluation_details := data.dive.authz.evaluation_details
