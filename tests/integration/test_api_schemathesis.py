"""Property-based requests from the hub's own OpenAPI schema (schemathesis): no answer is a 5xx.

The schema comes from an app built without stores (building one connects to nothing); each case is
sent to the test's hub, which runs on the real MongoDB wire server. Bounded: a few examples per
operation, no shrinking, so the whole file takes well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from api_support import SCOPE, bearer, submit_smiles
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from api.main import create_app

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_with_a_server_error(case: schemathesis.Case, hub: TestClient) -> None:
    if hub.app.state.index.db["networks"].estimated_document_count() == 0:
        submit_smiles(hub, {"methanol": "CO"})  # something in scope, so lookups can reach real documents
    response = case.call(app=hub.app, headers=bearer([SCOPE]))
    case.validate_response(response, checks=[not_a_server_error])
