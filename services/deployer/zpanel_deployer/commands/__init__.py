"""Pure builders of what runs on a server: docker argv lists and the Compose document."""
