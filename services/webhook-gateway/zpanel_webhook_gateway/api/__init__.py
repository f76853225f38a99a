"""The gateway's HTTP surface: one router per resource (see /work/notes/api.md for the route table)."""
