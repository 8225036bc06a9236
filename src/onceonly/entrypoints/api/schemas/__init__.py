"""The API's request and response bodies, one module per feature (OpenAPI 3.1 comes from these)."""
