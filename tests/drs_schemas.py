"""The parts of the GA4GH DRS 1.5 OpenAPI schemas the hub answers with, as JSON Schema (draft 2020-12).

Transcribed from the spec's components (DrsObject, Checksum, AccessMethod, AccessURL, ContentsObject,
Error, the bulk object and bulk access responses, and service-info with its ``drs`` section).
"""

from __future__ import annotations

from typing import Any

ACCESS_URL: dict[str, Any] = {
    "type": "object",
    "required": ["url"],
    "properties": {"url": {"type": "string"}, "headers": {"type": "array", "items": {"type": "string"}}},
}

ACCESS_METHOD: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["s3", "gs", "ftp", "gsiftp", "globus", "htsget", "https", "file"],
        },
        "access_url": ACCESS_URL,
        "access_id": {"type": "string"},
        "cloud": {"type": "string"},
        "region": {"type": "string"},
        "available": {"type": "boolean"},
        "authorizations": {"type": "object"},
    },
    "anyOf": [{"required": ["access_url"]}, {"required": ["access_id"]}],
}

CHECKSUM: dict[str, Any] = {
    "type": "object",
    "required": ["checksum", "type"],
    "properties": {"checksum": {"type": "string"}, "type": {"type": "string"}},
}

CONTENTS_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "id": {"type": "string"},
        "drs_uri": {"type": "array", "items": {"type": "string", "pattern": "^drs://"}},
        "contents": {"type": "array"},
    },
}

DRS_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "self_uri", "size", "created_time", "checksums"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "self_uri": {"type": "string", "pattern": "^drs://[^/:]+/.+$"},  # hostname-based, no port
        "size": {"type": "integer", "minimum": 0},
        "created_time": {"type": "string", "format": "date-time"},
        "updated_time": {"type": "string", "format": "date-time"},
        "version": {"type": "string"},
        "mime_type": {"type": "string"},
        "checksums": {"type": "array", "minItems": 1, "items": CHECKSUM},
        "access_methods": {"type": "array", "minItems": 1, "items": ACCESS_METHOD},
        "contents": {"type": "array", "items": CONTENTS_OBJECT},
        "description": {"type": "string"},
        "aliases": {"type": "array", "items": {"type": "string"}},
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["msg", "status_code"],
    "properties": {"msg": {"type": "string"}, "status_code": {"type": "integer"}},
}

BULK_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["resolved_drs_object"],
    "properties": {
        "summary": {
            "type": "object",
            "properties": {k: {"type": "integer"} for k in ("requested", "resolved", "unresolved")},
        },
        "unresolved_drs_objects": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "error_code": {"type": "integer"},
                    "object_ids": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "resolved_drs_object": {"type": "array", "items": DRS_OBJECT},
    },
}

BULK_ACCESS_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["resolved_drs_object_access_urls"],
    "properties": {
        "summary": BULK_RESPONSE["properties"]["summary"],
        "unresolved_drs_objects": BULK_RESPONSE["properties"]["unresolved_drs_objects"],
        "resolved_drs_object_access_urls": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url"],
                "properties": {
                    "drs_object_id": {"type": "string"},
                    "drs_access_id": {"type": "string"},
                    **ACCESS_URL["properties"],
                },
            },
        },
    },
}

SERVICE_INFO: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "type", "organization", "version"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "type": {
            "type": "object",
            "required": ["group", "artifact", "version"],
            "properties": {
                "group": {"const": "org.ga4gh"},
                "artifact": {"const": "drs"},
                "version": {"type": "string"},
            },
        },
        "organization": {
            "type": "object",
            "required": ["name", "url"],
            "properties": {"name": {"type": "string"}, "url": {"type": "string"}},
        },
        "version": {"type": "string"},
        "drs": {"type": "object", "properties": {"maxBulkRequestLength": {"type": "integer"}}},
    },
}

AUTHORIZATIONS: dict[str, Any] = {
    "type": "object",
    "required": ["supported_types"],
    "properties": {
        "drs_object_id": {"type": "string"},
        "supported_types": {
            "type": "array",
            "items": {"type": "string", "enum": ["None", "BasicAuth", "BearerAuth", "PassportAuth"]},
        },
        "passport_auth_issuers": {"type": "array", "items": {"type": "string"}},
        "bearer_auth_issuers": {"type": "array", "items": {"type": "string"}},
    },
}
