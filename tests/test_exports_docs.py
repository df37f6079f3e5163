"""docs/api.md carries a copy of every record shape's JSON Schema: it must be the one the
site publishes. After changing a shape, regenerate the copies (the section "JSON Schemas"
of docs/api.md) from `reports.domain.records.json_schema(shape)`, indented by 2."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from reports.domain import records

DOCS = Path(settings.BASE_DIR) / "docs" / "api.md"


def documented() -> dict[str, dict]:
    blocks = re.findall(r"### `([\w-]+)`\n\n```json\n(.*?)\n```", DOCS.read_text(), re.S)
    return {shape: json.loads(text) for shape, text in blocks}


@pytest.mark.parametrize("shape", list(records.SHAPES))
def test_the_documented_json_schema_is_the_published_one(shape, client):
    published = client.get(f"/api/v1/schemas/{shape}.json").json()
    published.pop("$id")

    assert documented()[shape] == published
