"""The HTTP API: its routes, request and reply types, and the OpenAPI document."""
