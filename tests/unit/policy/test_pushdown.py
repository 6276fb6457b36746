"""The search pushdown against the real policy engine (spec/abac.md §9; CONSISTENCY #5).

§9.4: for every subject, corpus and time, the SQL filter returns exactly the documents the PDP allows when asked with
the input the PEP builds from the stored label. Checked with hypothesis on SQLite and on PostgreSQL, plus one explicit
case per check of §3, the stable page order, and counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from dbfixtures import postgres_database, sqlite_url
from dive.domain.clearance import primary_term
from dive.domain.coi import COI_MEMBERS
from dive.domain.labels import derive_label_columns
from dive.domain.subject import subject_cois, subject_level
from dive.policy import Decision, PolicyBundle, RegistryData, build_data
from dive.policy.engines import RegopyEngine
from dive.policy.pep_input import build_read_input, build_subject
from dive.policy.pushdown import (
    NoContribution,
    SubjectFilter,
    compute_subject_filter,
    visible_count_query,
    visible_facet_query,
    visible_resources_query,
)
from dive.store import ResourceRepository, create_engine_for, ensure_schema, session_factory
from dive.store.models import Resource, ResourceCoi, ResourceReleasability
from dive.types import LEVELS

NOW: Final = datetime(2026, 3, 2, 8, 15, 0, 123456, tzinfo=UTC)
USA_ISS: Final = "https://localhost:8443/realms/dive-v3-broker-usa"
FRA_ISS: Final = "https://localhost:8453/realms/dive-v3-broker-fra"
DEU_ISS: Final = "https://localhost:8454/realms/dive-v3-broker-deu"
UNTRUSTED_ISS: Final = "https://evil.example/realms/dive-v3-broker-usa"
# USA and FRA have an agreement, DEU has none; FRA's tenant settings change every subject-side parameter.
REGISTRY: Final = RegistryData(
    tenant_id="USA",
    trusted_issuers={USA_ISS: "USA", FRA_ISS: "FRA", DEU_ISS: "DEU"},
    matrix={"USA": ["FRA"], "FRA": ["USA"]},
    tenants={
        "FRA": {
            "aal_top_secret": 3,
            "strict_coi_coherence": True,
            "industry_caps": {"USA": "TOP_SECRET", "GBR": "not-a-level"},
            "industry_cap_default": "RESTRICTED",
        }
    },
    test_codes=("TST",),
)
MANIFEST: Final = {
    "encryptionInformation": {
        "policy": "eyJib2R5Ijp7fX0=",
        "integrityInformation": {"rootSignature": {"alg": "HS256", "sig": "cm9vdC1zaWduYXR1cmU="}},
    }
}
# §9.4 pairs checked per run: examples × subjects × labels (20–35); fewer examples on PostgreSQL.
SQLITE_EXAMPLES: Final = 20
POSTGRES_EXAMPLES: Final = 8
SUBJECTS_PER_CORPUS: Final = 3


@pytest.fixture(scope="module")
def policy_data() -> dict[str, Any]:
    return build_data(PolicyBundle.load().static_data, REGISTRY)


@pytest.fixture(scope="module")
def pdp(policy_data: dict[str, Any]) -> RegopyEngine:
    return RegopyEngine(data=policy_data)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], ids=["sqlite", "pg"]
)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of each backend, shared by the module; each test replaces its corpus."""
    if request.param == "sqlite":
        yield from _migrated(sqlite_url(tmp_path_factory.mktemp("pushdown")))
    else:
        with postgres_database() as url:
            yield from _migrated(url)


def _migrated(url: str) -> Iterator[Engine]:
    ensure_schema(url)
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Document:
    label: Mapping[str, Any]
    ztdf: bool = True
    integrity_ok: bool = True
    resource_id: str = ""


