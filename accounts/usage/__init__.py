"""Product usage: the feature catalog, the rollups ingestion maintains, and the usage metrics read from them
(docs/concepts/usage.md, "Usage")."""
