"""Argon2id at OWASP's minimum cost (AUTH-03).

Django's own Argon2 hasher defaults to 100 MiB and 8 lanes; OWASP's floor for
Argon2id is 19 MiB, 2 iterations, 1 lane, which keeps a login affordable on a
small server while staying far beyond what a GPU rig can try per second. The
algorithm name stays "argon2", so Django's `must_update` sees a hash made with
other parameters and `check_password` rewrites it at the next successful login.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

OWASP_TIME_COST = 2
OWASP_MEMORY_KIB = 19 * 1024
OWASP_PARALLELISM = 1


class Argon2idHasher(Argon2PasswordHasher):
    """The first entry of PASSWORD_HASHERS: every new hash is made with these parameters."""

    time_cost = OWASP_TIME_COST
    memory_cost = OWASP_MEMORY_KIB
    parallelism = OWASP_PARALLELISM