@dataclass
class Corpus:
    """A stored corpus and the decision for one subject, both ways."""

    engine: Engine
    pdp: RegopyEngine
    data: Mapping[str, Any]
    rows: list[Resource] = field(default_factory=list)

    def store(self, documents: Sequence[Document]) -> None:
        repository = ResourceRepository()
        with session_factory(self.engine)() as session, session.begin():
            for table in (ResourceCoi, ResourceReleasability, Resource):
                session.execute(delete(table))
            for index, document in enumerate(documents):
                resource_id = document.resource_id or f"doc-USA-prop-{index:05d}"
                columns = derive_label_columns(
                    document.label, valid=self.data["countries"]["valid"], coi_members=self.data["coi"]["members"]
                )
                repository.upsert(
                    session, _resource(resource_id, document, columns), columns.releasability, columns.cois
                )
        with session_factory(self.engine)() as session:
            self.rows = list(session.scalars(select(Resource)))

    def subject_filter(self, claims: Mapping[str, object], *, tenant: str = "USA", authenticated: bool = True):
        return compute_subject_filter(claims, authenticated=authenticated, tenant=tenant, now=NOW, data=self.data)

    def filtered(self, subject: SubjectFilter | NoContribution, **page: int) -> list[str]:
        with session_factory(self.engine)() as session:
            return [row.resource_id for row in session.scalars(visible_resources_query(subject, **page))]

    def decisions(
        self, claims: Mapping[str, object], *, tenant: str = "USA", authenticated: bool = True
    ) -> dict[str, Decision]:
        return {
            row.resource_id: self.pdp.decide(
                build_read_input(claims, row, authenticated=authenticated, tenant=tenant, now=NOW)
            )
            for row in self.rows
        }


def _resource(resource_id: str, document: Document, columns: Any) -> Resource:
    return Resource(
        resource_id=resource_id,
        instance_code="usa",
        title=f"Document {resource_id}",
        classification=str(document.label.get("classification"))[:64],
        label=dict(document.label),
        encrypted=document.ztdf,
        kas_urls=["https://localhost:9000/kas"] if document.ztdf else None,
        manifest=MANIFEST if document.ztdf else None,
        integrity_ok=document.integrity_ok if document.ztdf else True,  # §9.2: true for non-ZTDF rows
        classification_rank=columns.classification_rank,
        coi_operator=columns.coi_operator,
        has_us_only=columns.has_us_only,
        creation_ts=columns.creation_ts,
        releasable_to_industry=columns.releasable_to_industry,
        label_ok=columns.label_ok,
        label_ok_strict=columns.label_ok_strict,
    )


@pytest.fixture
def corpus(store: Engine, pdp: RegopyEngine, policy_data: dict[str, Any]) -> Corpus:
    return Corpus(store, pdp, policy_data)


def assert_filter_matches_pdp(
    corpus: Corpus, claims: Mapping[str, object], *, tenant: str, authenticated: bool
) -> list[Decision]:
    """§9.4, both directions, with the failing pairs named; returns the PDP's decisions."""
    subject = corpus.subject_filter(claims, tenant=tenant, authenticated=authenticated)
    decisions = corpus.decisions(claims, tenant=tenant, authenticated=authenticated)
    allowed = {resource_id for resource_id, decision in decisions.items() if decision.allow}
    listed = corpus.filtered(subject)
    assert len(listed) == len(set(listed))
    listed_but_denied = {rid: decisions[rid].failed for rid in set(listed) - allowed}
    allowed_but_missing = sorted(allowed - set(listed))
    labels = {row.resource_id: row.label for row in corpus.rows}
    assert not listed_but_denied, (subject, claims, tenant, {rid: labels[rid] for rid in listed_but_denied})
    assert not allowed_but_missing, (subject, claims, tenant, {rid: labels[rid] for rid in allowed_but_missing})
    if isinstance(subject, NoContribution):  # the reason reported to the API is the policy's own
        for decision in decisions.values():
            assert subject.check in decision.failed
            if subject.check != "required_attributes":  # that message also lists the resource's problems
                assert decision.evaluation_details["messages"][subject.check] == subject.message
    return list(decisions.values())


# ---------------------------------------------------------------------------------------------------------------
# Hypothesis strategies (§9.4: what the subjects and corpora must cover). Each field draws from its usual values, or,
# in a "wild" subject or label, from usual and odd values together, so that allows stay frequent and every odd value
# still meets every other one.

ABSENT: Final = object()


@dataclass(frozen=True)
class FieldValues:
    usual: Sequence[object]
    odd: Sequence[object] = ()

    def strategy(self, wild: bool) -> st.SearchStrategy[object]:
        return st.sampled_from([*self.usual, *self.odd] if wild else list(self.usual))


def _lists(values: Sequence[str]) -> list[list[str]]:
    """The empty list, every single value and every pair of distinct values."""
    return [[], *([value] for value in values), *([a, b] for a in values for b in values if a < b)]


