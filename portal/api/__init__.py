"""The versioned JSON API (``/api/v1``): personal access tokens, problem details, OpenAPI 3.1.

:func:`portal.api.setup.init_api` mounts it; endpoints live in one module per feature and call
the same services as the pages."""
