"""What PostgreSQL itself enforces, beneath the application's own checks (docs/database.md).

`roles`: the role that owns the schema and the application's role, which may only
read and write rows (DB-04), and the row-level security policies (DB-03).
`access`: whose rows one transaction of the application's role may reach.
"""
