"""Who may see which cluster's benchmark values: one policy for every page, export, report,
API endpoint and plugin (``portal.privacy.policy``), the region's settings and the recorded
choices to share values beyond the default circle."""
