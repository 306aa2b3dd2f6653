"""`template`, `fetch-log`: from a template name to its status, staging group, log and report, through ports the Azure adapters fill."""
