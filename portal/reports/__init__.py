"""Reports as files: a report page rendered as a PDF, with a cover saying who may read it."""