SUBJECT_FIELDS: Final[Mapping[str, FieldValues]] = {
    "uniqueID": FieldValues(["testuser-usa-4", "contractor-fra"], ["", "  ", 42, ABSENT]),
    "clearance": FieldValues(
        [  # hypothesis favours the first value of a list: the highest clearance meets the most clauses
            *reversed(LEVELS),
            "SECRET",
            "TOP_SECRET",
            "TOP SECRET",
            "COSMIC TOP SECRET",
            "NATO SECRET",
            "NATO_CONFIDENTIAL",
            " top  secret ",
            "GEHEIM",
            "STRENG GEHEIM",
            "SECRET DÉFENSE",
            "TRÈS SECRET",
            "DIFFUSION RESTREINTE",
            "PROTECTED B",
            "TS",
            "geheim",
            "secret-défense",
            "SECRET DE\u0301FENSE",
        ],
        ["SUPER SECRET", "SECRETISH", "", "   ", 3, None, ["SECRET"], ["SECRET", "TS"], ABSENT],
    ),
    "clearanceCountry": FieldValues([ABSENT] * 8 + ["NATO", "INDUSTRY"], ["FRA", "USA", "XXX", 7]),
    "countryOfAffiliation": FieldValues(
        ["USA", "USA", "USA", "FRA", "FRA", "FRA", "DEU", "GBR", "CAN", "JPN", "TST"],
        ["usa", "XXX", "NATO", "", 840, ABSENT],
    ),
    "acpCOI": FieldValues(
        [
            [],
            ["NATO"],
            ["NATO", "FVEY"],
            ["US-ONLY", "NATO"],
            ["FVEY", "NATO", "NATO-COSMIC", "US-ONLY"],
            ["Alpha", "NATO"],
            ["EU-RESTRICTED", "NATO"],
            ["CAN-US", "FVEY"],
            ["QUAD"],
        ],
        [["nato"], ABSENT, None, "NATO,FVEY", '["FVEY", "US-ONLY"]', 5, ["NATO", 5]],
    ),
    "organizationType": FieldValues(
        ["GOV", "GOV", "MIL", "INDUSTRY", "INDUSTRY", ABSENT], [" industry ", "mil", "CONTRACTOR", None, "", 7]
    ),
    "iss": FieldValues([USA_ISS, USA_ISS, FRA_ISS, FRA_ISS, DEU_ISS], [UNTRUSTED_ISS, "", ABSENT]),
    "acr": FieldValues([ABSENT, ABSENT, "1", "2", "3", "aal2", "urn:dive25:aal:3", 2], ["0", "bogus", True, 1.5]),
    "amr": FieldValues(
        [
            ABSENT,
            ABSENT,
            ["pwd"],
            ["pwd"],
            ["pwd", "otp"],
            ["pwd", "otp"],
            ["pwd", "totp", "sms"],
            ["hwk"],
            ["webauthn"],
        ],
        [["pwd", "mfa"], ["otp"], [], "pwd", '["pwd","otp"]', [3, "pwd"]],
    ),
}


def _timestamp(offset: timedelta, *, nanoseconds: int | None = None, suffix: str = "Z") -> str:
    instant = NOW + offset
    if nanoseconds is None:
        return instant.strftime("%Y-%m-%dT%H:%M:%S.%f") + suffix
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond * 1000 + nanoseconds:09d}" + suffix


