"""aib-doctor: explain Azure VM Image Builder failures."""

__version__ = "0.1.0"
