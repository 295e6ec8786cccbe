"""Every operation of the API fuzzed from its own OpenAPI document (schemathesis, a fixed seed and budget): valid
and invalid paths, queries, headers and bodies, sent over TCP to the running server. No answer may be a server
error, and every answer must be one the document declares (its status, content type and schema).

Two thirds of the cases go to a published match (the rest keep the generated match_id, nearly always unknown): a filter
request then reaches the core, which refuses a shape the document allows but the match cannot answer (an unknown
player) with a 422, never a 5xx.
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from footy_assets_tests.server.running import AUTH

pytestmark = [pytest.mark.slow, pytest.mark.server]

# cases per operation and mode (valid, invalid): 7 operations x 2 x MAX_EXAMPLES requests in all
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# a third of the cases keep the generated match_id, the rest go to a published match (fv1 has event data)
PUBLISHED = (None, "syn", "fv1")
CONFIG = SchemathesisConfig.from_dict({"seed": 20261202})


# every operation of the document (a test below checks the list is the document's)
OPERATIONS = [
    "GET /healthz",
    "GET /analyses",
    "GET /analyses/{match_id}/schema",
    "GET /analyses/{match_id}/tracking/download",
    "POST /analyses/{match_id}/filters",
    "GET /analyses/{match_id}/events",
    "GET /analyses/{match_id}/lineups",
]


@pytest.fixture(scope="session")
def api(base):
    return schemathesis.openapi.from_url(f"{base}/openapi.json", config=CONFIG)


def test_the_document_lists_every_operation(api):
    assert sorted(op.ok().label for op in api.get_all_operations()) == sorted(OPERATIONS)


@pytest.mark.parametrize(
    "label, mode",
    [
        (label, mode)
        for label in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if label != "GET /healthz" or mode == GenerationMode.POSITIVE  # it takes nothing that could be invalid
    ],
)
def test_no_answer_is_a_server_error_and_each_is_declared(api, base, label, mode):
    operation = api.find_operation_by_label(label)
    sent = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,  # the same cases every run
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case):
        chosen = PUBLISHED[zlib.crc32(repr((case.query, case.body, case.headers)).encode()) % 3]
        if case.path_parameters and "match_id" in case.path_parameters and chosen:
            case.path_parameters["match_id"] = chosen
        response = case.call(base_url=base, headers={**(case.headers or {}), **AUTH}, timeout=120)
        sent.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    send()
    assert sent and all(status < 500 for status in sent)
