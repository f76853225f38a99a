"""The builder stage: fetch a repository at an exact commit and turn it into an image."""
