"""The delivery pipeline: generated workflows and grants, and the bootstrap of its identities."""
