"""Administration routes: users, roles and the audit log (role `admin` only, AUTHZ-02)."""