LABEL_FIELDS: Final[Mapping[str, FieldValues]] = {
    "releasabilityTo": FieldValues(
        [
            ["USA"],
            ["FRA"],
            ["USA", "FRA"],
            ["FRA", "USA", "GBR"],
            ["FRA", "USA", "GBR"],
            ["CAN", "DEU", "JPN", "USA"],
            ["TST", "DEU", "FRA"],
            ["USA", "FRA", "JPN"],  # outside NATO and FVEY: a V6 violation under strict coherence
        ],
        [[], ["USA", "XXX"], ["USA", "NATO"], ["usa"], ["USA", 5], ABSENT, None, "USA"],
    ),
    "COI": FieldValues(
        [[]] * 5 + _lists(["NATO", "FVEY", "US-ONLY"]) + [["NATO-COSMIC"], ["Alpha"], ["CAN-US", "FVEY"], ["QUAD"]],
        [["UNKNOWN-1"], ["nato"], ["NATO", "UNKNOWN-1"], ABSENT, None, "NATO", [5]],
    ),
    "coiOperator": FieldValues(["ALL", "ALL", "ANY", ABSENT], [" any ", "all", "BOGUS", "", 1]),
    "caveats": FieldValues([[], [], [], ABSENT, ["NOFORN"]], [["FOUO"], None, "NOFORN"]),
    "creationDate": FieldValues(
        [
            ABSENT,
            "2020-01-01T00:00:00Z",
            "2025-12-31T23:59:59z",
            _timestamp(timedelta(days=-30), suffix="+02:00"),
            _timestamp(timedelta(seconds=120)),  # within the skew
            _timestamp(timedelta(seconds=300)),  # exactly at the allowance
            _timestamp(timedelta(seconds=300), nanoseconds=1),  # one nanosecond past it
            _timestamp(timedelta(seconds=299, microseconds=999999), nanoseconds=999),
            _timestamp(timedelta(seconds=301)),
            _timestamp(timedelta(days=1)),
            "2026-03-02T09:20:00+01:00",  # NOW + 5 min − 0.123456 s, written with an offset
        ],
        [None, "not a date", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2026-03-02 08:00:00Z", 20260302],
    ),
    "releasableToIndustry": FieldValues([True, False, ABSENT], ["true", 1]),
}
CLASSIFICATIONS: Final = FieldValues([*LEVELS, *LEVELS[:3]], ["SECRETISH", "secret", "NATO SECRET", "", 3, ABSENT])


def _present(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not ABSENT}


@st.composite
def subject_strategy(draw: st.DrawFn) -> tuple[dict[str, Any], str, bool]:
    """Claims, the deciding tenant and whether the token was verified."""
    wild = draw(st.integers(0, 3)) == 0
    claims = {name: draw(values.strategy(wild)) for name, values in SUBJECT_FIELDS.items()}
    country = claims["countryOfAffiliation"]
    if isinstance(country, str) and claims["clearanceCountry"] is ABSENT and draw(st.booleans()):
        claims["clearance"] = primary_term(country, draw(st.sampled_from(LEVELS)))  # the term a national IdP sends
    authenticated = draw(st.sampled_from([True, True, True, False] if wild else [True]))
    return _present(claims), draw(st.sampled_from(["USA", "USA", "FRA"])), authenticated


@st.composite
def document_strategy(draw: st.DrawFn) -> Document:
    """A label drawn field by field, independently of any subject."""
    wild = draw(st.integers(0, 4)) == 0
    cls = draw(CLASSIFICATIONS.strategy(wild))
    label = {"classification": cls, **{name: draw(values.strategy(wild)) for name, values in LABEL_FIELDS.items()}}
    label.update(draw(_original_marking(cls, wild)))
    ztdf = draw(st.booleans())
    integrity_ok = draw(st.sampled_from([True, True, False]))
    return Document(_present(label), ztdf=ztdf, integrity_ok=integrity_ok)


@st.composite
def near_miss_strategy(draw: st.DrawFn, claims: Mapping[str, object]) -> Document:
    """A label the subject of `claims` could read, with usually one field redrawn from all its values: the pairs
    that tell one clause of §9.3 from a slightly wrong one (a single failing check) are frequent, not rare."""
    country = claims.get("countryOfAffiliation")
    country = country if isinstance(country, str) else "USA"
    level = subject_level(build_subject(claims, authenticated=True)) or "TOP_SECRET"
    held = sorted(subject_cois(build_subject(claims, authenticated=True)) & set(COI_MEMBERS) - {"US-ONLY"})
    operator = draw(st.sampled_from(["ALL", "ANY"]))
    if operator == "ALL":
        cois = draw(st.lists(st.sampled_from(held), max_size=2, unique=True)) if held else []
    else:  # one community held, one not: ANY passes where ALL would not
        cois = [draw(st.sampled_from(held)), draw(st.sampled_from(["QUAD", "PACOM"]))] if held else ["QUAD"]
    label: dict[str, Any] = {
        "classification": LEVELS[LEVELS.index(level) - draw(st.integers(0, LEVELS.index(level)))],  # mostly its own
        "releasabilityTo": sorted({country, *draw(st.lists(st.sampled_from(["USA", "FRA", "GBR"]), max_size=2))}),
        "COI": cois,
        "coiOperator": operator,
        "caveats": [],
        "creationDate": "2026-01-01T00:00:00Z",
        "releasableToIndustry": True,
    }
    integrity_ok = True
    field_name = draw(st.sampled_from([None, "integrity", "classification", *LABEL_FIELDS]))
    if field_name == "integrity":
        integrity_ok = False
    elif field_name == "classification":
        label["classification"] = draw(CLASSIFICATIONS.strategy(wild=True))
    elif field_name is not None:
        label[field_name] = draw(LABEL_FIELDS[field_name].strategy(wild=True))
    return Document(_present(label), ztdf=True, integrity_ok=integrity_ok)


def _original_marking(cls: object, wild: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Without the equivalency path, consistent with `cls`, contradicting it, unrecognized, or half present."""
    level = cls if cls in LEVELS else "SECRET"
    other = LEVELS[(LEVELS.index(level) + 2) % len(LEVELS)]
    return FieldValues(
        [
            {},
            {"originalClassification": primary_term("DEU", level), "originalCountry": "DEU"},
            {"originalClassification": primary_term("FRA", level), "originalCountry": "FRA"},
            {"originalClassification": primary_term("NATO", level), "originalCountry": "NATO"},
        ],
        [
            {"originalClassification": primary_term("DEU", other), "originalCountry": "DEU"},
            {"originalClassification": "BLAH", "originalCountry": "FRA"},
            {"originalClassification": primary_term("FRA", level)},
            {"originalCountry": "FRA"},
        ],
    ).strategy(wild)  # type: ignore[return-value]


@dataclass
class Tally:
    """What the checked pairs covered: a pair whose only failing check is X tells X's clause from its absence."""

    pairs: int = 0
    allowed: int = 0
    sole_failures: Counter[str] = field(default_factory=Counter)

    def add(self, decisions: list[Decision]) -> None:
        self.pairs += len(decisions)
        self.allowed += sum(decision.allow for decision in decisions)
        self.sole_failures.update(decision.failed[0] for decision in decisions if len(decision.failed) == 1)


def _check_corpus_against_subjects(
    corpus: Corpus, documents: list[Document], subjects: list[tuple[dict[str, Any], str, bool]], tally: Tally
) -> None:
    corpus.store(documents)
    for claims, tenant, authenticated in subjects:
        tally.add(assert_filter_matches_pdp(corpus, claims, tenant=tenant, authenticated=authenticated))


def test_filter_returns_exactly_the_documents_the_pdp_allows(corpus: Corpus, store: Engine):
    """§9.4, both directions, over random subjects and corpora of 20 to 35 labels."""
    scale = max(1, settings.default.max_examples // 50)  # HYPOTHESIS_PROFILE=thorough checks ten times as many
    examples = scale * (SQLITE_EXAMPLES if store.dialect.name == "sqlite" else POSTGRES_EXAMPLES)
    tally = Tally()

    # No shrinking: each attempt costs about a hundred engine calls, and the failure message already names the
    # subject and the disputed labels.
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        subjects = [data.draw(subject_strategy()) for _ in range(SUBJECTS_PER_CORPUS)]
        labels = st.one_of(document_strategy(), *(near_miss_strategy(claims) for claims, _, _ in subjects))
        documents = data.draw(st.lists(labels, min_size=20, max_size=35))
        _check_corpus_against_subjects(corpus, documents, subjects, tally)

    check()
    print(
        f"§9.4 on {store.dialect.name}: {tally.pairs} pairs, {tally.allowed} allowed; sole failures:",
        tally.sole_failures,
    )
    assert tally.pairs >= examples * SUBJECTS_PER_CORPUS * 20
    assert tally.allowed >= tally.pairs // 20, "too few allows for the property to mean anything; widen the strategies"


# ---------------------------------------------------------------------------------------------------------------
# One explicit case per check of §3: the document is denied for that check and not listed; its twin is listed.

SECRET_USER: Final = {
    "uniqueID": "testuser-usa-4",
    "clearance": "SECRET",
    "countryOfAffiliation": "USA",
    "acpCOI": ["NATO", "US-ONLY"],
    "organizationType": "GOV",
    "iss": USA_ISS,
    "acr": "2",
    "amr": ["pwd", "otp"],
}
CONTRACTOR: Final = {
    **SECRET_USER,
    "uniqueID": "contractor-fra",
    "countryOfAffiliation": "FRA",
    "acpCOI": ["NATO"],
    "organizationType": "INDUSTRY",
    "iss": FRA_ISS,
}
READABLE: Final = {
    "classification": "CONFIDENTIAL",
    "releasabilityTo": ["USA", "FRA"],
    "COI": ["NATO"],
    "coiOperator": "ALL",
    "caveats": [],
    "releasableToIndustry": True,
    "creationDate": "2026-01-01T00:00:00Z",
}


@dataclass(frozen=True)
class CheckCase:
    check: str
    claims: Mapping[str, object]
    document: Document
    authenticated: bool = True
    twin: Mapping[str, object] = field(default_factory=lambda: {**READABLE, "COI": []})
    tenant: str = "USA"


CHECK_CASES: Final = [
    CheckCase("authenticated", SECRET_USER, Document(READABLE), authenticated=False),
    CheckCase("required_attributes", {**SECRET_USER, "uniqueID": ""}, Document(READABLE)),
    CheckCase("required_attributes", SECRET_USER, Document({**READABLE, "releasabilityTo": ["USA", "NATO"]})),
    CheckCase("clearance_sufficient", SECRET_USER, Document({**READABLE, "classification": "TOP_SECRET"})),
    CheckCase("clearance_sufficient", {**SECRET_USER, "clearance": "SUPER SECRET"}, Document(READABLE)),
    CheckCase("country_releasable", SECRET_USER, Document({**READABLE, "releasabilityTo": ["FRA"]})),
    CheckCase("coi_satisfied", SECRET_USER, Document({**READABLE, "COI": ["FVEY"]})),
    CheckCase("coi_satisfied", {**SECRET_USER, "acpCOI": []}, Document({**READABLE, "COI": ["NATO", "FVEY"]})),
    CheckCase("embargo_passed", SECRET_USER, Document({**READABLE, "creationDate": "2026-03-02T08:20:01Z"})),
    CheckCase("ztdf_integrity_valid", SECRET_USER, Document(READABLE, integrity_ok=False)),
    CheckCase(
        "aal_sufficient",
        {**SECRET_USER, "acr": "1", "amr": ["pwd"]},
        Document(READABLE),
        twin={**READABLE, "classification": "RESTRICTED"},
    ),
    CheckCase("industry_access_allowed", CONTRACTOR, Document({**READABLE, "releasableToIndustry": False})),
    CheckCase("industry_clearance_cap_ok", CONTRACTOR, Document({**READABLE, "classification": "SECRET"})),
    CheckCase("coi_coherent", SECRET_USER, Document({**READABLE, "COI": ["US-ONLY", "NATO"]})),
    # FRA decides with strict coherence: JPN is outside NATO (V6); the same label passes at USA (twin below).
    CheckCase("coi_coherent", SECRET_USER, Document({**READABLE, "releasabilityTo": ["USA", "JPN"]}), tenant="FRA"),
    CheckCase("federation_trusted", {**SECRET_USER, "iss": DEU_ISS}, Document(READABLE)),
]


@pytest.mark.parametrize("case", CHECK_CASES, ids=[f"{case.check}-{i}" for i, case in enumerate(CHECK_CASES)])
def test_document_failing_one_check_is_not_listed_while_its_compliant_twin_is(corpus: Corpus, case: CheckCase):
    corpus.store([case.document, Document(case.twin, resource_id="doc-USA-twin-00001")])
    decisions = corpus.decisions(case.claims, tenant=case.tenant, authenticated=case.authenticated)
    assert case.check in decisions["doc-USA-prop-00000"].failed
    subject = corpus.subject_filter(case.claims, tenant=case.tenant, authenticated=case.authenticated)
    listed = corpus.filtered(subject)
    if isinstance(subject, NoContribution):
        assert (subject.check, listed, decisions["doc-USA-twin-00001"].allow) == (case.check, [], False)
    else:
        assert (listed, decisions["doc-USA-twin-00001"].allow) == (["doc-USA-twin-00001"], True)


def test_strict_coherence_is_the_deciding_tenants_setting(corpus: Corpus):
    corpus.store([Document({**READABLE, "releasabilityTo": ["USA", "JPN"]})])
    assert corpus.decisions(SECRET_USER)["doc-USA-prop-00000"].allow
    assert corpus.filtered(corpus.subject_filter(SECRET_USER)) == ["doc-USA-prop-00000"]
    assert corpus.filtered(corpus.subject_filter(SECRET_USER, tenant="FRA")) == []


def test_upload_releasability_check_never_excludes_a_read(corpus: Corpus):
    """§3.8 applies to uploads only: on `read` it passes even where the country check fails."""
    corpus.store([Document({**READABLE, "releasabilityTo": ["FRA"]}), Document(READABLE, resource_id="doc-b")])
    decisions = corpus.decisions(SECRET_USER)
    assert all(decision.checks["upload_releasability_valid"] for decision in decisions.values())
    assert decisions["doc-USA-prop-00000"].failed == ("country_releasable",)
    assert corpus.filtered(corpus.subject_filter(SECRET_USER)) == ["doc-b"]


def test_subject_that_fails_a_subject_check_contributes_nothing_with_the_policys_reason(corpus: Corpus):
    corpus.store([Document(READABLE)])
    subject = corpus.subject_filter({**SECRET_USER, "iss": UNTRUSTED_ISS})
    assert subject == NoContribution(
        check="federation_trusted",
        message=f"Access denied: your identity provider ({UNTRUSTED_ISS}) is not a trusted issuer of this federation.",
    )
    assert corpus.filtered(subject) == []


def test_max_rank_is_the_lowest_of_clearance_assurance_and_industry_cap(policy_data: dict[str, Any]):
    def max_rank(claims: Mapping[str, object], tenant: str = "USA") -> int:
        subject = compute_subject_filter(claims, authenticated=True, tenant=tenant, now=NOW, data=policy_data)
        assert isinstance(subject, SubjectFilter)
        return subject.max_rank

    top_secret = {**SECRET_USER, "clearance": "STRENG GEHEIM", "countryOfAffiliation": "DEU", "iss": USA_ISS}
    assert max_rank(top_secret) == 4
    assert max_rank({**top_secret, "acr": "1", "amr": ["pwd"]}) == 1  # AAL1 reads U and R only
    assert max_rank(top_secret, tenant="FRA") == 3  # aal_top_secret = 3 and this session is AAL2
    assert max_rank({**top_secret, "amr": ["hwk"]}, tenant="FRA") == 4
    assert max_rank(CONTRACTOR) == 2  # FRA industry cap: CONFIDENTIAL
    assert max_rank({**CONTRACTOR, "countryOfAffiliation": "USA"}, tenant="FRA") == 3  # tenant cap TS, clearance S


# ---------------------------------------------------------------------------------------------------------------
# Pages, order and counts (CONSISTENCY #5)


def _ordering_corpus() -> list[Document]:
    dates = ["2026-01-01T00:00:00Z", "2025-06-01T12:00:00+02:00", ABSENT, "2026-01-01T00:00:00Z", None]
    documents = []
    for index in range(23):
        label = {**READABLE, "classification": LEVELS[index % 3], "creationDate": dates[index % len(dates)]}
        documents.append(Document(_present(label), resource_id=f"doc-USA-page-{(index * 7) % 23:05d}"))
    documents.append(Document({**READABLE, "COI": ["FVEY"]}, resource_id="doc-USA-page-hidden"))
    return documents


def test_pages_concatenate_to_the_unpaginated_result_in_the_stable_order(corpus: Corpus):
    corpus.store(_ordering_corpus())
    subject = corpus.subject_filter(SECRET_USER)
    everything = corpus.filtered(subject)
    by_id = {row.resource_id: row for row in corpus.rows}
    expected = sorted(
        (rid for rid in by_id if rid != "doc-USA-page-hidden"),
        key=lambda rid: (by_id[rid].creation_ts is None, -(by_id[rid].creation_ts or NOW).timestamp(), rid),
    )
    assert everything == expected
    for size in (1, 4, 7, 23):
        pages = [corpus.filtered(subject, limit=size, offset=start) for start in range(0, 30, size)]
        assert [rid for page in pages for rid in page] == everything


def test_count_and_facets_use_the_same_predicate_as_the_list(corpus: Corpus):
    corpus.store(_ordering_corpus())
    subject = corpus.subject_filter(SECRET_USER)
    listed = corpus.filtered(subject)
    with Session(corpus.engine) as session:
        total = session.scalar(visible_count_query(subject))
        facets = {
            value: count for value, count in session.execute(visible_facet_query(subject, Resource.classification))
        }
        nothing = session.scalar(visible_count_query(corpus.subject_filter(SECRET_USER, authenticated=False)))
    assert total == len(listed) == 23
    assert facets == {"UNCLASSIFIED": 8, "RESTRICTED": 8, "CONFIDENTIAL": 7}
    assert nothing == 0
