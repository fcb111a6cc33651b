"""Read a git repository: revisions, merge bases, and a folder of a commit exported to disk.

The only package that runs git (a subprocess, like `pg` for PostgreSQL's binaries). Nothing here
writes to the repository or its work tree.
"""
