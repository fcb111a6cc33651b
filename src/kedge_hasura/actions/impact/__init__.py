"""`impact`: what a change (two git revisions of the project) does to each role's GraphQL API."""
